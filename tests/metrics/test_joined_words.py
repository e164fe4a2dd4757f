"""Tests of the ``wer_joined`` units: IAM tokens re-joined into written words."""

from __future__ import annotations

import pytest

from seqlab.data.english import SentenceGenerator
from seqlab.data.synthetic_handwriting import iam_tokenise
from seqlab.metrics import UNIT_SPLITTERS, corpus_error_rate, join_tokens, words


@pytest.mark.parametrize(
    ("tokens", "joined"),
    [
        ("tomorrow .", ["tomorrow."]),
        ("It 's late .", ["It's", "late."]),
        ("I do n't know , he said .", ["I", "don't", "know,", "he", "said."]),
        ("we 're here and they 've gone", ["we're", "here", "and", "they've", "gone"]),
        ("' Yes , ' he said .", ["'Yes,'", "he", "said."]),
        ('" Stop ! " ( he cried ) .', ['"Stop!"', "(he", "cried)."]),
        ("A MOVE to stop Mr. Gaitskell from", ["A", "MOVE", "to", "stop", "Mr.", "Gaitskell", "from"]),
        ("boy , ' he said", ["boy,'", "he", "said"]),  # a line that starts inside a quotation
        ("B B C", ["B", "B", "C"]),
        (". , hello", [".,", "hello"]),  # punctuation with nothing before it stays a word
        ("", []),
    ],
)
def test_hand_cases(tokens, joined):
    assert join_tokens(tokens) == joined


def test_inverse_of_iam_tokenise_on_whole_sentences():
    gen = SentenceGenerator(0)
    for _ in range(300):
        sentence = gen.sentence()
        assert join_tokens(iam_tokenise(sentence).replace("|", " ")) == sentence.split(), sentence


def test_both_word_error_rates():
    ref = "It 's late ."
    hyp = "It 's late"  # the full stop missed
    assert corpus_error_rate([ref], [hyp], words) == 1 / 4  # one of four tokens
    assert corpus_error_rate([ref], [hyp], join_tokens) == 1 / 2  # "late." is wrong: one of two words
    assert corpus_error_rate([ref], ["Its late ."], join_tokens) == 1 / 2
    assert UNIT_SPLITTERS["wer_joined"] is join_tokens
