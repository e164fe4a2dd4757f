"""Difference marking, JSON safety and the data-recipe guard, on small hand cases."""

from __future__ import annotations

import pytest

from seqlab.errors import ConfigError
from seqlab.report.decoding import check_recipe
from seqlab.report.render import html_diff, md_diff, plain


def test_word_differences_are_marked():
    ref, hyp = "the cat sat".split(), "the bat sat down".split()
    assert md_diff(ref, hyp, " ") == "the [-cat-] {+bat+} sat {+down+}"
    assert html_diff(ref, hyp, " ") == 'the <span class="sub"><del>cat</del> <ins>bat</ins></span> sat <ins>down</ins>'


def test_character_differences_show_spaces_and_escape_html():
    assert md_diff(list("a b"), list("ab"), "") == "a[-␣-]b"
    assert html_diff(list("a<b"), list("a>b"), "") == 'a<span class="sub"><del>&lt;</del><ins>&gt;</ins></span>b'


def test_json_gets_no_nan():
    assert plain({"a": float("nan"), "b": [1.5, float("inf")], "c": "x"}) == {"a": None, "b": [1.5, None], "c": "x"}


def test_recipe_guard_names_the_setting_that_differs():
    trained = {"frontend": {"type": "image", "height": 24, "binarise": False}, "text": {"form": "NFC", "bidi": False},
               "metrics": ["cer"]}
    check_recipe(trained, {**trained, "metrics": ["cer", "wer"]}, "best.ckpt")  # metrics may differ
    with pytest.raises(ConfigError, match=r"frontend\.height: trained 24, given 32.*config\.yaml"):
        check_recipe(trained, {**trained, "frontend": {"type": "image", "height": 32, "binarise": False}},
                     "run/checkpoints/best.ckpt")
    with pytest.raises(ConfigError, match=r"text\.form: trained 'NFC', given 'NFD'"):
        check_recipe(trained, {**trained, "text": {"form": "NFD", "bidi": False}}, "x")
    speech = {"frontend": {"type": "speech", "normalization": {"mean": [0.1, 0.2], "std": [1.0, 1.0]}}}
    check_recipe(speech, {"frontend": {"type": "speech", "normalization": {"mean": [0.1 + 1e-9, 0.2], "std": [1.0, 1.0]}}}, "x")
    other = {"frontend": {"type": "speech", "normalization": {"mean": [0.5, 0.2], "std": [1.0, 1.0]}}}
    with pytest.raises(ConfigError, match="normalization.mean"):
        check_recipe(speech, other, "x")
    # evaluation adopts the checkpoint's statistics: the configured module has none yet
    check_recipe(speech, {"frontend": {"type": "speech", "normalization": None}}, "x", ignore=("frontend.normalization",))
