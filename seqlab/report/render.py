"""A report's three faces: report.json (the data), report.md and a self-contained report.html.

The HTML page embeds its figures as ``data:image/png;base64`` URIs, so the one
file can be mailed or archived; the Markdown page links the PNG files written
next to it. Every file is written to a temporary name in its own folder and
renamed into place (:func:`seqlab.atomic.write_atomic`), so a reader never sees half a report
file.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from seqlab.atomic import write_atomic
from seqlab.metrics import splitter
from seqlab.report.alignment import segments
from seqlab.report.summary import EMPTY, joiner

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:2em auto;max-width:1100px;
 padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{font-size:1em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.headline{font-size:1.15em;background:#f5f8ff;border-left:4px solid #36c;padding:.6em 1em}
.verdict{font-weight:600}
img{max-width:100%;border:1px solid #eee}
.diff{font-family:"DejaVu Sans Mono",monospace;white-space:pre-wrap;background:#fafafa;padding:.5em;
 border:1px solid #eee}
del{background:#fdd;color:#a00;text-decoration:line-through}ins{background:#dfd;color:#060;text-decoration:none}
.sub del,.sub ins{font-weight:600}
.meta td:first-child{font-weight:600;white-space:nowrap}
.row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}.row h3{margin:.3em 0}
"""

TOP_CONFUSIONS = 20


def write_report(folder: Path, report: dict, figures: dict[str, bytes]) -> list[Path]:
    """Write the figures (``figures``: relative path -> PNG), report.json, report.md and report.html."""
    written = []
    for rel, data in figures.items():
        write_atomic(folder / rel, data)
        written.append(folder / rel)
    pages = {
        "report.json": json.dumps(plain(report), indent=1, ensure_ascii=False, allow_nan=False) + "\n",
        "report.md": markdown(report),
        "report.html": html_page(report, figures),
    }
    for name, text in pages.items():
        write_atomic(folder / name, text.encode("utf-8"))
        written.append(folder / name)
    return written


