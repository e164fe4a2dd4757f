"""The report's figures, as PNG bytes.

Figures are drawn on matplotlib's Agg canvas directly (``Figure`` +
``FigureCanvasAgg``), never through pyplot: no global backend is chosen, no
window can open, and nothing is left registered between calls.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seqlab.data.images import open_grey

DPI = 100


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def length_plot(bins: Sequence[dict], lengths: Sequence[int], rates: Sequence[float], metric: str,
                units: str, corpus_rate: float) -> bytes:
    """Error rate against reference length: utterances as dots, bins as a line with their sizes."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(7, 3.6)
    ax = fig.add_subplot()
    ax.scatter(lengths, np.asarray(rates) * 100, s=8, alpha=0.25, color="tab:gray", label="utterances")
    centres = [(b["min"] + b["max"]) / 2 for b in bins]
    ax.plot(centres, [b["rate"] * 100 for b in bins], "o-", color="tab:blue", label="bins (corpus rate)")
    for c, b in zip(centres, bins):
        ax.annotate(f"n={b['utterances']}", (c, b["rate"] * 100), textcoords="offset points", xytext=(0, 7),
                    ha="center", fontsize=7, color="tab:blue")
    ax.axhline(corpus_rate * 100, color="tab:red", lw=1, ls="--", label=f"corpus {metric.upper()}")
    ax.set_xlabel(f"reference length ({units})")
    ax.set_ylabel(f"{metric.upper()} (%)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # a few utterances with many insertions would flatten the bins: they are clipped
    points = np.asarray(rates, dtype=float) * 100
    top = max([corpus_rate * 100, *(b["rate"] * 100 for b in bins), np.percentile(points, 98) if len(points) else 0])
    ax.set_ylim(0, max(top * 1.2, 1.0))
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    return _png(fig)


def group_plot(groups: Sequence[dict], metric: str, corpus_rate: float, title: str, limit: int = 40) -> bytes:
    """Horizontal bars of per-group error rates, worst at the top (the ``limit`` worst shown)."""
    shown = list(groups[:limit])
    fig = _figure(7, 1.0 + 0.22 * len(shown))
    ax = fig.add_subplot()
    y = np.arange(len(shown))[::-1]
    ax.barh(y, [g[metric]["rate"] * 100 for g in shown], color="tab:blue", alpha=0.8)
    ax.set_yticks(y, [f"{g['group'] or '(none)'} ({g['utterances']})" for g in shown], fontsize=7)
    ax.axvline(corpus_rate * 100, color="tab:red", lw=1, ls="--")
    ax.set_xlabel(f"{metric.upper()} (%)")
    more = f", the {limit} worst of {len(groups)}" if len(groups) > limit else ""
    ax.set_title(f"{title}{more}; utterances in brackets; dashed: corpus {metric.upper()}", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def confusion_heatmap(labels: Sequence[str], counts: Sequence[Sequence[int]], title: str) -> bytes:
    """Row-normalised confusion matrix: reference rows, hypothesis columns, the last of each ∅."""
    from matplotlib.colors import PowerNorm

    m = np.asarray(counts, dtype=float)
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    fig = _figure(8.5, 7.6)
    ax = fig.add_subplot()
    # gamma < 1 lifts the small off-diagonal shares the diagonal would otherwise drown
    im = ax.imshow(share, cmap="viridis", norm=PowerNorm(gamma=0.4, vmin=0, vmax=1), interpolation="nearest")
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels, rotation=90, fontsize=7)
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.set_xlabel("hypothesis (∅: deleted)")
    ax.set_ylabel("reference (∅: inserted)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8, label="share of the reference row")
    return _png(fig)


def posteriorgram(log_probs: np.ndarray, symbols: Sequence[str], title: str) -> bytes:
    """(T, K) log-probabilities as an image: classes up, frames across (blank is row 0)."""
    k = log_probs.shape[1]
    fig = _figure(9, min(1.2 + 0.06 * k, 5.0))
    ax = fig.add_subplot()
    im = ax.imshow(np.clip(log_probs.T, -15, 0), aspect="auto", origin="lower", cmap="magma",
                   interpolation="nearest", vmin=-15, vmax=0)
    names = ["<b>", *symbols][:k]
    step = -(-k // 32)  # at most 32 labels: readable at this height
    ax.set_yticks(np.arange(0, k, step), [_visible(n) for n in names[::step]], fontsize=6)
    ax.set_xlabel("output frame")
    ax.set_title(title, fontsize=8)
    fig.colorbar(im, ax=ax, pad=0.01, label="log-probability")
    return _png(fig)


def line_image(path, height: int = 64, max_width: int = 1400) -> bytes:
    """A handwritten line image (a file, or a grey Pillow image), scaled to ``height``
    (narrower when that would exceed ``max_width``)."""
    from PIL import Image

    img = path if isinstance(path, Image.Image) else open_grey(path)
    scale = min(height / img.height, max_width / img.width)
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def learning_curves(history: Sequence[dict], title: str = "") -> bytes:
    """Train and validation loss, and the validation error rates, per epoch.

    ``history``: one dict per epoch, ``{"epoch": n, "train/loss": x, "val/loss": y, "val/cer": z, ...}``;
    missing keys are gaps.
    """
    fig = _figure(8, 3.2)
    loss_ax, err_ax = fig.subplots(1, 2)
    epochs = [h["epoch"] for h in history]

    def series(key: str) -> list[float]:
        return [float(h.get(key, np.nan)) for h in history]

    for key, style in (("train/loss", "o-"), ("val/loss", "s-")):
        if any(key in h for h in history):
            loss_ax.plot(epochs, series(key), style, ms=3, label=key)
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("CTC loss")
    loss_ax.grid(alpha=0.3)
    loss_ax.legend(fontsize=8)
    rates = sorted({k for h in history for k in h if k.startswith("val/") and k != "val/loss"})
    for key in rates:
        err_ax.plot(epochs, [v * 100 for v in series(key)], "o-", ms=3, label=key)
    err_ax.set_xlabel("epoch")
    err_ax.set_ylabel("error rate (%)")
    err_ax.grid(alpha=0.3)
    if rates:
        err_ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return _png(fig)


def _visible(symbol: str) -> str:
    return "␣" if symbol == " " else symbol
