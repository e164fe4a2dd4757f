import logging
from pathlib import Path

import pytest
import torch

from seqlab.data import IAMDataModule
from seqlab.data.readers.iam import parse_lines_row, read_id_list, read_lines_txt
from seqlab.errors import ConfigError, DataFormatError, UnknownSymbolError

from tests.conftest import write_iam


def test_parse_row_real_example():
    line = parse_lines_row("a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from", "lines.txt:24")
    assert line.text == "A MOVE to stop Mr. Gaitskell from"
    assert (line.status, line.graylevel, line.bbox) == ("ok", 154, (408, 746, 1661, 89))
    assert (line.form, line.writer_folder) == ("a01-000u", "a01")


@pytest.mark.parametrize(
    "row, message",
    [
        ("a01-000u-00 ok 154 19 408 746", r"lines.txt:3: expected 9 fields .* got 6"),
        ("a01-000u-00 maybe 154 19 408 746 1661 89 A|b", r"status must be 'ok' or 'err'"),
        ("a01-000u-00 ok 15x 19 408 746 1661 89 A|b", r"must be integers"),
        ("a01000u00 ok 154 19 408 746 1661 89 A|b", r"not of the form"),
    ],
)
def test_parse_row_errors_name_file_and_line(row, message):
    with pytest.raises(DataFormatError, match=message):
        parse_lines_row(row, "lines.txt:3")


def test_reader_skips_comments_keeps_err_and_reports_bad_rows(tmp_path: Path):
    p = tmp_path / "lines.txt"
    p.write_bytes(
        b"# comment line\n"
        b"a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to\n"
        b"a01-000u-01 err 154 19 408 746 1661 89 It|'s|.\n"
        b"a01-000u-02 ok 154 19\n"
        b"\n"
        b"a01-000u-03 ok 154 19 408 746 1661 89 caf\xe9\n"
        b"a01-000u-00 ok 154 19 408 746 1661 89 again\n"
    )
    lines, problems = read_lines_txt(p)
    assert list(lines) == ["a01-000u-00", "a01-000u-01"]
    assert lines["a01-000u-01"].text == "It 's ."
    assert len(problems) == 3
    assert f"{p}:4: expected 9 fields" in problems[0]
    assert f"{p}:6: not UTF-8" in problems[1]
    assert "duplicate line id" in problems[2]


def test_missing_files_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="ascii/lines.txt"):
        read_lines_txt(tmp_path / "ascii" / "lines.txt")
    with pytest.raises(ConfigError, match="split list not found"):
        read_id_list(tmp_path / "nope.txt")


def test_datamodule_reads_tiny_corpus(tiny_iam: Path):
    dm = IAMDataModule(root=str(tiny_iam), height=24, batch_size=4)
    dm.setup()
    assert {s: len(d) for s, d in dm.datasets.items()} == {"train": 12, "val": 2, "test": 2}
    assert "|" not in dm.alphabet.symbols and " " in dm.alphabet.symbols
    batch = next(iter(dm.train_dataloader()))
    assert batch.inputs.shape[:3] == (4, 1, 24)
    assert batch.inputs.shape[3] == int(batch.input_lengths.max())
    # ink is 1, paper is ~0, padding is exactly 0
    i = int(batch.input_lengths.argmin())
    assert batch.inputs[i, :, :, batch.input_lengths[i]:].abs().sum() == 0
    assert batch.inputs.max() > 0.5
    assert dm.alphabet.decode(batch.targets[: batch.target_lengths[0]].tolist()) == batch.texts[0]


def test_corrupt_png_and_bad_rows_are_skipped_with_a_count(tiny_iam: Path, caplog):
    bad = tiny_iam / "lines/a01/a01-000u/a01-000u-03.png"
    bad.write_bytes(bad.read_bytes()[:60])  # truncated PNG
    with open(tiny_iam / "ascii/lines.txt", "a") as f:
        f.write("a01-000u-99 ok 154 19\n")
    with open(tiny_iam / "trainset.txt", "a") as f:
        f.write("a01-000u-99\n")
    dm = IAMDataModule(root=str(tiny_iam), height=24)
    with caplog.at_level(logging.WARNING):
        dm.setup()
    assert len(dm.datasets["train"]) == 11  # 12 lines, one corrupt; the malformed row was extra
    text = caplog.text
    assert "a01-000u-03.png" in text and "not a readable image" in text
    assert "lines.txt:" in text and "expected 9 fields" in text
    # one counted summary per cause: a malformed row, a listed line lines.txt lacks, an unreadable image
    assert text.count("skipped 1 item(s)") == 3 and "a01-000u-99 is not in ascii/lines.txt" in text