def plain(obj):
    """``obj`` with every non-finite float as None: JSON has no NaN (a rate over no units is one)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f} %"


def points(x: float | None) -> str:
    """A difference of two rates, in percentage points (pt)."""
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:+.2f} pt"


def _unit(u) -> str:
    return EMPTY if u is None else "␣" if u == " " else str(u)


# --- the parts both pages share ----------------------------------------------
def headline(report: dict) -> str:
    meta, metrics = report["meta"], report["metrics"]
    parts = [f"{name.upper()} {pct(m['rate'])} (95 % CI {pct(m['ci_low'])} – {pct(m['ci_high'])})"
             for name, m in metrics.items()]
    first = metrics[report["primary"]]
    return (f"{'; '.join(parts)} on the {meta['split']} split: {meta['utterances']:,} utterances, "
            f"{first['ref_length']:,} reference {first['units']}.")


def score_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    head = ["metric", "rate", "95 % CI", "errors", "substitutions", "deletions", "insertions", "reference units"]
    rows = [[name.upper(), pct(m["rate"]), f"{pct(m['ci_low'])} – {pct(m['ci_high'])}", f"{m['edits']:,}",
             f"{m['substitutions']:,}", f"{m['deletions']:,}", f"{m['insertions']:,}",
             f"{m['ref_length']:,} {m['units']}"] for name, m in report["metrics"].items()]
    return head, rows


def compare_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    paired = report["compare"]["paired"]
    head = ["metric", "A", "B", "A − B", "95 % CI of A − B", "P(A better)", "verdict"]
    rows = [[name.upper(), pct(p["rate_a"]), pct(p["rate_b"]), points(p["difference"]),
             f"{points(p['low'])} – {points(p['high'])}", f"{p['prob_a_better']:.3f}", p["verdict"]]
            for name, p in paired.items()]
    return head, rows


def group_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    names = list(report["metrics"])
    head = [report["meta"]["group_label"], "utterances", *(n.upper() for n in names)]
    rows = [[g["group"] or "(none)", str(g["utterances"]), *(pct(g[n]["rate"]) for n in names)]
            for g in report["groups"]]
    return head, rows


def length_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    primary = report["primary"]
    head = [f"reference length ({report['metrics'][primary]['units']})", "utterances", "errors", primary.upper()]
    rows = [[f"{b['min']}–{b['max']}" if b["min"] != b["max"] else str(b["min"]), str(b["utterances"]),
             f"{b['edits']:,} / {b['ref_length']:,}", pct(b["rate"])] for b in report["length_bins"]]
    return head, rows


def confusion_rows(report: dict, metric: str) -> tuple[list[str], list[list[str]]]:
    head = ["reference", "hypothesis", "count", "kind"]
    rows = [[_unit(c["ref"]), _unit(c["hyp"]), str(c["count"]), c["kind"]]
            for c in report["confusions"][metric][:TOP_CONFUSIONS]]
    return head, rows


def confusion_metrics(report: dict) -> list[str]:
    """Metrics whose error lists differ (``wer_joined`` often repeats ``wer`` on a corpus without punctuation)."""
    shown: list[str] = []
    for name in report["metrics"]:
        if all(report["confusions"][name] != report["confusions"][s] for s in shown):
            shown.append(name)
    return shown


GROUP_NOTES = {"form": "IAM groups lines by form; each form is written by one writer.",
               "speaker": ""}


def meta_rows(report: dict) -> list[tuple[str, str]]:
    m = report["meta"]
    model = m["model"]
    rows = [
        ("checkpoint", m["checkpoint"]),
        ("checkpoint sha256", m["checkpoint_sha256"]),
        ("trained", f"epoch {m['epoch']}, step {m['global_step']}"),
        ("split", m["split"]),
        ("utterances", f"{m['utterances']:,}" + (f" ({len(m['skipped'])} unreadable, left out)"
                                                  if m["skipped"] else "")),
        ("reference units", ", ".join(f"{n.upper()}: {v:,}" for n, v in m["reference_units"].items())),
        ("data", f"{m['data'].get('_target_', '?')} ({m['data_root']})"),
        ("alphabet", f"{m['alphabet_size']} symbols ({m['alphabet_unit']}) + blank"),
        ("model", f"{model['class']}: {model['encoder']} ({model['parameters']:,} parameters)"),
        ("encoder settings", ", ".join(f"{k}={v}" for k, v in model["encoder_settings"].items())),
        ("decoder", m["decoder"]),
        ("bootstrap", f"{m['bootstrap']['resamples']} resamples of utterances, seed {m['bootstrap']['seed']}, "
                      f"{m['bootstrap']['level']:.0%} percentile interval"),
        ("device", m["device"]),
        ("versions", ", ".join(f"{k} {v}" for k, v in m["versions"].items())),
        ("date", m["date"]),
    ]
    outside = m.get("out_of_alphabet") or {}
    if outside.get("occurrences"):
        shown = ", ".join(f"{sym} x{n}" for sym, n in list(outside["symbols"].items())[:20])
        rows.insert(6, ("symbols the model cannot write", f"{outside['occurrences']:,} in {outside['utterances']:,} "
                        f"reference(s): {shown}; scored as written, each an error"))
    parent = m.get("parent")
    if parent:
        change = parent.get("alphabet", {})
        added, removed = change.get("added", []), change.get("removed", [])
        rows.insert(3, ("fine-tuned from", f"{parent.get('path')} (sha256 {str(parent.get('sha256'))[:16]}...; "
                        f"alphabet policy {change.get('policy')}: {len(added)} symbol(s) added"
                        f"{' ' + ' '.join(added[:20]) if added else ''}, {len(removed)} removed)"))
    if "compare" in report:
        rows.insert(1, ("compared with (B)", report["compare"]["checkpoint"]))
    return rows


def diff_units(report: dict, utterance: dict) -> tuple[list, list, str]:
    primary = report["primary"]
    units = splitter(primary)
    return units(utterance["reference"]), units(utterance["hypothesis"]), joiner(primary)


def _by_id(report: dict) -> dict[str, dict]:
    return {u["id"]: u for u in report["utterances"]}


# --- Markdown ---------------------------------------------------------------
def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc: Callable[[str], str] = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(esc, head)) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def md_diff(ref: Sequence, hyp: Sequence, sep: str) -> str:
    """wdiff-style marking: ``[-deleted-]``, ``{+inserted+}``, a substitution is both."""
    def text(units) -> str:
        return sep.join("␣" if u == " " else str(u) for u in units)

    out = []
    for s in segments(ref, hyp):
        if s.tag == "equal":
            out.append(sep.join(map(str, s.ref)))
        else:
            marks = ([f"[-{text(s.ref)}-]"] if s.ref else []) + ([f"{{+{text(s.hyp)}+}}"] if s.hyp else [])
            out.append(sep.join(marks))
    return sep.join(out) if sep else "".join(out)


def markdown(report: dict) -> str:
    meta = report["meta"]
    primary = report["primary"]
    fig = report["figures"]
    out = [f"# Evaluation report: {report['title']}\n", f"**{headline(report)}**\n"]
    out += ["## Scores\n", _md_table(*score_rows(report))]
    if "compare" in report:
        out += ["## A against B (paired bootstrap)\n",
                f"A: `{meta['checkpoint']}`  \nB: `{report['compare']['checkpoint']}`\n",
                _md_table(*compare_rows(report))]
    note = GROUP_NOTES.get(meta["group_label"], "")
    out += [f"## Per {meta['group_label']}\n", *([note + "\n"] if note else []),
            f"![{meta['group_label']} error rates]({fig['groups']})\n",
            _md_table(*group_rows(report))]
    out += ["## Error rate against reference length\n", f"![error rate by length]({fig['length']})\n",
            _md_table(*length_rows(report))]
    out += ["## Most frequent errors\n"]
    for name in confusion_metrics(report):
        out += [f"### {name.upper()} ({report['metrics'][name]['units']})\n", _md_table(*confusion_rows(report, name))]
    if "confusion_matrix" in fig:
        out += ["## Phone confusion matrix\n", f"![phone confusions]({fig['confusion_matrix']})\n"]
    if report["worst"]:
        out += [f"## The {len(report['worst'])} worst utterances (by {primary.upper()})\n",
                "Differences in the scored units: `[-reference-]` deleted or replaced, `{+hypothesis+}` inserted "
                "or substituted.\n"]
    utts = _by_id(report)
    for w in report["worst"]:
        u = utts[w["id"]]
        s = u["scores"][primary]
        out.append(f"### {w['rank']}. {u['id']} ({meta['group_label']} {u['group'] or '-'}): "
                   f"{primary.upper()} {pct(w['rate'])}, {s['edits']} errors in {s['ref_length']}\n")
        if w.get("figure"):
            out.append(f"![{u['id']}]({w['figure']})\n")
        ref, hyp, sep = diff_units(report, u)
        out.append(f"```\nREF:  {u['reference']}\nHYP:  {u['hypothesis']}\nDIFF: {md_diff(ref, hyp, sep)}\n```\n")
    out += ["## About this evaluation\n", _md_table(["setting", "value"], meta_rows(report))]
    return "\n".join(out)


# --- HTML -------------------------------------------------------------------
def _h_table(head: Sequence[str] | None, rows: Sequence[Sequence[str]], cls: str = "",
             text_columns: Sequence[int] = ()) -> str:
    """A table; cells that start with a number are right-aligned, except in ``text_columns``
    and in a ``meta`` (key: value) table."""
    def cell(v: str, tag: str, col: int) -> str:
        numeric = (tag == "td" and cls != "meta" and col not in text_columns
                   and str(v).lstrip("+-")[:1].isdigit())
        return f"<{tag}{' class=n' if numeric else ''}>{html.escape(str(v))}</{tag}>"

    top = "<tr>" + "".join(cell(h, "th", i) for i, h in enumerate(head)) + "</tr>" if head else ""
    body = "".join("<tr>" + "".join(cell(v, "td", i) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table{f' class={cls}' if cls else ''}>{top}{body}</table>"


def _img(figures: dict[str, bytes], rel: str, alt: str) -> str:
    data = base64.b64encode(figures[rel]).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def html_diff(ref: Sequence, hyp: Sequence, sep: str) -> str:
    """The alignment inline: ``<del>`` for reference units the hypothesis lacks or replaced,
    ``<ins>`` for what it put instead or added."""
    def text(units) -> str:
        return html.escape(sep.join("␣" if u == " " else str(u) for u in units))

    out = []
    for s in segments(ref, hyp):
        if s.tag == "equal":
            out.append(html.escape(sep.join(map(str, s.ref))))
        else:
            marked = sep.join(([f"<del>{text(s.ref)}</del>"] if s.ref else [])
                              + ([f"<ins>{text(s.hyp)}</ins>"] if s.hyp else []))
            out.append(f'<span class="sub">{marked}</span>' if s.tag == "replace" else marked)
    return sep.join(out) if sep else "".join(out)


def html_page(report: dict, figures: dict[str, bytes]) -> str:
    meta, primary, fig = report["meta"], report["primary"], report["figures"]
    title = html.escape(report["title"])
    out = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
           f"<style>{CSS}</style></head><body>",
           f"<h1>Evaluation report: {title}</h1>", f'<p class="headline">{html.escape(headline(report))}</p>',
           "<h2>Scores</h2>", _h_table(*score_rows(report))]
    if "compare" in report:
        first = next(iter(report["compare"]["paired"].values()))
        out += ["<h2>A against B (paired bootstrap)</h2>",
                f"<p>A: <code>{html.escape(meta['checkpoint'])}</code><br>"
                f"B: <code>{html.escape(report['compare']['checkpoint'])}</code></p>",
                f'<p class="verdict">{html.escape(primary.upper())}: {html.escape(first["verdict"])}.</p>',
                _h_table(*compare_rows(report))]
    note = GROUP_NOTES.get(meta["group_label"], "")
    out += [f"<h2>Per {html.escape(meta['group_label'])}</h2>",
            f"<p>{html.escape(note)}</p>" if note else "",
            _img(figures, fig["groups"], "per-group error rates"),
            "<details><summary>table</summary>", _h_table(*group_rows(report), text_columns=(0,)), "</details>",
            "<h2>Error rate against reference length</h2>", _img(figures, fig["length"], "error rate by length"),
            _h_table(*length_rows(report)), "<h2>Most frequent errors</h2>"]
    out.append('<div class="row">')
    for name in confusion_metrics(report):
        out += [f"<div><h3>{name.upper()} ({html.escape(report['metrics'][name]['units'])})</h3>",
                _h_table(*confusion_rows(report, name), text_columns=(0, 1)), "</div>"]
    out.append("</div>")
    if "confusion_matrix" in fig:
        out += ["<h2>Phone confusion matrix</h2>", _img(figures, fig["confusion_matrix"], "phone confusion matrix")]
    if report["worst"]:
        out += [f"<h2>The {len(report['worst'])} worst utterances (by {primary.upper()})</h2>",
                "<p>Differences in the scored units: <del>reference</del> deleted or replaced, "
                "<ins>hypothesis</ins> inserted or substituted.</p>"]
    utts = _by_id(report)
    for w in report["worst"]:
        u = utts[w["id"]]
        s = u["scores"][primary]
        out.append(f"<h3>{w['rank']}. {html.escape(u['id'])} ({html.escape(meta['group_label'])} "
                   f"{html.escape(u['group'] or '-')}): {primary.upper()} {pct(w['rate'])}, "
                   f"{s['edits']} errors in {s['ref_length']}</h3>")
        if w.get("figure"):
            out.append(_img(figures, w["figure"], u["id"]))
        ref, hyp, sep = diff_units(report, u)
        out.append(f'<div class="diff">REF:  {html.escape(u["reference"])}\nHYP:  {html.escape(u["hypothesis"])}\n'
                   f"DIFF: {html_diff(ref, hyp, sep)}</div>")
    out += ["<h2>About this evaluation</h2>", _h_table(None, meta_rows(report), cls="meta"), "</body></html>"]
    return "\n".join(out)
