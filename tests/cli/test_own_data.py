"""Users' own handwriting, end to end as a user runs it: PAGE-XML 2013 (Transkribus layout), ALTO v4 and a
line folder each train one epoch through ``seqlab train data=...``; the pages are transcribed back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from seqlab.checkpoint import read_checkpoint
from seqlab.cli.make_synthetic import main as make_synthetic
from seqlab.cli.transcribe import main as transcribe
from seqlab.data.readers.alto import NAMESPACES as ALTO_NS
from seqlab.data.readers.alto import parse_alto
from seqlab.data.readers.page import NAMESPACES as PAGE_NS
from seqlab.data.readers.page import parse_page
from seqlab.data.readers.xml import local
from tests.cli.test_train import run_train


def train(tmp: Path, fmt: str) -> tuple[Path, Path]:
    corpus = tmp / fmt
    assert make_synthetic(["pages", "--format", fmt, "--out", str(corpus), "--num-pages", "8",
                           "--lines-per-page", "3", "--height", "32"]) == 0
    run_dir = tmp / f"run-{fmt}"
    proc = run_train(f"data={fmt}", f"data.root={corpus}", "data.height=24", "data.num_workers=0",
                     "data.unknown_symbols=replace", "data.batch_size=4", "trainer.max_epochs=1",
                     "model.encoder.hidden_size=16", "model.encoder.num_layers=1", f"hydra.run.dir={run_dir}",
                     cwd=tmp)
    assert "test/cer=" in proc.stdout
    return corpus, run_dir / "checkpoints" / "best.ckpt"


@pytest.fixture(scope="module")
def page_run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("page"), "page")


@pytest.fixture(scope="module")
def alto_run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("alto"), "alto")


def test_a_transkribus_page_corpus_trains_and_its_pages_come_back_filled(page_run, tmp_path: Path, capsys):
    corpus, ckpt = page_run
    info = read_checkpoint(ckpt)["seqlab"]
    assert info["data"]["corpus"]["reader"] == "PageXMLReader" and info["data"]["text"] == {"form": "NFC",
                                                                                              "bidi": False}
    out = corpus / "page-filled"  # beside page/: the images the pages name are found in the parent folder
    assert transcribe([str(ckpt), str(corpus / "page"), "--pages-out", str(out), "--no-progress"]) == 0
    printed = [json.loads(row) for row in capsys.readouterr().out.splitlines()]
    assert len(printed) == 24 and printed[0]["id"] == "page0001.xml/l1"
    for src in sorted((corpus / "page").glob("*.xml")):
        filled = out / src.name
        root = etree.parse(str(filled)).getroot()
        assert etree.QName(root).namespace == PAGE_NS["2013"]
        lines = [e for e in root.iter() if local(e) == "TextLine"]
        for line in lines:  # every line has exactly one TextEquiv, with conf and Unicode, in schema order
            (te,) = [c for c in line if local(c) == "TextEquiv"]
            assert 0.0 <= float(te.get("conf")) <= 1.0 and [local(c) for c in te] == ["Unicode"]
            assert [local(c) for c in line] == ["Coords", "Baseline", "TextEquiv"]
        doc = parse_page(filled)
        assert len(doc.lines) == len(lines) == 3 and doc.image == corpus / f"{src.stem}.png"


def test_an_alto_corpus_trains_and_its_pages_come_back_filled(alto_run, tmp_path: Path, capsys):
    corpus, ckpt = alto_run
    out = tmp_path / "filled"
    assert transcribe([str(ckpt), str(corpus), "--pages-out", str(out), "--no-progress", "--format", "txt"]) == 0
    texts = capsys.readouterr().out.splitlines()
    assert len(texts) == 24
    for src in sorted(corpus.glob("*.xml")):
        root = etree.parse(str(out / src.name)).getroot()
        assert etree.QName(root).namespace == ALTO_NS["v4"]
        for line in [e for e in root.iter() if local(e) == "TextLine"]:
            names = [local(c) for c in line]
            assert names[0] == "Shape" and names.count("String") >= 1
            assert all(0 <= float(s.get("WC")) <= 1 for s in line if local(s) == "String")
            assert all(n == "SP" for n in names[2::2])  # String SP String ...
        assert len(parse_alto(out / src.name).lines) == 3


def test_a_line_folder_trains_and_transcribes(tmp_path: Path, capsys):
    corpus, ckpt = train(tmp_path, "lines")
    capsys.readouterr()
    assert transcribe([str(ckpt), str(corpus), "--no-progress"]) == 0
    rows = [json.loads(r) for r in capsys.readouterr().out.splitlines()]
    assert len(rows) == 24 and rows[0]["id"] == "page0001/01.png"


def test_page_problems_are_named_and_the_rest_filled(page_run, tmp_path: Path, capsys):
    corpus, ckpt = page_run
    pages = tmp_path / "pages"
    shutil.copytree(corpus / "page", pages)
    (pages / "mets.xml").write_text('<mets xmlns="http://www.loc.gov/METS/"/>')
    (pages / "page0002.xml").write_text((pages / "page0002.xml").read_text().replace('imageFilename="page0002.png"',
                                                                                    'imageFilename="lost.png"'))
    for name in ("page0001.png", "page0003.png"):  # the images the pages name, found in the parent folder
        shutil.copy(corpus / name, tmp_path / name)
    out = tmp_path / "filled"
    assert transcribe([str(ckpt), str(pages / "page0001.xml"), str(pages / "page0002.xml"), str(pages / "mets.xml"),
                       "--pages-out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "page0002.xml: the page image 'lost.png' is missing" in err
    assert "mets.xml: the root element is <mets>" in err
    assert sorted(p.name for p in out.iterdir()) == ["page0001.xml"]
    assert transcribe([str(ckpt), str(pages / "page0001.xml"), "--pages-out", str(pages)]) == 2
    assert "is the input page itself" in capsys.readouterr().err


def test_evaluate_scores_the_training_runs_test_pages_and_warns_on_another_split(page_run, tmp_path: Path):
    import subprocess
    import sys

    corpus, ckpt = page_run
    common = [sys.executable, "-m", "seqlab", "evaluate", f"checkpoint={ckpt}", "data=page", f"data.root={corpus}",
              "data.glob=page/*.xml", "data.height=24", "data.unknown_symbols=replace", "data.num_workers=0",
              "bootstrap=10"]  # (page-filled/ beside page/ holds the pages another test filled in)
    proc = subprocess.run([*common, f"report.dir={tmp_path / 'same'}"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((tmp_path / "same" / "report.json").read_text())
    assert len(report["utterances"]) == 3  # the 8-page corpus: one test page of 3 lines
    assert "may include training lines" not in proc.stdout + proc.stderr
    assert list((tmp_path / "same").rglob("*.png"))  # the worst lines, cut out of their pages
    proc = subprocess.run([*common, "data.split_seed=7", f"report.dir={tmp_path / 'other'}"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and "may include training lines" in proc.stdout + proc.stderr
