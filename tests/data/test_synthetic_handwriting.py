"""Tests of seqlab.data.synthetic_handwriting: the IAM-layout synthetic corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seqlab.data import synthetic_handwriting as sh
from seqlab.data.synthetic_handwriting import (
    SPLIT_FILES,
    generate_handwriting_corpus,
    iam_tokenise,
    render_line,
)
from seqlab.errors import ConfigError, DataFormatError

SMALL = dict(num_train=24, num_val=8, num_test=8, height=32, seed=11)
TINY = dict(num_train=6, num_val=2, num_test=2, height=24, seed=3)


def _parse_lines_txt(path: Path) -> dict[str, dict]:
    """A tiny independent reader of IAM's lines.txt."""
    rows: dict[str, dict] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#"):
            continue
        fields = line.split(" ")
        assert len(fields) == 9, f"lines.txt:{number}: expected 9 fields, got {len(fields)}"
        line_id, status, *numbers, transcription = fields
        rows[line_id] = {
            "status": status,
            "numbers": [int(n) for n in numbers],
            "transcription": transcription,
        }
    return rows


def _image_path(root: Path, line_id: str) -> Path:
    form = line_id.rsplit("-", 1)[0]
    return root / "lines" / form[:3] / form / f"{line_id}.png"


def _split_ids(root: Path) -> dict[str, list[str]]:
    return {split: (root / name).read_text().split() for split, name in SPLIT_FILES.items()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return generate_handwriting_corpus(tmp_path_factory.mktemp("synth") / "iam", **SMALL)


def test_layout_and_file_names(corpus):
    rows = _parse_lines_txt(corpus / "ascii" / "lines.txt")
    assert len(rows) == 40
    for line_id in rows:
        assert re.fullmatch(r"s\d\d-\d{3}-\d\d", line_id), line_id
        assert _image_path(corpus, line_id).is_file(), line_id
    pngs = sorted(p.stem for p in (corpus / "lines").rglob("*.png"))
    assert pngs == sorted(rows)
    forms: dict[str, int] = {}
    for line_id in rows:
        form = line_id.rsplit("-", 1)[0]
        forms[form] = forms.get(form, 0) + 1
    assert max(forms.values()) <= 12
    assert (corpus / ".complete").is_file()
    assert not list(corpus.parent.glob("*.tmp-*")), "temporary folder left behind"


def test_lines_txt_format(corpus):
    text = (corpus / "ascii" / "lines.txt").read_text(encoding="utf-8")
    assert text.startswith("#")
    rows = _parse_lines_txt(corpus / "ascii" / "lines.txt")
    assert {r["status"] for r in rows.values()} <= {"ok", "err"}
    for line_id, row in rows.items():
        graylevel, n_components, x, y, w, h = row["numbers"]
        assert 0 < graylevel < 255 and n_components > 0 and w > 0 and h > 0 and x >= 0 and y >= 0
        tokens = row["transcription"].split("|")
        assert all(tokens), line_id
        for token in tokens:
            # Punctuation is a token of its own (abbreviations such as "Mr." aside).
            assert len(token) == 1 or token[-1] not in ",?!'" and (token[-1] != "." or token in {"Mr.", "Mrs.", "Dr."})


def test_images_are_grey_level_fixed_height_dark_on_light(corpus):
    rows = _parse_lines_txt(corpus / "ascii" / "lines.txt")
    for line_id, row in rows.items():
        with Image.open(_image_path(corpus, line_id)) as image:
            assert image.mode == "L"
            assert image.height == SMALL["height"]
            pixels = np.asarray(image)
        n_chars = len(row["transcription"])
        assert image.width > image.height and image.width > n_chars  # wide enough to read
        assert np.median(pixels) > 150 and pixels.min() < 110, line_id


def test_splits_partition_the_lines_and_share_no_text(corpus):
    rows = _parse_lines_txt(corpus / "ascii" / "lines.txt")
    splits = _split_ids(corpus)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [24, 8, 8]
    assert sorted(sum(splits.values(), [])) == sorted(rows)
    forms = {s: {i.rsplit("-", 1)[0] for i in ids} for s, ids in splits.items()}
    assert not forms["train"] & (forms["val"] | forms["test"]), "a form spans two splits"
    texts = {s: [rows[i]["transcription"] for i in ids] for s, ids in splits.items()}
    all_texts = sum(texts.values(), [])
    assert len(set(all_texts)) == len(all_texts)
    assert not set(texts["train"]) & (set(texts["val"]) | set(texts["test"]))


def test_same_seed_same_bytes(corpus, tmp_path):
    again = generate_handwriting_corpus(tmp_path / "again", **SMALL)
    lines_txt = (corpus / "ascii" / "lines.txt").read_bytes()
    assert (again / "ascii" / "lines.txt").read_bytes() == lines_txt
    for line_id in _split_ids(corpus)["test"][:3] + _split_ids(corpus)["train"][:3]:
        assert _image_path(again, line_id).read_bytes() == _image_path(corpus, line_id).read_bytes()
    other = generate_handwriting_corpus(tmp_path / "other", **{**SMALL, "seed": 12})
    assert (other / "ascii" / "lines.txt").read_bytes() != lines_txt


def test_workers_do_not_change_the_output(tmp_path):
    one = generate_handwriting_corpus(tmp_path / "one", **TINY, workers=1)
    two = generate_handwriting_corpus(tmp_path / "two", **TINY, workers=2)
    assert (one / "ascii" / "lines.txt").read_bytes() == (two / "ascii" / "lines.txt").read_bytes()
    for png in (one / "lines").rglob("*.png"):
        assert (two / png.relative_to(one)).read_bytes() == png.read_bytes()


def test_complete_corpus_is_returned_without_regenerating(corpus, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(sh, "_render_to_file", fail)
    assert generate_handwriting_corpus(corpus, **SMALL) == corpus
    marker = json.loads((corpus / ".complete").read_text())
    assert marker["params"]["seed"] == SMALL["seed"]
    with pytest.raises(ConfigError, match="other parameters"):
        generate_handwriting_corpus(corpus, **{**SMALL, "num_train": 25})


def test_incomplete_folder_is_refused(tmp_path):
    out = tmp_path / "half"
    (out / "lines").mkdir(parents=True)
    with pytest.raises(ConfigError, match=re.escape(str(out)) + ".*delete it"):
        generate_handwriting_corpus(out, **TINY)


def test_empty_folder_is_filled(tmp_path):
    (tmp_path / "empty").mkdir()
    out = generate_handwriting_corpus(tmp_path / "empty", **TINY)
    assert (out / ".complete").is_file()


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    real = sh._render_to_file
    calls = []

    def interrupt_after_three(job, **kwargs):
        calls.append(job)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return real(job, **kwargs)

    monkeypatch.setattr(sh, "_render_to_file", interrupt_after_three)
    with pytest.raises(KeyboardInterrupt):
        generate_handwriting_corpus(tmp_path / "out", **TINY)
    assert list(tmp_path.iterdir()) == []


def test_builtin_font_is_an_explicit_choice(tmp_path):
    with pytest.warns(UserWarning, match="built-in font"):
        out = generate_handwriting_corpus(tmp_path / "plain", **TINY, fonts=[])
    line_id = _split_ids(out)["train"][0]
    with Image.open(_image_path(out, line_id)) as image:
        assert image.mode == "L" and image.height == TINY["height"]
    assert json.loads((out / ".complete").read_text())["params"]["fonts"] == []


def test_default_fonts_ship_with_the_package():
    """The default corpus never depends on what fonts the machine has: every
    default font is a file inside the package, loads, and has its licence beside it."""
    assert len(sh.DEFAULT_FONTS) == 12
    licences = {p.stem for p in (sh.FONT_DIR / "licenses").glob("*.txt")}
    for path in sh.DEFAULT_FONTS:
        assert Path(path).parent == sh.FONT_DIR and Path(path).is_file()
        assert sh._font(path, 20).getlength("Hello") > 0
        assert any(Path(path).name.startswith(family) for family in licences), f"no licence for {path}"
    assert sh.resolve_fonts(None) == list(sh.DEFAULT_FONTS)


def test_corpus_key_covers_font_content(tmp_path):
    """Two fonts with the same name but other content make other corpora."""
    a, b = tmp_path / "a" / "Kristi.ttf", tmp_path / "b" / "Kristi.ttf"
    for path, source in ((a, "Kristi.ttf"), (b, "DejaVuSans.ttf")):
        path.parent.mkdir()
        path.write_bytes((sh.FONT_DIR / source).read_bytes())
    assert sh.font_fingerprint([str(a)])[0][0] == sh.font_fingerprint([str(b)])[0][0] == "Kristi.ttf"
    assert sh.font_fingerprint([str(a)]) != sh.font_fingerprint([str(b)])
    # the same content elsewhere (another install) is the same key
    assert sh.font_fingerprint([str(a)]) == sh.font_fingerprint([str(sh.FONT_DIR / "Kristi.ttf")])


def test_a_missing_packaged_font_says_to_reinstall(monkeypatch, tmp_path):
    monkeypatch.setattr(sh, "DEFAULT_FONTS", (str(tmp_path / "Gone.ttf"),))
    with pytest.raises(ConfigError, match="Gone.ttf.*reinstall"):
        sh.resolve_fonts(None)


def test_missing_font_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no-such-font.ttf"):
        generate_handwriting_corpus(tmp_path / "x", **TINY, fonts=[str(tmp_path / "no-such-font.ttf")])


def test_bad_arguments_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="height"):
        generate_handwriting_corpus(tmp_path / "x", **{**TINY, "height": 4})
    with pytest.raises(ConfigError, match="workers"):
        generate_handwriting_corpus(tmp_path / "x", **TINY, workers=0)


@pytest.mark.parametrize("fonts", [(), None])
def test_render_line_shape(fonts):
    fonts = sh.DEFAULT_FONTS if fonts is None else fonts
    image, meta = render_line("It's late, Mr. Brown.", height=40, rng=np.random.default_rng(0), fonts=fonts)
    assert image.dtype == np.uint8 and image.ndim == 2 and image.shape[0] == 40
    assert image.shape[1] > 40
    assert set(meta) == {"graylevel", "n_components", "w", "h"}


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("tomorrow.", "tomorrow|."),
        ("Gaitskell, M P", "Gaitskell|,|M|P"),
        ("It's", "It|'s"),
        ("don't", "do|n't"),
        ("can't stop", "ca|n't|stop"),
        ("I'm sure we'll", "I|'m|sure|we|'ll"),
        ("'Yes,' he said.", "'|Yes|,|'|he|said|."),
        ("'Where's the key?' asked John.", "'|Where|'s|the|key|?|'|asked|John|."),
        ("A MOVE to stop Mr. Gaitskell from", "A|MOVE|to|stop|Mr.|Gaitskell|from"),
        ("at 5 o'clock in 1962!", "at|5|o'clock|in|1962|!"),
        ("Mrs. Hill,", "Mrs.|Hill|,"),
        ("  spaced   out  ", "spaced|out"),
    ],
)
def test_iam_tokenise(text, tokens):
    assert iam_tokenise(text) == tokens


def test_iam_tokenise_rejects_the_separator():
    with pytest.raises(DataFormatError, match="'\\|'"):
        iam_tokenise("a|b")
