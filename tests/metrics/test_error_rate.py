import math

import torch

from seqlab.metrics import ErrorRate, chars, corpus_error_rate, edit_distance, words


def test_edit_distance_hand_cases():
    assert edit_distance("kitten", "sitting") == 3  # 2 substitutions + 1 insertion
    assert edit_distance("", "abc") == 3
    assert edit_distance("abc", "") == 3
    assert edit_distance(["the", "cat"], ["the", "bat"]) == 1


def test_corpus_cer_is_total_edits_over_total_length():
    refs = ["abcd", "xy"]  # 6 reference characters
    hyps = ["abed", "x"]  # 1 substitution + 1 deletion
    assert corpus_error_rate(refs, hyps, chars) == 2 / 6
    # not the mean of per-line rates (which would be (1/4 + 1/2) / 2)
    assert corpus_error_rate(refs, hyps, chars) != (1 / 4 + 1 / 2) / 2


def test_corpus_wer_hand_case():
    refs = ["the cat sat", "on the mat"]
    hyps = ["the cat sat down", "on mat"]  # 1 insertion, 1 deletion over 6 words
    assert corpus_error_rate(refs, hyps, words) == 2 / 6


def test_cer_counts_spaces():
    assert corpus_error_rate(["a b"], ["ab"], chars) == 1 / 3


def test_metric_accumulates_over_batches():
    m = ErrorRate(chars)
    m.update(["abcd"], ["abed"])
    m.update(["xy"], ["x"])
    assert math.isclose(float(m.compute()), 2 / 6)
    m.reset()
    assert torch.isnan(m.compute())
