"""Unicode normalisation forms and BiDi reordering of transcriptions."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.errors import CheckpointError, ConfigError
from seqlab.text.normalize import FORMS, TextNormalization

COMPOSED = "caf\u00e9 \u00c5ngstr\u00f6m \ufb01 \u2460"  # é Å ö, the fi ligature, circled one
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


@pytest.mark.parametrize("form", ["NFC", "NFD", "NFKC", "NFKD"])
def test_both_spellings_of_a_letter_become_one(form: str):
    t = TextNormalization(form)
    assert t.to_model(COMPOSED) == t.to_model(DECOMPOSED) == unicodedata.normalize(form, COMPOSED)


def test_compatibility_forms_fold_ligatures_and_none_keeps_code_points():
    assert "fi" in TextNormalization("NFKC").to_model(COMPOSED)
    assert "\ufb01" in TextNormalization("NFC").to_model(COMPOSED)
    assert TextNormalization("none").to_model(DECOMPOSED) == DECOMPOSED


def test_bad_settings_are_config_errors_and_checkpoint_settings_are_checked():
    with pytest.raises(ConfigError, match="data.text_form must be one of NFC, NFD"):
        TextNormalization("NFX")
    with pytest.raises(ConfigError, match="data.bidi must be true or false"):
        TextNormalization("NFC", bidi="yes")
    assert TextNormalization.from_dict({"form": "NFD", "bidi": True}) == TextNormalization("NFD", True)
    with pytest.raises(CheckpointError, match="unknown text normalisation settings"):
        TextNormalization.from_dict({"form": "NFC", "bidi": False, "shaping": 1})
    with pytest.raises(CheckpointError, match="invalid"):
        TextNormalization.from_dict({"form": "NFQ"})


@pytest.mark.parametrize("logical, display", [
    ("שלום עולם", "םלוע םולש"),  # Hebrew: the letters reversed, as the image shows them
    ("مرحبا بالعالم", "ملاعلاب ابحرم"),  # Arabic (shaping is the font's business, not the labels')
    ("שלום abc", "abc םולש"),  # a Latin word inside RTL text keeps its own order
    ("עמוד 12", "12 דומע"),  # and so do numbers
])
def test_right_to_left_text_goes_to_display_order_and_back(logical: str, display: str):
    t = TextNormalization("NFC", bidi=True)
    assert t.to_model(logical) == display
    assert t.from_model(t.to_model(logical)) == logical


def test_left_to_right_text_is_unchanged_by_bidi():
    t = TextNormalization("NFC", bidi=True)
    assert t.to_model("plain English") == "plain English" and t.from_model("") == ""


LETTERS = st.text(alphabet=st.sampled_from(list("שלוםעברית") + list("مرحباعال") + list("latin") + [" "]),
                  min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(text=LETTERS)
def test_display_order_is_undone_exactly_for_letters_and_spaces_of_any_script(text: str):
    t = TextNormalization("NFC", bidi=True)
    model = t.to_model(text)
    assert sorted(model) == sorted(text) and t.from_model(model) == text


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40), form=st.sampled_from(FORMS))
def test_normalising_twice_changes_nothing(text: str, form: str):
    t = TextNormalization(form)
    assert t.normalize(t.normalize(text)) == t.normalize(text)
