"""CTC beam search with an optional lexicon and KenLM n-gram language model.

A wrapper of torchaudio's ``ctc_decoder`` (flashlight-text's CPU beam search,
Kahn et al. 2022), fed seqlab's alphabet through :class:`~seqlab.decode.lexicon.TokenSet`
(blank ``<blank>`` = class 0, the space = word separator ``|``).

Modes:

- **lexicon-free, no LM**: a prefix beam search over the model's symbols; on
  peaked posteriors it finds the greedy (best path) output.
- **lexicon-free + LM**: the LM is a *token-level* n-gram whose vocabulary is
  the token names: characters with ``|`` for the space (a character LM), or
  TIMIT's phones (a phone LM).
- **lexicon (+ LM)**: only words of the lexicon are output, separated by
  spaces; the LM (if any) is a word n-gram over the lexicon's words.
  :func:`~seqlab.decode.lexicon.read_lexicon` documents the lexicon file.

The LM file is KenLM's ARPA text or its binary (``build_binary``); both load
through flashlight-text's bundled KenLM.

Scores: flashlight's total is the acoustic log-probability of the best path,
plus ``lm_weight`` x the LM score (KenLM's log10 probability), plus
``word_score`` per word; the :class:`~seqlab.decode.base.Hypothesis` keeps it as ``score``.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import torch

from seqlab.decode.base import Hypothesis
from seqlab.decode.lexicon import VIRTUAL_SEPARATOR_SCORE, TokenSet, read_lexicon, write_flashlight_lexicon
from seqlab.errors import ConfigError
from seqlab.text import BLANK, Alphabet


class BeamSearchDecoder:
    """Beam search over (B, T, K) CTC log-probabilities (registered as ``beam``).

    Args:
        alphabet: the model's symbol table (K = alphabet.num_classes).
        beam_size: hypotheses kept after each frame.
        lexicon: a lexicon file (one word per line, or flashlight's
            ``word spelling...``), or None for lexicon-free decoding.
        lm: a KenLM model file (ARPA or binary), or None.
        lm_weight: weight of the LM score.
        word_score: score added per word (a bonus when > 0, a penalty when < 0);
            with a lexicon only: flashlight's lexicon-free decoder has no
            insertion score, so a non-zero value without a lexicon is refused.
        beam_threshold: hypotheses scoring this much below the best are pruned.
        beam_size_token: tokens tried per frame (None: all).
        unk_score: score of a word outside the lexicon (-inf: never output).
    """

    # what ``seqlab transcribe --help`` says of each setting
    HELP = {
        "beam_size": "beam search width",
        "lexicon": "restrict the output to these words (a word list, or flashlight's WORD SPELLING lines)",
        "lm": "KenLM n-gram model, ARPA or binary: a word LM with a lexicon, a token LM without",
        "lm_weight": "weight of the LM score",
        "word_score": "score added per word, with a lexicon",
        "beam_threshold": "prune hypotheses scoring this much below the best",
        "beam_size_token": "tokens tried per frame (default: all)",
        "unk_score": "score of a word outside the lexicon",
    }

    def __init__(
        self,
        alphabet: Alphabet,
        beam_size: int = 50,
        lexicon: str | Path | None = None,
        lm: str | Path | None = None,
        lm_weight: float = 2.0,
        word_score: float = 0.0,
        beam_threshold: float = 50.0,
        beam_size_token: int | None = None,
        unk_score: float = -math.inf,
    ) -> None:
        from torchaudio.models.decoder import ctc_decoder  # flashlight-text; imported only when used

        if beam_size < 1:
            raise ConfigError(f"beam size must be >= 1, got {beam_size}")
        if word_score != 0 and lexicon is None:
            raise ConfigError("word_score needs a lexicon: flashlight's lexicon-free decoder has no word score")
        if lm is not None and not Path(lm).is_file():
            raise ConfigError(f"{lm}: language model not found (a KenLM ARPA or binary file)")
        self.alphabet = alphabet
        self.settings = {"beam_size": beam_size, "lexicon": lexicon, "lm": lm, "lm_weight": lm_weight,
                         "word_score": word_score}
        self.tokens = TokenSet(alphabet)
        self.uses_lexicon = lexicon is not None
        with tempfile.TemporaryDirectory(prefix="seqlab-lexicon-") as tmp:
            lexicon_file = lm_dict = None
            if lexicon is not None:
                lexicon_file = Path(tmp) / "lexicon.txt"
                write_flashlight_lexicon(read_lexicon(lexicon, self.tokens), lexicon_file)
            elif lm is not None:
                # A token LM: flashlight scores token i as LM word i, but torchaudio's own word
                # list of the tokens comes out in hash order (the LM then scores the wrong
                # symbols; the same bug as facebookresearch/fairseq#5109): list them in class order.
                lm_dict = Path(tmp) / "lm_words.txt"
                lm_dict.write_text("".join(f"{name}\n" for name in self.tokens.names), encoding="utf-8")
            try:
                self._ctc = ctc_decoder(
                    lexicon=str(lexicon_file) if lexicon_file else None,
                    tokens=self.tokens.names,
                    lm=str(lm) if lm is not None else None,
                    lm_dict=str(lm_dict) if lm_dict is not None else None,
                    beam_size=beam_size,
                    beam_size_token=beam_size_token,
                    beam_threshold=beam_threshold,
                    lm_weight=lm_weight,
                    word_score=word_score,
                    unk_score=unk_score,
                    blank_token=self.tokens.blank_name,
                    sil_token=self.tokens.separator_name,
                )
            except RuntimeError as e:  # KenLM reports a bad file as a RuntimeError
                what = f"{lm}: cannot load the language model" if lm is not None else "cannot build the decoder"
                raise ConfigError(f"{what} ({str(e).splitlines()[0]})") from None

    def __call__(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        """Best hypothesis of each item.

        Args:
            log_probs: (B, T, K) log-probabilities (blank = 0).
            lengths: (B,) valid frames.
        """
        emissions = log_probs.detach().float().cpu()
        if self.tokens.virtual_separator:
            # one more class that the model never emits: the separator flashlight needs
            never = emissions.new_full((*emissions.shape[:2], 1), VIRTUAL_SEPARATOR_SCORE)
            emissions = torch.cat([emissions, never], dim=-1)  # (B, T, K) -> (B, T, K + 1)
        emissions = emissions.contiguous()
        b, t, n = emissions.shape
        out = []
        for i, length in enumerate(lengths.tolist()):
            if length == 0:
                out.append(Hypothesis([], "", 0.0, [] if self.uses_lexicon else None))
                continue
            ptr = emissions.data_ptr() + 4 * i * emissions.stride(0)  # float32: 4 bytes
            best = self._ctc.decoder.decode(ptr, length, n)[0]
            out.append(self._result(best, length))
        return out

    def describe(self) -> str:
        s = self.settings
        parts = [f"beam search (flashlight-text via torchaudio), beam {s['beam_size']}",
                 f"lexicon {s['lexicon']}" if s["lexicon"] else "no lexicon",
                 f"LM {s['lm']} (weight {s['lm_weight']})" if s["lm"] else "no LM"]
        if s["lexicon"]:
            parts.append(f"word score {s['word_score']}")
        return ", ".join(parts)

    def _result(self, best, length: int) -> Hypothesis:
        # flashlight's path has T + 2 entries: a separator before the first frame and after the last
        path = list(best.tokens)[1 : length + 1]
        labels = _collapse(path)
        labels = [c for c in labels if c != self.tokens.separator or not self.tokens.virtual_separator]
        words = None
        if self.uses_lexicon:
            words = [self._ctc.word_dict.get_entry(w) for w in best.words if w >= 0]
            if not self.tokens.virtual_separator:
                # the lexicon's words, one separator between each: the path may
                # run two words together or repeat separators
                labels = self.alphabet.encode(" ".join(words))
        return Hypothesis(labels, self.alphabet.decode(labels), float(best.score), words)


def _collapse(path: list[int]) -> list[int]:
    """CTC collapsing of a frame path: merge repeats, then drop blanks."""
    out, prev = [], None
    for c in path:
        if c != prev and c != BLANK:
            out.append(c)
        prev = c
    return out