def test_corrupt_after_setup_is_skipped_in_the_batch(tiny_iam: Path):
    dm = IAMDataModule(root=str(tiny_iam), height=24, batch_size=16)
    dm.setup()
    (tiny_iam / "lines/a01/a01-000u/a01-000u-05.png").write_bytes(b"\x89PNG garbage")
    batch = next(iter(dm.train_dataloader()))
    assert len(batch) == 11 and len(batch.skipped) == 1
    assert "a01-000u-05.png" in batch.skipped[0]


def test_unknown_symbol_in_test_split_names_the_line(tmp_path: Path):
    root = write_iam(tmp_path, {"train": [("a01-000-00", "abc")], "val": [("a01-000-01", "ab")],
                                "test": [("a01-000-02", "abz")]})
    with pytest.raises(UnknownSymbolError, match=r"lines.txt:\d+ \(a01-000-02\).*'z'"):
        IAMDataModule(root=str(root), height=24).setup()
    dm = IAMDataModule(root=str(root), height=24, unknown_symbols="skip")
    dm.setup()
    assert len(dm.datasets["test"]) == 0
    dm = IAMDataModule(root=str(root), height=24, unknown_symbols="replace", replacement_symbol="?")
    dm.setup()
    assert dm.datasets["test"].records[0].text == "abz" and "?" in dm.alphabet


def test_jpeg_and_grey_16bit_inputs(tmp_path: Path):
    root = write_iam(tmp_path, {"train": [("a01-000-00", "abc"), ("a01-000-01", "cab")],
                                "val": [("a01-000-02", "ab")], "test": [("a01-000-03", "ba")]})
    from PIL import Image
    png = root / "lines/a01/a01-000/a01-000-01.png"
    Image.open(png).convert("RGB").save(png.with_suffix(".jpg"), quality=90)
    png.unlink()
    dm = IAMDataModule(root=str(root), height=20)
    dm.setup()
    x = dm.datasets["train"][1].input
    assert x.shape[:2] == (1, 20) and x.dtype == torch.float32


def test_err_lines_and_comment_rows_are_handled(tiny_iam: Path):
    text = (tiny_iam / "ascii/lines.txt").read_text()
    assert text.startswith("#") and " err " in text
    dm = IAMDataModule(root=str(tiny_iam), height=24)
    dm.setup()
    ids = {r.id for r in dm.datasets["train"].records}
    assert {"a01-000u-02", "a01-000u-05"} <= ids  # status err: the transcription is still valid
    assert dm.metrics == ("cer", "wer", "wer_joined")


def _set_graylevel(root: Path, line_id: str, graylevel: int) -> None:
    p = root / "ascii/lines.txt"
    rows = [
        r.replace(" 154 ", f" {graylevel} ", 1) if r.startswith(line_id + " ") else r
        for r in p.read_text().splitlines()
    ]
    p.write_text("\n".join(rows) + "\n")


def test_binarisation_uses_each_lines_graylevel(tiny_iam: Path):
    _set_graylevel(tiny_iam, "a01-000u-00", 0)  # nothing is darker than 0: no ink at all
    _set_graylevel(tiny_iam, "a01-000u-01", 255)  # everything but pure white is ink
    dm = IAMDataModule(root=str(tiny_iam), height=24, binarise=True)
    dm.setup()
    ds = dm.datasets["train"]
    by_id = {s.id: s.input for s in (ds[i] for i in range(len(ds)))}
    assert by_id["a01-000u-00"].max() == 0
    assert by_id["a01-000u-01"].min() > 0.9
    at_154 = by_id["a01-000u-03"]
    assert 0.01 < at_154.mean() < 0.5  # ink strokes on paper
    assert dm.checkpoint_data()["frontend"]["binarise"] is True
    plain = IAMDataModule(root=str(tiny_iam), height=24)
    plain.setup()
    assert plain.checkpoint_data()["frontend"] == {"type": "image", "height": 24, "invert": True, "max_width": 0,
                                                   "binarise": False, "deslant": False}


