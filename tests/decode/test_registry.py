"""The decoder registry: one protocol, one place per default, settings checked by name."""

import math

import pytest
import torch

from seqlab.decode import DECODERS, Decoder, Hypothesis, build_decoder, decoder_settings
from seqlab.decode.greedy import GreedyDecoder
from seqlab.errors import ConfigError
from seqlab.text import Alphabet

CHARS = Alphabet(tuple("abc "))


def peaked(path: list[int], k: int = 5) -> torch.Tensor:
    lp = torch.full((len(path), k), math.log(0.01))
    lp[torch.arange(len(path)), torch.tensor(path)] = math.log(0.96)
    return lp


def test_every_registered_decoder_follows_the_protocol():
    lp = torch.stack([peaked([1, 1, 0, 2, 4, 3, 0]), peaked([3, 0, 3, 0, 0, 0, 0])])
    lengths = torch.tensor([7, 3])
    for name in DECODERS:
        decoder = build_decoder(name, CHARS)
        assert isinstance(decoder, Decoder)
        assert decoder.describe()
        hyps = decoder(lp, lengths)
        assert all(isinstance(h, Hypothesis) for h in hyps)
        assert [h.text for h in hyps] == ["ab c", "cc"], name  # peaked posteriors: every decoder finds the best path
        assert [h.labels for h in hyps] == [CHARS.encode("ab c"), CHARS.encode("cc")]


def test_greedy_score_is_the_best_paths_log_probability():
    lp = peaked([1, 0, 2, 2]).unsqueeze(0)
    [h] = GreedyDecoder(CHARS)(lp, torch.tensor([3]))  # the fourth frame is padding
    assert h.score == pytest.approx(3 * math.log(0.96))


def test_defaults_are_read_from_the_constructor():
    assert decoder_settings("greedy") == {}
    beam = decoder_settings("beam")
    assert beam["beam_size"] == 50 and beam["lm_weight"] == 2.0 and beam["lexicon"] is None
    assert build_decoder("beam", CHARS, beam_size=None).settings["beam_size"] == 50  # None: the default


def test_settings_are_checked_by_name():
    with pytest.raises(ConfigError, match="the greedy decoder takes no lexicon setting .beam does"):
        build_decoder("greedy", CHARS, lexicon="words.txt")
    with pytest.raises(ConfigError, match="takes no beam_width setting$"):
        build_decoder("beam", CHARS, beam_width=3)
    with pytest.raises(ConfigError, match="unknown decoder 'viterbi'; choose one of greedy, beam"):
        build_decoder("viterbi", CHARS)


def test_a_new_decoder_is_one_registration(monkeypatch):
    class Reversed(GreedyDecoder):  # a toy decoder
        def __call__(self, log_probs, lengths):
            return [Hypothesis(h.labels[::-1], self.alphabet.decode(h.labels[::-1]), h.score)
                    for h in super().__call__(log_probs, lengths)]

    monkeypatch.setitem(DECODERS, "reversed", Reversed)
    from seqlab.cli.transcribe import build_parser

    args = build_parser().parse_args(["m.ckpt", "x.png", "--decoder", "reversed"])
    assert args.decoder == "reversed"
    [h] = build_decoder("reversed", CHARS)(peaked([1, 2]).unsqueeze(0), torch.tensor([2]))
    assert h.text == "ba"


def test_a_beam_setting_on_the_command_line_chooses_beam():
    from seqlab.cli.transcribe import build_parser, decoder_choice

    parse = build_parser().parse_args
    assert decoder_choice(parse(["m.ckpt", "x.png"])) == ("greedy", {})
    assert decoder_choice(parse(["m.ckpt", "x.png", "--lm", "lm.arpa", "--beam-size", "8"])) == (
        "beam", {"lm": "lm.arpa", "beam_size": 8})
    assert decoder_choice(parse(["m.ckpt", "x.png", "--decoder", "greedy", "--lm", "x"]))[0] == "greedy"
