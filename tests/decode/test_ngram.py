"""Kneser-Ney n-gram estimation (seqlab/decode/ngram.py) and seqlab build-lm."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.decode.ngram import estimate_kneser_ney
from seqlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_hand_computed_bigram():
    # "a b", "b": continuation counts a=1 (<s> a), b=2 (a b, <s> b), </s>=1 (b </s>); too few counts
    # for Chen-Goodman discounts, so D = 0.5 everywhere. Vocabulary a b </s> <unk>: uniform 1/4.
    m = estimate_kneser_ney(["a b", "b"], order=2)
    gamma0 = (0.5 * 2 + 0.5 * 1) / 4  # a and </s> seen once, b twice, over 4 continuation counts
    p1 = {"a": 0.5 / 4 + gamma0 / 4, "b": 1.5 / 4 + gamma0 / 4, "</s>": 0.5 / 4 + gamma0 / 4, "<unk>": gamma0 / 4}
    for w, p in p1.items():
        assert m.prob([], w) == pytest.approx(p, abs=1e-15)
    # after <s>: a and b once each (raw counts), gamma = 0.5 * 2 / 2
    assert m.prob(["<s>"], "a") == pytest.approx(0.5 / 2 + 0.5 * p1["a"], abs=1e-15)
    assert m.prob(["<s>"], "</s>") == pytest.approx(0.5 * p1["</s>"], abs=1e-15)  # backed off
    # after b: </s> twice (D2 = 0.5), gamma = 0.5 / 2
    assert m.prob(["b"], "</s>") == pytest.approx(1.5 / 2 + 0.25 * p1["</s>"], abs=1e-15)
    assert m.prob(["zebra"], "b") == pytest.approx(p1["b"], abs=1e-15)  # unknown context: <unk> has no bigrams


def _random_text(seed: int, words: int, lines: int) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(words)]
    # a skewed distribution, so that count-of-counts n1..n4 are all non-zero (real discounts)
    return [" ".join(rng.choice(vocab[: rng.randint(1, words)]) for _ in range(rng.randint(1, 9))) for _ in range(lines)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), order=st.integers(1, 4), words=st.integers(1, 12), lines=st.integers(1, 60))
def test_every_context_is_a_distribution(seed, order, words, lines):
    m = estimate_kneser_ney(_random_text(seed, words, lines), order=order, vocabulary=["extra"])
    predicted = [w for w in m.vocabulary if w != "<s>"]
    contexts = [(), ("unseen", "words", "here"), *m.backoffs]
    for h in contexts:
        assert sum(m.prob(h, w) for w in predicted) == pytest.approx(1.0, abs=1e-9), h
    assert m.prob((), "<s>") == 0.0


def test_real_discounts_from_count_of_counts():
    m = estimate_kneser_ney(_random_text(0, 12, 400), order=3)
    d1, d2, d3 = m.discounts[2]
    assert 0 < d1 < 1 and 0 < d2 < 2 and 0 < d3 < 3 and d1 < d2  # Chen and Goodman's bounds
    assert (d1, d2, d3) != (0.5, 0.5, 0.5)  # estimated, not the fallback


def test_kenlm_reads_the_arpa_file_and_agrees(tmp_path):
    from flashlight.lib.text.decoder.kenlm import KenLM
    from flashlight.lib.text.dictionary import create_word_dict

    m = estimate_kneser_ney(_random_text(1, 8, 300), order=3)
    arpa = m.write_arpa(tmp_path / "lm.arpa")
    assert not list(tmp_path.glob(".*.tmp"))
    words = m.vocabulary
    d = create_word_dict({w: [[w]] for w in words})
    lm = KenLM(str(arpa), d)
    rng = random.Random(2)
    for _ in range(20):
        sentence = [rng.choice([*words[3:], "oov"]) for _ in range(rng.randint(1, 7))]
        state, context = lm.start(False), ["<s>"]
        for w in sentence:
            state, score = lm.score(state, d.get_index(w if w in words else "<unk>"))
            assert score == pytest.approx(math.log10(m.prob(context, w)), abs=1e-5)  # KenLM: log10, float32
            context.append(w)
        state, score = lm.finish(state)
        assert score == pytest.approx(math.log10(m.prob(context, "</s>")), abs=1e-5)


def test_bad_text_is_refused():
    with pytest.raises(ConfigError, match="no words"):
        estimate_kneser_ney(["", "   "])
    with pytest.raises(ConfigError, match="reserved word '</s>'"):
        estimate_kneser_ney(["a </s> b"])
    with pytest.raises(ConfigError, match="order must be at least 1"):
        estimate_kneser_ney(["a"], order=0)


def build_lm(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seqlab", "build-lm", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_build_lm_script_on_an_iam_folder(tmp_path):
    from tests.conftest import IAM_HEADER

    root = tmp_path / "iam"
    (root / "ascii").mkdir(parents=True)
    rows = ["a01-000-00 ok 154 19 408 746 1661 89 It|'s|late|.", "a01-000-01 err 154 19 408 746 1661 89 the|cat|sat",
            "a01-000-02 ok 154 19 408 746 1661 89 secret|test|words"]
    (root / "ascii" / "lines.txt").write_text(IAM_HEADER + "\n".join(rows) + "\n")
    (root / "trainset.txt").write_text("a01-000-00\na01-000-01\n")
    (tmp_path / "more.txt").write_text("the dog sat\n\n")
    (tmp_path / "dev.txt").write_text("the cat sat\nthe bird\n")
    proc = build_lm("--iam", str(root), str(tmp_path / "more.txt"), "--order", "2", "--output", "out/lm.arpa",
                    "--lexicon", "out/words.txt", "--eval", "dev.txt", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # the training list's lines (an err line included), never the test line
    assert (tmp_path / "out" / "words.txt").read_text().split() == sorted(["'s", ".", "It", "cat", "dog", "late",
                                                                          "sat", "the"])
    arpa = (tmp_path / "out" / "lm.arpa").read_text()
    assert arpa.startswith("\\data\\\nngram 1=11\n") and arpa.rstrip().endswith("\\end\\")
    assert "secret" not in arpa
    assert "3 sentences, 10 words, 8 distinct" in proc.stdout
    assert "dev.txt: 5 words, OOV rate 20.00 %" in proc.stdout


def test_build_lm_script_errors(tmp_path):
    proc = build_lm("--output", "lm.arpa", cwd=tmp_path)
    assert proc.returncode == 2 and "no text: give TEXT files, --iam ROOT or --timit ROOT" in proc.stderr
    proc = build_lm("missing.txt", "--output", "lm.arpa", cwd=tmp_path)
    assert proc.returncode == 2 and "missing.txt: no such file" in proc.stderr
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    proc = build_lm("latin1.txt", "--output", "lm.arpa", cwd=tmp_path)
    assert proc.returncode == 2 and "latin1.txt: not UTF-8 text" in proc.stderr
    assert not (tmp_path / "lm.arpa").exists()


def test_build_lm_script_phone_lm_from_timit(tmp_path):
    from tests.data.speech_corpora import make_timit

    expected = make_timit(tmp_path / "timit")
    proc = build_lm("--timit", "timit", "--order", "2", "--output", "phones.arpa", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    train = list(expected["train"].values())  # SA1 / sa2 left out, as the data module does
    words = sum(len(p.split()) for p in train)
    assert f"{len(train)} sentences, {words} words" in proc.stdout
    arpa = (tmp_path / "phones.arpa").read_text()
    unigrams = arpa.split("\\1-grams:\n")[1].split("\n\n")[0].splitlines()
    assert {u.split("\t")[1] for u in unigrams} == {p for s in train for p in s.split()} | {"<s>", "</s>", "<unk>"}
    (tmp_path / "empty").mkdir()
    proc = build_lm("--timit", "empty", "--output", "x.arpa", cwd=tmp_path)
    assert proc.returncode == 2 and "seqlab build-lm: error: empty" in proc.stderr