def test_deslant_option_reaches_the_loader(tiny_iam: Path):
    dm = IAMDataModule(root=str(tiny_iam), height=24, deslant=True)
    dm.setup()
    x = dm.datasets["val"][0].input
    assert x.shape[:2] == (1, 24) and 0 <= x.min() and x.max() <= 1


def test_augmentation_distorts_the_training_split_only(tiny_iam: Path):
    from seqlab.data.augment import LineAugmentation

    aug = LineAugmentation(probability=1.0, elastic=1.0, seed=1)
    dm = IAMDataModule(root=str(tiny_iam), height=24, augmentation=aug)
    dm.setup()
    plain = IAMDataModule(root=str(tiny_iam), height=24)
    plain.setup()
    for split in ("val", "test"):
        assert torch.equal(dm.datasets[split][0].input, plain.datasets[split][0].input)
    a, b = dm.datasets["train"][0].input, plain.datasets["train"][0].input
    assert a.shape[1] == b.shape[1] == 24
    assert a.shape != b.shape or not torch.equal(a, b)


def test_grey_jpeg_and_png_lines(tmp_path: Path):
    from PIL import Image

    root = write_iam(tmp_path, {"train": [("a01-000-00", "abc"), ("a01-000-01", "cab")],
                                "val": [("a01-000-02", "ab")], "test": [("a01-000-03", "ba")]})
    png = root / "lines/a01/a01-000/a01-000-01.png"
    Image.open(png).save(png.with_suffix(".jpg"), quality=90)  # mode "L": a grey JPEG
    reference = Image.open(png).copy()
    png.unlink()
    dm = IAMDataModule(root=str(root), height=20, binarise=True, deslant=True)
    dm.setup()
    grey_jpeg, grey_png = dm.datasets["train"][1], dm.datasets["train"][0]
    assert grey_jpeg.source.endswith(".jpg") and grey_png.source.endswith(".png")
    assert Image.open(grey_jpeg.source).mode == "L" and reference.mode == "L"
    assert grey_jpeg.input.shape[:2] == grey_png.input.shape[:2] == (1, 20)


def test_very_wide_line_loads_and_max_width_squeezes_it(tmp_path: Path):
    from PIL import Image, ImageDraw

    from seqlab.data.batch import collate
    from seqlab.nn.crnn import CRNNEncoder

    root = write_iam(tmp_path, {"train": [("a01-000-00", "abc"), ("a01-000-01", "cab")],
                                "val": [("a01-000-02", "ab")], "test": [("a01-000-03", "ba")]})
    wide = Image.new("L", (6000, 32), 230)
    ImageDraw.Draw(wide).line([(5, 16), (5995, 16)], fill=20, width=3)
    wide.save(root / "lines/a01/a01-000/a01-000-01.png")
    dm = IAMDataModule(root=str(root), height=32, batch_size=2)
    dm.setup()
    records = {r.id: r for r in dm.datasets["train"].records}
    assert records["a01-000-01"].length == 6000
    batch = collate([dm.datasets["train"][0], dm.datasets["train"][1]])
    assert batch.inputs.shape[-1] == 6000
    enc = CRNNEncoder(input_size=32, channels=(2, 2), pool=((2, 2), (2, 2)), hidden_size=4, num_layers=1).eval()
    with torch.no_grad():
        features, lengths = enc(batch.inputs, batch.input_lengths)
    assert features.shape[1] == 1500 and int(lengths.max()) == 1500

    squeezed = IAMDataModule(root=str(root), height=32, max_width=2000)
    squeezed.setup()
    assert squeezed.datasets["train"][1].input.shape == (1, 32, 2000)
