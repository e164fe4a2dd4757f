"""Word (or token) n-gram language models in ARPA format, estimated from text.

The beam search (:mod:`seqlab.decode.beam`) reads KenLM ARPA files; KenLM's
own estimator (``lmplz``) is a C++ build that pip cannot install, so seqlab
estimates the small models its recipes need itself: **interpolated modified
Kneser-Ney** smoothing (Chen and Goodman 1998), the estimate ``lmplz`` and
SRILM's ``-kndiscount -interpolate`` produce, written as a back-off ARPA file
that KenLM loads.

Estimation, for an order-N model:

- Sentences are wrapped in ``<s> ... </s>``. The counts of the highest order,
  and of n-grams that start with ``<s>``, are the raw counts; every lower-order
  n-gram gets its *continuation* count (how many distinct words precede it).
- Each order has three discounts D1, D2, D3+ from its count-of-counts n1..n4:
  ``Y = n1 / (n1 + 2 n2)``, ``Dk = k - (k + 1) Y n(k+1) / nk``. An order whose
  counts are too few for that (some nk is 0) uses D = 0.5 for every count.
- ``p(w | h) = (a(h w) - D(a(h w))) / a(h .) + gamma(h) p(w | h')`` with
  ``gamma(h) = (D1 N1(h .) + D2 N2(h .) + D3 N3+(h .)) / a(h .)``; the unigram
  level interpolates with the uniform distribution over the vocabulary
  (``</s>`` and ``<unk>`` included, ``<s>`` excluded).
- In the ARPA file each listed n-gram carries its interpolated log10
  probability and each context its log10 back-off weight ``gamma(h)``, so
  back-off lookup gives exactly the interpolated distribution (lmplz's layout).

Usage::

    model = estimate_kneser_ney(["the cat sat", "the dog sat"], order=3)
    model.write_arpa("lm.arpa")
    model.prob(["<s>", "the"], "cat")    # p(cat | <s> the), by back-off as KenLM computes it

``seqlab build-lm`` is the command-line front end.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from seqlab.atomic import write_text_atomic
from seqlab.errors import ConfigError

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
FALLBACK_DISCOUNT = 0.5
LOG10_ZERO = -99.0  # ARPA's "probability 0" (used for <s>, which is never predicted)

NGram = tuple[str, ...]


@dataclass
class NGramModel:
    """An interpolated Kneser-Ney model: probabilities and back-off weights per n-gram.

    Attributes:
        order: N.
        probs: for each order n (index n - 1), n-gram -> interpolated probability
            p(w | h) of its last word given the others.
        backoffs: context n-gram (orders 1..N-1) -> gamma(h), the weight of the
            lower-order estimate for words never seen after h.
        discounts: per order, (D1, D2, D3+).
    """

    order: int
    probs: list[dict[NGram, float]] = field(default_factory=list)
    backoffs: dict[NGram, float] = field(default_factory=dict)
    discounts: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def vocabulary(self) -> list[str]:
        """Every word the model knows (with ``<s>``, ``</s>``, ``<unk>``), sorted."""
        return sorted(g[0] for g in self.probs[0])

    def prob(self, context: Iterable[str], word: str) -> float:
        """p(word | context) by back-off (what KenLM computes from the ARPA file).

        ``context`` is the preceding words, oldest first (only the last N - 1
        count); a word the model does not know is ``<unk>``.
        """
        known = self.probs[0]
        words = [w if (w,) in known else UNK for w in (*context, word)]
        return _backoff_prob(self, tuple(words[-self.order:]))

    def write_arpa(self, path: str | Path) -> Path:
        """Write the model as an ARPA file (atomically: :func:`seqlab.atomic.write_text_atomic`)."""
        lines = ["\\data\\"]
        lines += [f"ngram {n}={len(table)}" for n, table in enumerate(self.probs, start=1)]
        for n, table in enumerate(self.probs, start=1):
            lines += ["", f"\\{n}-grams:"]
            for gram in sorted(table):
                p = table[gram]
                line = f"{LOG10_ZERO if p <= 0 else math.log10(p):.6f}\t{' '.join(gram)}"
                if n < self.order and gram in self.backoffs:
                    line += f"\t{math.log10(self.backoffs[gram]):.6f}"
                lines.append(line)
        lines += ["", "\\end\\", ""]
        return write_text_atomic(path, "\n".join(lines))


def _discounts(counts: Counter) -> tuple[float, float, float]:
    """(D1, D2, D3+) of one order from its count-of-counts (Chen and Goodman's estimate)."""
    n = Counter(c for c in counts.values() if c <= 4)
    n1, n2, n3, n4 = (n[k] for k in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:
        return (FALLBACK_DISCOUNT,) * 3
    y = n1 / (n1 + 2 * n2)
    ds = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    if not all(0 < d < k + 1 for k, d in enumerate(ds)):  # degenerate statistics
        return (FALLBACK_DISCOUNT,) * 3
    return ds


def _adjusted_counts(sentences: Iterable[list[str]], order: int) -> list[Counter]:
    """Per order, raw counts (highest order, and n-grams from <s>) or continuation counts."""
    raw = Counter()
    for words in sentences:
        padded = [BOS, *words, EOS]
        for i in range(1, len(padded)):  # every n-gram ending at padded[i], n <= order
            for n in range(1, order + 1):
                if i - n + 1 < 0:
                    break
                raw[tuple(padded[i - n + 1 : i + 1])] += 1
    counts = [Counter() for _ in range(order)]
    for gram, c in raw.items():
        if len(gram) == order:
            counts[order - 1][gram] = c
        if len(gram) > 1:  # one distinct left extension of gram[1:]
            counts[len(gram) - 2][gram[1:]] += 1
    for gram, c in raw.items():  # n-grams starting with <s> have no left extension: raw counts
        if gram[0] == BOS and len(gram) < order:
            counts[len(gram) - 1][gram] = c
    counts[0][(BOS,)] = 0  # <s> is a context only, never predicted
    return counts


def estimate_kneser_ney(lines: Iterable[str], order: int = 3, vocabulary: Iterable[str] = ()) -> NGramModel:
    """Estimate an interpolated modified Kneser-Ney model from text.

    Args:
        lines: sentences, words separated by whitespace (one line = one sentence).
        order: N, at least 1.
        vocabulary: extra words the model should know even if the text never
            uses them (a lexicon's words): they get the unigram level's share
            of the uniform distribution, like ``<unk>``.

    Raises:
        ConfigError: on order < 1, or text without a single word.
    """
    if order < 1:
        raise ConfigError(f"order must be at least 1, got {order}")
    sentences = [line.split() for line in lines]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise ConfigError("the language model text has no words (empty files or blank lines only)")
    for s in sentences:
        for w in s:
            if w in (BOS, EOS):
                raise ConfigError(f"the text contains the reserved word {w!r}; remove it (sentences are wrapped in "
                                  f"{BOS} ... {EOS} automatically)")
    counts = _adjusted_counts(sentences, order)
    vocab = {g[0] for g in counts[0]} | {UNK, EOS} | set(vocabulary)
    vocab.discard(BOS)

    model = NGramModel(order)
    for n in range(1, order + 1):
        table = counts[n - 1]
        d = _discounts(Counter({g: c for g, c in table.items() if c > 0}))
        model.discounts.append(d)
        # per context h: a(h .), and how many words follow h once, twice, 3+ times
        total: dict[NGram, float] = defaultdict(float)
        seen = defaultdict(lambda: [0, 0, 0])
        for gram, c in table.items():
            if c <= 0:
                continue
            total[gram[:-1]] += c
            seen[gram[:-1]][min(c, 3) - 1] += 1
        gamma = {h: (d[0] * k[0] + d[1] * k[1] + d[2] * k[2]) / total[h] for h, k in seen.items()}
        probs: dict[NGram, float] = {}
        if n == 1:
            uniform = 1.0 / len(vocab)
            g0 = gamma.get((), 1.0)
            for w in vocab:
                c = table.get((w,), 0)
                probs[(w,)] = (max(c - d[min(c, 3) - 1], 0.0) / total[()] if c > 0 else 0.0) + g0 * uniform
            probs[(BOS,)] = 0.0
        else:
            for gram, c in table.items():
                if c <= 0:
                    continue
                h = gram[:-1]
                probs[gram] = (c - d[min(c, 3) - 1]) / total[h] + gamma[h] * _backoff_prob(model, gram[1:])
        model.probs.append(probs)
        model.backoffs.update({h: g for h, g in gamma.items() if h})
    return model


def _backoff_prob(model: NGramModel, gram: NGram) -> float:
    """p(gram[-1] | gram[:-1]) from the orders estimated so far, by back-off."""
    weight = 1.0
    while True:
        p = model.probs[len(gram) - 1].get(gram)
        if p is not None:
            return weight * p
        weight *= model.backoffs.get(gram[:-1], 1.0)
        gram = gram[1:]
