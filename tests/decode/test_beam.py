"""Beam search (flashlight-text through torchaudio) on hand-made posteriors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from seqlab.decode import greedy_decode
from seqlab.decode.beam import BeamSearchDecoder
from seqlab.decode.lexicon import TokenSet, read_lexicon
from seqlab.errors import ConfigError
from seqlab.text import Alphabet

CHARS = Alphabet(tuple(" acdeghostw"))


def posteriors(alphabet: Alphabet, frames: list, peak: float = 0.9) -> torch.Tensor:
    """(T, K) log-probabilities: a frame is a symbol (``peak`` on it, "_" for the blank) or
    a dict symbol -> probability; the rest of the mass is spread evenly."""
    k = alphabet.num_classes
    rows = []
    for f in frames:
        probs = f if isinstance(f, dict) else {f: peak}
        row = torch.zeros(k)
        for sym, p in probs.items():
            row[0 if sym == "_" else alphabet.symbols.index(sym) + 1] = p
        rest = 1.0 - float(row.sum())
        row[row == 0] = rest / int((row == 0).sum())
        rows.append(row)
    return torch.stack(rows).log()


def spelled(text: str) -> list:
    """Frames spelling ``text``, a blank after each symbol."""
    return [f for c in text for f in (c, "_")]


def write_arpa(path: Path, unigrams: dict[str, tuple[float, float]], bigrams: dict[str, float]) -> Path:
    """A KenLM-readable ARPA file: word -> (log10 p, log10 backoff), "w1 w2" -> log10 p."""
    rows = ["\\data\\", f"ngram 1={len(unigrams)}", f"ngram 2={len(bigrams)}", "", "\\1-grams:"]
    rows += [f"{p:.4f}\t{w}\t{b:.4f}" for w, (p, b) in unigrams.items()]
    rows += ["", "\\2-grams:"] + [f"{p:.4f}\t{ws}" for ws, p in bigrams.items()] + ["", "\\end\\", ""]
    path.write_text("\n".join(rows))
    return path


def test_lexicon_free_beam_equals_greedy_on_peaked_posteriors():
    g = torch.Generator().manual_seed(0)
    items = []
    for n in (9, 14, 20):
        idx = torch.randint(0, CHARS.num_classes, (n,), generator=g)
        items.append([("_" if i == 0 else CHARS.symbols[i - 1]) for i in idx.tolist()])
    t = max(len(i) for i in items)
    lp = torch.stack([
        torch.cat([posteriors(CHARS, i), torch.zeros(t - len(i), CHARS.num_classes)]) for i in items
    ])
    lengths = torch.tensor([len(i) for i in items])
    beam = BeamSearchDecoder(CHARS, beam_size=8)
    assert [r.labels for r in beam(lp, lengths)] == greedy_decode(lp, lengths)
    assert [r.text for r in beam(lp, lengths)] == [CHARS.decode(h) for h in greedy_decode(lp, lengths)]


def test_token_alphabet_without_space_decodes_lexicon_free():
    phones = Alphabet(("h#", "sh", "iy", "ae", "d"), unit="token")
    frames = ["h#", "h#", "_", "sh", "iy", "iy", "_", "iy", "d", "_", "h#"]
    lp = posteriors(phones, frames).unsqueeze(0)
    beam = BeamSearchDecoder(phones, beam_size=5)
    [result] = beam(lp, torch.tensor([len(frames)]))
    assert result.text == "h# sh iy iy d h#" == phones.decode(greedy_decode(lp, torch.tensor([len(frames)]))[0])
    assert TokenSet(phones).virtual_separator


def test_lexicon_corrects_a_non_word_that_greedy_outputs(tmp_path: Path):
    # the model is unsure between "w" and "e" in "the": greedy reads "thw"
    frames = ["t", "_", "h", "_", {"w": 0.5, "e": 0.4}, "_", " ", "c", "_", "a", "_", "t", "_"]
    lp = posteriors(CHARS, frames).unsqueeze(0)
    lengths = torch.tensor([len(frames)])
    assert CHARS.decode(greedy_decode(lp, lengths)[0]) == "thw cat"
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("the\ncat\ndog\nsat\n")
    [result] = BeamSearchDecoder(CHARS, beam_size=10, lexicon=lexicon)(lp, lengths)
    assert result.text == "the cat" and result.words == ["the", "cat"]


def test_bigram_lm_picks_the_likely_word_where_greedy_misspells(tmp_path: Path):
    # "cot" and "cat" are both words; acoustically "cot" wins, the LM knows "the cat sat"
    frames = spelled("the c") + [{"o": 0.5, "a": 0.4}, "_"] + spelled("t sat")
    lp = posteriors(CHARS, frames).unsqueeze(0)
    lengths = torch.tensor([len(frames)])
    assert CHARS.decode(greedy_decode(lp, lengths)[0]) == "the cot sat"
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("the\ncat\ncot\nsat\n")
    arpa = write_arpa(
        tmp_path / "lm.arpa",
        {"<unk>": (-3.0, 0.0), "<s>": (-99.0, -0.5), "</s>": (-1.0, 0.0), "the": (-1.0, -0.5),
         "cat": (-1.5, -0.5), "cot": (-1.5, -0.5), "sat": (-1.2, -0.5)},
        {"<s> the": -0.1, "the cat": -0.1, "cat sat": -0.1, "sat </s>": -0.1},
    )
    without_lm = BeamSearchDecoder(CHARS, beam_size=10, lexicon=lexicon)
    assert [r.text for r in without_lm(lp, lengths)] == ["the cot sat"]
    with_lm = BeamSearchDecoder(CHARS, beam_size=10, lexicon=lexicon, lm=arpa, lm_weight=1.0)
    assert [r.text for r in with_lm(lp, lengths)] == ["the cat sat"]


def test_character_lm_without_lexicon_uses_bar_for_the_space(tmp_path: Path):
    frames = spelled("the c") + [{"o": 0.5, "a": 0.4}, "_"] + spelled("t")
    lp = posteriors(CHARS, frames).unsqueeze(0)
    chars = {c: (-1.0, -0.3) for c in "acdeghostw|"}
    arpa = write_arpa(tmp_path / "chars.arpa", {"<unk>": (-3.0, 0.0), "<s>": (-99.0, -0.3), "</s>": (-1.0, 0.0),
                                                **chars}, {"c a": -0.05, "a t": -0.05})
    beam = BeamSearchDecoder(CHARS, beam_size=10, lm=arpa, lm_weight=1.0)
    assert [r.text for r in beam(lp, torch.tensor([len(frames)]))] == ["the cat"]


def test_read_lexicon_formats_and_unknown_symbols(tmp_path: Path, caplog):
    path = tmp_path / "lex.txt"
    path.write_text("# comment\ncat\ndog d o g |\nsea s e a\ncafé\nx\n\ncat c a t\n")
    with caplog.at_level(logging.WARNING):
        lex = read_lexicon(path, TokenSet(CHARS))
    assert lex == {"cat": [["c", "a", "t"]], "dog": [["d", "o", "g"]], "sea": [["s", "e", "a"]]}
    assert "left out 2 lexicon entries" in caplog.text and "lex.txt:5: 'café'" in caplog.text
    empty = tmp_path / "none.txt"
    empty.write_text("xyz\n")
    with pytest.raises(ConfigError, match="none.txt: no word of the lexicon"):
        read_lexicon(empty, TokenSet(CHARS))


def test_phone_lexicon_in_flashlight_format(tmp_path: Path):
    phones = Alphabet(("h#", "sh", "iy", "ae", "d"), unit="token")
    path = tmp_path / "lex.txt"
    path.write_text("she sh iy\nhad h# ae d\n")
    assert read_lexicon(path, TokenSet(phones)) == {"she": [["sh", "iy"]], "had": [["h#", "ae", "d"]]}


def test_bad_settings_are_clear_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="nope.arpa: language model not found"):
        BeamSearchDecoder(CHARS, lm=tmp_path / "nope.arpa")
    garbage = tmp_path / "garbage.arpa"
    garbage.write_text("this is no language model\n")
    with pytest.raises(ConfigError, match="garbage.arpa: cannot load the language model"):
        BeamSearchDecoder(CHARS, lm=garbage)
    with pytest.raises(ConfigError, match="word_score needs a lexicon"):
        BeamSearchDecoder(CHARS, word_score=1.0)
