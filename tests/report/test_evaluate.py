"""seqlab evaluate end to end, on real checkpoints trained through seqlab train.

The report's numbers are checked against an independent recomputation from
the references and hypotheses it lists (editdistance and numpy, none of the
report's code), and against the test metrics the training run itself wrote.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import editdistance
import numpy as np
import pytest
import torch
from PIL import Image

from seqlab.metrics import join_tokens
from seqlab.text.phones import fold_39
from tests.cli.test_train import run_train
from tests.conftest import write_iam
from tests.data.speech_corpora import make_timit

WORDS = ["the cat", "a dog ran", "to stop", "red box", "go home", "it is", "we sat", "on top"]

# the units of each metric, written out here rather than taken from seqlab.report
UNITS = {"cer": list, "wer": str.split, "wer_joined": join_tokens, "per": fold_39}


def run_evaluate(*overrides: str, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "seqlab", "evaluate", *overrides]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def iam_run(tmp_path_factory) -> dict:
    """A tiny IAM-layout corpus (30 test lines by 4 writers), a model trained on it for 3 epochs,
    and a second, worse checkpoint (the same weights with noise) to compare with."""
    tmp = tmp_path_factory.mktemp("iam_run")
    splits = {
        "train": [(f"a01-000u-{i:02d}", WORDS[i % len(WORDS)]) for i in range(24)],
        "val": [(f"b02-001-{i:02d}", WORDS[(i + 3) % len(WORDS)]) for i in range(6)],
        "test": [(f"c{i % 4:02d}-002x-{i:02d}", WORDS[(i + 5) % len(WORDS)]) for i in range(30)],
    }
    iam = write_iam(tmp / "iam", splits, height=32)
    run = tmp / "run"
    run_train(
        "data=iam", f"data.root={iam}", "data.height=24", "data.num_workers=0", "trainer.max_epochs=3",
        "model.encoder.hidden_size=16", "model.encoder.num_layers=1", f"hydra.run.dir={run}", cwd=tmp,
    )
    best = run / "checkpoints" / "best.ckpt"
    ckpt = torch.load(best, weights_only=True)
    gen = torch.Generator().manual_seed(0)
    for k, v in ckpt["state_dict"].items():
        if v.is_floating_point():
            ckpt["state_dict"][k] = v + 0.5 * torch.randn(v.shape, generator=gen)
    noisy = run / "checkpoints" / "noisy.ckpt"
    torch.save(ckpt, noisy)
    proc = run_evaluate(f"checkpoint={best}", f"compare={noisy}", "data=iam", f"data.root={iam}",
                        "data.height=24", "data.num_workers=0", "worst=5", "bootstrap=300", "seed=1", cwd=tmp)
    return {"tmp": tmp, "run": run, "iam": iam, "best": best, "noisy": noisy, "proc": proc,
            "report": run / "report-test"}


def load(report_dir: Path) -> dict:
    return json.loads((report_dir / "report.json").read_text())


def test_report_files_land_next_to_the_checkpoint(iam_run):
    out = iam_run["report"]
    assert f"report: {out / 'report.html'}" in iam_run["proc"].stdout
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"report.json", "report.md", "report.html", "groups.png", "length.png"} <= names
    assert not [n for n in names if ".tmp-" in n]  # every file renamed into place
    report = load(out)
    assert len(report["worst"]) == 5
    for w in report["worst"]:  # handwriting: the line image of each worst line
        assert w["figure"] in names and Image.open(out / w["figure"]).height == 64
    md = (out / "report.md").read_text()
    assert "on the test split: 30 utterances" in md and "## The 5 worst utterances (by CER)" in md
    assert "[-" in md or "{+" in md  # differences marked


def test_learning_curves_are_drawn_during_training(iam_run):
    png = iam_run["run"] / "learning_curves.png"
    img = np.asarray(Image.open(png).convert("L"))
    assert img.shape[1] > 400 and (img < 128).mean() > 0.01  # axes, curves and labels drawn


def recompute(utterances: list[dict], hyps: dict[str, str], metrics: list[str]) -> dict:
    """Per metric: edits and reference lengths of each utterance, from the texts alone."""
    out = {}
    for name in metrics:
        units = UNITS[name]
        edits = [editdistance.eval(units(u["reference"]), units(hyps[u["id"]])) for u in utterances]
        lengths = [len(units(u["reference"])) for u in utterances]
        hyp_lengths = [len(units(hyps[u["id"]])) for u in utterances]
        out[name] = (np.array(edits), np.array(lengths), np.array(hyp_lengths))
    return out


def bootstrap_rows(seed: int, resamples: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, (resamples, n))


def check_numbers(report: dict) -> None:
    """Every number of report.json against a recomputation from its own utterance list."""
    utts = report["utterances"]
    metrics = report["meta"]["metrics"]
    hyps = {u["id"]: u["hypothesis"] for u in utts}
    again = recompute(utts, hyps, metrics)
    boot = report["meta"]["bootstrap"]
    rows = bootstrap_rows(boot["seed"], boot["resamples"], len(utts))
    assert report["meta"]["utterances"] == len(utts) == len({u["id"] for u in utts})
    for name in metrics:
        edits, lengths, hyp_lengths = again[name]
        listed = [u["scores"][name] for u in utts]
        assert [s["edits"] for s in listed] == edits.tolist()
        assert [s["ref_length"] for s in listed] == lengths.tolist()
        for s, n_ref, n_hyp in zip(listed, lengths, hyp_lengths):
            assert s["substitutions"] + s["deletions"] + s["insertions"] == s["edits"]
            assert s["deletions"] - s["insertions"] == n_ref - n_hyp  # true of any alignment
        m = report["metrics"][name]
        assert m["edits"] == edits.sum() and m["ref_length"] == lengths.sum()
        assert report["meta"]["reference_units"][name] == lengths.sum()
        assert m["rate"] == pytest.approx(edits.sum() / lengths.sum(), abs=1e-12)
        for kind in ("substitutions", "deletions", "insertions"):
            assert m[kind] == sum(s[kind] for s in listed)
        low, high = np.percentile(edits[rows].sum(1) / lengths[rows].sum(1), [2.5, 97.5])
        assert (m["ci_low"], m["ci_high"]) == pytest.approx((low, high), abs=1e-12)
        assert m["ci_low"] <= m["rate"] <= m["ci_high"]

        # confusions: every error of the alignment, once
        by_kind = Counter()
        for c in report["confusions"][name]:
            by_kind[c["kind"]] += c["count"]
            assert (c["ref"] is None) == (c["kind"] == "insertion") and (c["hyp"] is None) == (c["kind"] == "deletion")
        assert by_kind["substitution"] == m["substitutions"] and by_kind["deletion"] == m["deletions"]
        assert by_kind["insertion"] == m["insertions"]

        # per group
        groups = defaultdict(lambda: [0, 0, 0])
        for u, e, n in zip(utts, edits, lengths):
            g = groups[u["group"]]
            g[0], g[1], g[2] = g[0] + 1, g[1] + e, g[2] + n
        listed_groups = {g["group"]: g for g in report["groups"]}
        assert set(listed_groups) == set(groups)
        for key, (count, e, n) in groups.items():
            row = listed_groups[key]
            assert (row["utterances"], row[name]["edits"], row[name]["ref_length"]) == (count, e, n)
            assert row[name]["rate"] == pytest.approx(e / n, abs=1e-12)

    primary = report["primary"]
    edits, lengths, _ = again[primary]
    rates = edits / lengths
    # length bins: disjoint, covering every utterance, each rate recomputed
    covered = 0
    for b in report["length_bins"]:
        inside = (lengths >= b["min"]) & (lengths <= b["max"])
        covered += inside.sum()
        expected = (inside.sum(), edits[inside].sum(), lengths[inside].sum())
        assert (b["utterances"], b["edits"], b["ref_length"]) == expected
        assert b["rate"] == pytest.approx(edits[inside].sum() / lengths[inside].sum(), abs=1e-12)
    assert covered == len(utts)
    # the worst: the highest per-utterance rates, in order
    index = {u["id"]: i for i, u in enumerate(utts)}
    shown = [rates[index[w["id"]]] for w in report["worst"]]
    assert [w["rate"] for w in report["worst"]] == pytest.approx(shown, abs=1e-12)
    assert shown == sorted(shown, reverse=True)
    assert sorted(rates, reverse=True)[: len(shown)] == pytest.approx(shown, abs=1e-12)


def test_every_number_of_the_report_recomputes(iam_run):
    report = load(iam_run["report"])
    assert report["meta"]["metrics"] == ["cer", "wer", "wer_joined"] and report["primary"] == "cer"
    assert report["meta"]["split"] == "test" and report["meta"]["utterances"] == 30
    assert {g["group"] for g in report["groups"]} == {"c00-002x", "c01-002x", "c02-002x", "c03-002x"}
    check_numbers(report)
    # ... and the same rates as the training run's own test of its best checkpoint
    trained = json.loads((iam_run["run"] / "metrics.json").read_text())
    for name in ("cer", "wer", "wer_joined"):
        assert report["metrics"][name]["rate"] == pytest.approx(trained[f"test/{name}"], abs=1e-6)


def test_paired_comparison_with_a_worse_checkpoint(iam_run):
    report = load(iam_run["report"])
    cmp = report["compare"]
    assert cmp["checkpoint"] == str(iam_run["noisy"].resolve())
    utts = report["utterances"]
    assert [u["id"] for u in cmp["utterances"]] == [u["id"] for u in utts]
    hyps_b = {u["id"]: u["hypothesis"] for u in cmp["utterances"]}
    again_a = recompute(utts, {u["id"]: u["hypothesis"] for u in utts}, ["cer"])["cer"]
    again_b = recompute(utts, hyps_b, ["cer"])["cer"]
    assert [u["scores"]["cer"]["edits"] for u in cmp["utterances"]] == again_b[0].tolist()
    e_a, e_b, n = again_a[0], again_b[0], again_a[1]
    boot = report["meta"]["bootstrap"]
    rows = bootstrap_rows(boot["seed"], boot["resamples"], len(utts))
    diff = e_a[rows].sum(1) / n[rows].sum(1) - e_b[rows].sum(1) / n[rows].sum(1)
    paired = cmp["paired"]["cer"]
    assert paired["rate_b"] == pytest.approx(e_b.sum() / n.sum(), abs=1e-12)
    assert paired["difference"] == pytest.approx((e_a.sum() - e_b.sum()) / n.sum(), abs=1e-12)
    assert paired["prob_a_better"] == pytest.approx((diff < 0).mean(), abs=1e-12)
    assert (paired["low"], paired["high"]) == pytest.approx(tuple(np.percentile(diff, [2.5, 97.5])), abs=1e-12)
    # weights with that much noise write garbage: A is better, and the report says so
    assert paired["difference"] < 0 and paired["prob_a_better"] >= 0.95
    assert paired["verdict"].startswith("A is better")
    assert "A is better" in (iam_run["report"] / "report.md").read_text()


def test_beam_search_with_a_lexicon_and_lm_built_from_the_training_lines(iam_run):
    """evaluate.py decoder.name=beam, with seqlab build-lm's lexicon and trigram from trainset.txt."""
    tmp = iam_run["tmp"]
    build = subprocess.run([sys.executable, "-m", "seqlab", "build-lm", "--iam", str(iam_run["iam"]),
                            "--output", str(tmp / "lm.arpa"), "--lexicon", str(tmp / "words.txt")],
                           capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    lexicon = set((tmp / "words.txt").read_text().split())
    assert lexicon == {w for text in WORDS for w in text.split()}  # every training word, no test-only line
    out = tmp / "report-beam"
    run_evaluate(f"checkpoint={iam_run['best']}", "data=iam", f"data.root={iam_run['iam']}", "data.height=24",
                 "data.num_workers=0", "worst=3", "bootstrap=100", "decoder.name=beam", "decoder.beam_size=20",
                 f"decoder.lexicon={tmp / 'words.txt'}", f"decoder.lm={tmp / 'lm.arpa'}", "decoder.lm_weight=1.0",
                 f"report.dir={out}", cwd=tmp)
    report = load(out)
    meta = report["meta"]
    assert meta["decoder"].startswith("beam search") and "lm.arpa (weight 1.0)" in meta["decoder"]
    assert meta["decoder_settings"]["beam_size"] == 20
    assert "beam search" in (out / "report.md").read_text()
    for u in report["utterances"]:  # a lexicon decoder writes lexicon words only
        assert set(u["hypothesis"].split()) <= lexicon
    check_numbers(report)
    greedy = load(iam_run["report"])
    assert greedy["meta"]["decoder"].startswith("greedy")


def test_greedy_decoder_refuses_beam_settings(iam_run):
    cmd = [sys.executable, "-m", "seqlab", "evaluate", f"checkpoint={iam_run['best']}", "data=iam",
           f"data.root={iam_run['iam']}", "data.height=24", "decoder.lm=lm.arpa"]
    proc = subprocess.run(cmd, cwd=iam_run["tmp"], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "the greedy decoder takes no lm setting (beam does" in proc.stdout + proc.stderr


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not on PATH (Debian: apt-get install chromium); the HTML is not rendered")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp / 'profile'}",
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_html_report_renders_in_a_headless_browser(iam_run, tmp_path):
    page = (iam_run["report"] / "report.html").resolve()
    shot = tmp_path / "shot.png"
    proc = chromium(f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri(), tmp=tmp_path)
    assert shot.is_file(), proc.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[:2] == (2000, 1200)
    ink = (img.min(axis=2) < 200).mean()  # share of pixels that are not near-white
    colours = len(np.unique(img.reshape(-1, 3), axis=0))
    assert ink > 0.02 and colours > 50, (ink, colours)  # text, tables and plots, not a blank page

    dom = chromium("--dump-dom", page.as_uri(), tmp=tmp_path).stdout
    srcs = re.findall(r'<img [^>]*src="([^"]*)"', dom)
    report = load(iam_run["report"])
    assert len(srcs) == 2 + len(report["worst"])  # groups, length, and one line image per worst line
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).size[0] > 10
    assert "<del>" in dom or "<ins>" in dom


@pytest.fixture(scope="module")
def timit_report(tmp_path_factory) -> Path:
    """A model trained for one epoch on a tiny TIMIT tree, evaluated on its core test speakers."""
    tmp = tmp_path_factory.mktemp("timit_run")
    make_timit(tmp / "timit")
    run, cache = tmp / "run", tmp / "cache"
    data = ["data=timit", f"data.root={tmp / 'timit'}", "data.num_workers=0", f"cache_dir={cache}"]
    run_train(*data, "monitor=val/per", "trainer.max_epochs=1", "model.encoder.hidden_size=8",
              "model.encoder.num_layers=1", f"hydra.run.dir={run}", cwd=tmp)
    run_evaluate(f"checkpoint={run / 'checkpoints' / 'best.ckpt'}", *data, "worst=2", "bootstrap=100",
                 f"report.dir={tmp / 'report'}", cwd=tmp)
    return tmp / "report"


def test_timit_report_scores_39_phones(timit_report):
    report = load(timit_report)
    meta = report["meta"]
    assert report["primary"] == "per" and meta["metrics"] == ["per"]
    assert meta["split"] == "test" and meta["utterances"] == 2  # MDAB0's SI1039 and SX49 (core test)
    assert meta["group_label"] == "speaker" and {g["group"] for g in report["groups"]} == {"MDAB0"}
    assert report["metrics"]["per"]["units"] == "phones (39-phone folding)"
    check_numbers(report)
    # the references are the 61-phone .PHN labels; PER counts them folded to 39
    refs = [fold_39(u["reference"]) for u in report["utterances"]]
    assert meta["reference_units"]["per"] == sum(map(len, refs)) == 6 + 8  # PHONES_C and PHONES_A, folded

    cm = report["confusion_matrix"]
    labels = cm["labels"]
    assert len(labels) == 40 and labels[-1] == "∅" and "sil" in labels and "q" not in labels
    counts = np.array(cm["counts"])
    ref_counts = Counter(p for r in refs for p in r)
    hyp_counts = Counter(p for u in report["utterances"] for p in fold_39(u["hypothesis"]))
    for i, p in enumerate(labels[:-1]):  # rows add up to the reference phones, columns to the hypothesis'
        assert counts[i].sum() == ref_counts[p] and counts[:, i].sum() == hyp_counts[p]
    per = report["metrics"]["per"]
    assert counts[-1].sum() == per["insertions"] and counts[:, -1].sum() == per["deletions"]

    md = (timit_report / "report.md").read_text()
    assert "PER" in md and "on the test split: 2 utterances, 14 reference phones (39-phone folding)" in md
    assert (timit_report / "confusion_matrix.png").is_file()
    for w in report["worst"]:  # speech: the posteriorgram of each worst utterance
        img = Image.open(timit_report / w["figure"])
        assert img.width > 400


def test_evaluate_reads_only_its_split_and_scores_unknown_symbols(iam_run, tmp_path: Path):
    """A new corpus: only a test list, and a reference symbol the model cannot write (scored, not refused)."""
    folder = write_iam(tmp_path / "new", {"test": [("d01-000-00", "the dog"), ("d01-000-01", "a ßat")]}, height=32)
    assert not (folder / "trainset.txt").exists()
    out = tmp_path / "report"
    proc = run_evaluate(f"checkpoint={iam_run['best']}", "data=iam", f"data.root={folder}", "data.num_workers=0",
                        "worst=2", "bootstrap=50", f"report.dir={out}", cwd=tmp_path)
    assert "cannot write ('ß' x1)" in proc.stdout + proc.stderr
    report = load(out)
    assert report["meta"]["out_of_alphabet"] == {"symbols": {"ß": 1}, "occurrences": 1, "utterances": 1}
    [u] = [u for u in report["utterances"] if u["id"] == "d01-000-01"]
    assert u["reference"] == "a ßat" and "ß" not in u["hypothesis"]
    cer = u["scores"]["cer"]
    assert cer["ref_length"] == 5 and cer["edits"] == editdistance.eval("a ßat", u["hypothesis"]) >= 1
    assert "symbols the model cannot write | 1 in 1 reference(s): ß x1" in (out / "report.md").read_text()
