"""What an evaluation report says, computed from references and hypotheses alone.

Everything here is plain data (the body of ``report.json``): per-utterance
counts, corpus rates with bootstrap intervals, per-speaker / per-writer rates,
confusions, error rate by reference length, the worst utterances, and for
phone recognition the 39-phone confusion matrix.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqlab.metrics import splitter
from seqlab.report.alignment import Edits, aligned_pairs, count_edits, total
from seqlab.report.stats import bootstrap_interval, paired_bootstrap
from seqlab.text.phones import TIMIT_PHONES_39

# how each metric's units are named in a report, and joined back into text
UNIT_NAMES = {"cer": "characters", "wer": "words", "wer_joined": "words (punctuation attached)",
              "per": "phones (39-phone folding)"}
EMPTY = "∅"  # the missing side of a deletion or insertion


def unit_name(metric: str) -> str:
    return UNIT_NAMES.get(metric, "units")


def joiner(metric: str) -> str:
    """What separates a metric's units when they are written back as text."""
    return "" if metric == "cer" else " "


@dataclass(frozen=True)
class Transcript:
    """One utterance as the model read it."""

    id: str
    group: str  # speaker, or writer / form
    source: str  # its input file
    reference: str
    hypothesis: str


def utterance_scores(transcripts: Sequence[Transcript], metrics: Sequence[str]) -> list[dict]:
    """Per utterance: id, group, reference, hypothesis and each metric's counts."""
    out = []
    for t in transcripts:
        scores = {}
        for name in metrics:
            units = splitter(name)
            scores[name] = count_edits(units(t.reference), units(t.hypothesis)).to_dict()
        out.append({"id": t.id, "group": t.group, "source": t.source, "reference": t.reference,
                    "hypothesis": t.hypothesis, "scores": scores})
    return out


def _edits(utterances: Sequence[dict], metric: str) -> list[Edits]:
    return [Edits(s["substitutions"], s["deletions"], s["insertions"], s["ref_length"])
            for s in (u["scores"][metric] for u in utterances)]


def corpus_scores(utterances: Sequence[dict], metrics: Sequence[str], resamples: int, seed: int,
                  level: float = 0.95) -> dict:
    """Per metric: total counts, corpus rate and its bootstrap interval over utterances."""
    out = {}
    for name in metrics:
        edits = _edits(utterances, name)
        summed = total(edits)
        interval = bootstrap_interval([e.errors for e in edits], [e.ref_length for e in edits],
                                      resamples=resamples, level=level, seed=seed)
        out[name] = {**summed.to_dict(), "rate": summed.rate, "ci_low": interval.low,
                     "ci_high": interval.high, "units": unit_name(name)}
    return out


def group_scores(utterances: Sequence[dict], metrics: Sequence[str]) -> list[dict]:
    """Per speaker / writer: utterances and each metric's corpus rate; worst first by the first metric."""
    by_group: dict[str, list[dict]] = defaultdict(list)
    for u in utterances:
        by_group[u["group"]].append(u)
    rows = []
    for group, members in by_group.items():
        row = {"group": group, "utterances": len(members)}
        for name in metrics:
            s = total(_edits(members, name))
            row[name] = {"edits": s.errors, "ref_length": s.ref_length, "rate": s.rate}
        rows.append(row)
    first = metrics[0]
    return sorted(rows, key=lambda r: (-r[first]["rate"], r["group"]))


def length_bins(utterances: Sequence[dict], metric: str, max_bins: int = 8) -> list[dict]:
    """Corpus error rate of utterances grouped by reference length (in the metric's units).

    Bin edges are quantiles of the lengths, so bins hold similar numbers of
    utterances; a bin is ``min <= length <= max``, the ranges do not overlap.
    """
    lengths = np.array([u["scores"][metric]["ref_length"] for u in utterances])
    cuts = np.quantile(lengths, np.linspace(0, 1, max_bins + 1)[1:-1], method="higher")
    starts = sorted({int(lengths.min())} | {int(c) for c in cuts if c > lengths.min()})
    ends = [s - 1 for s in starts[1:]] + [int(lengths.max())]
    rows = []
    for lo, hi in zip(starts, ends):
        members = [u for u, n in zip(utterances, lengths) if lo <= n <= hi]
        if not members:
            continue
        s = total(_edits(members, metric))
        rows.append({"min": lo, "max": hi, "utterances": len(members), "edits": s.errors,
                     "ref_length": s.ref_length, "rate": s.rate})
    return rows


def confusion_counts(transcripts: Sequence[Transcript], metric: str) -> Counter:
    """Aligned ``(ref unit, hyp unit)`` pairs over the corpus, matches included (None: missing side)."""
    units = splitter(metric)
    counts: Counter = Counter()
    for t in transcripts:
        counts.update(aligned_pairs(units(t.reference), units(t.hypothesis)))
    return counts


def confusion_list(counts: Counter) -> list[dict]:
    """Every error pair, most frequent first: ``ref`` / ``hyp`` are None for an insertion / deletion."""
    errors = [(r, h, n) for (r, h), n in counts.items() if r != h]
    errors.sort(key=lambda x: (-x[2], str(x[0]), str(x[1])))
    return [{"ref": r, "hyp": h, "count": n,
             "kind": "deletion" if h is None else "insertion" if r is None else "substitution"}
            for r, h, n in errors]


def phone_matrix(counts: Counter) -> dict:
    """The 39-phone confusion matrix plus a row for insertions and a column for deletions.

    ``counts[i][j]``: reference ``labels[i]`` aligned with hypothesis ``labels[j]``;
    the last label, ∅, is the missing side.
    """
    labels = list(TIMIT_PHONES_39)
    extra = sorted({u for pair in counts for u in pair if u is not None and u not in labels})
    labels += extra + [EMPTY]  # a label outside the 39 (a model of another phone set) still shows
    index = {p: i for i, p in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for (r, h), n in counts.items():
        matrix[index[EMPTY if r is None else r]][index[EMPTY if h is None else h]] += n
    return {"labels": labels, "counts": matrix}


def utterance_rate(u: dict, metric: str) -> float:
    s = u["scores"][metric]
    return s["edits"] / s["ref_length"] if s["ref_length"] else float("inf") if s["edits"] else 0.0


def worst(utterances: Sequence[dict], metric: str, n: int) -> list[dict]:
    """The ``n`` utterances with the highest error rate (then most errors, then id)."""
    ranked = sorted(utterances, key=lambda u: (-utterance_rate(u, metric), -u["scores"][metric]["edits"], u["id"]))
    return [{"rank": i + 1, "id": u["id"], "rate": utterance_rate(u, metric)} for i, u in enumerate(ranked[:n])]


def comparison(a: Sequence[dict], b: Sequence[dict], metrics: Sequence[str], resamples: int, seed: int,
               level: float = 0.95) -> dict:
    """Paired bootstrap of system A against B, per metric, on the same utterances in the same order."""
    if [u["id"] for u in a] != [u["id"] for u in b]:
        raise ValueError("the two systems were scored on different utterances")
    out = {}
    for name in metrics:
        ea, eb = _edits(a, name), _edits(b, name)
        test = paired_bootstrap([e.errors for e in ea], [e.errors for e in eb], [e.ref_length for e in ea],
                                resamples=resamples, level=level, seed=seed)
        out[name] = {**test.to_dict(), "verdict": test.verdict("A", "B")}
    return out
