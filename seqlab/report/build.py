"""One evaluation, end to end: checkpoint(s) + data module -> a report folder."""

from __future__ import annotations

import datetime as dt
import logging
import platform
import re
from collections import Counter
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import lightning
import torch

from seqlab.checkpoint import file_sha256, load_model, read_checkpoint
from seqlab.data.batch import Collate
from seqlab.data.module import CorpusDataModule
from seqlab.errors import ConfigError
from seqlab.report import plots
from seqlab.report.decoding import check_recipe, make_decoder, pick_device, posteriors, transcribe
from seqlab.report.render import write_report
from seqlab.report.summary import (
    comparison, confusion_counts, confusion_list, corpus_scores, group_scores, length_bins, phone_matrix,
    utterance_rate, utterance_scores, worst,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
EVAL_SPLITS = ("val", "test")
LEVEL = 0.95


def run_dir(checkpoint: str | Path) -> Path:
    """``RUN`` for ``RUN/checkpoints/X.ckpt``, else the checkpoint's folder."""
    ckpt = Path(checkpoint).resolve()
    return ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent


def default_report_dir(checkpoint: str | Path, split: str) -> Path:
    """``RUN/report-SPLIT`` for ``RUN/checkpoints/X.ckpt``; else ``report-SPLIT`` beside the file."""
    return run_dir(checkpoint) / f"report-{split}"


def _model_summary(model, info) -> dict:
    recipe = info.model
    encoder = recipe.get("encoder", {}) if isinstance(recipe, dict) else {}
    return {
        "class": str(recipe.get("_target_", type(model).__name__)),
        "encoder": str(encoder.get("_target_", type(model.encoder).__name__)),
        "encoder_settings": {k: v for k, v in encoder.items()
                             if k != "_target_" and isinstance(v, (int, float, str, bool))},
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def _version() -> str:
    try:
        return metadata.version("seqlab")
    except metadata.PackageNotFoundError:  # run from a checkout that was never pip-installed
        return "unknown (not installed)"


def _safe_name(uid: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", uid)


def _loader(datamodule: CorpusDataModule, split: str):
    if split not in EVAL_SPLITS:
        raise ConfigError(f"split={split!r}: evaluate val or test (the training split's loader augments and shuffles)")
    return datamodule.val_dataloader() if split == "val" else datamodule.test_dataloader()


def _run(checkpoint: Path, datamodule: CorpusDataModule, split: str, device: torch.device, decoder: dict,
         scheme: str | None = None):
    """Decode ``split`` with ``checkpoint``: (model, its info, transcripts, skipped items, decoder description).

    ``scheme``: ``int8`` or ``bf16`` runs the network in that precision on the CPU (:mod:`seqlab.nn.quantize`).
    """
    model, info = load_model(checkpoint, map_location=device)
    model.to(device)
    if scheme is not None:
        from seqlab.nn.quantize import quantize

        model = quantize(model, scheme)
    check_recipe(info.to_dict()["data"], datamodule.checkpoint_data(), checkpoint)
    decode = make_decoder(model.alphabet, **decoder)
    description = decode.describe() + (f"; network quantised ({scheme})" if scheme else "")
    dataset = datamodule.datasets[split]
    transcripts, skipped = transcribe(model, _loader(datamodule, split), dataset.records, device, decode)
    if not transcripts:
        raise ConfigError(f"the {split} split of {type(datamodule).__name__} has no readable utterances")
    return model, info, transcripts, skipped, description


def evaluate_checkpoint(
    checkpoint: str | Path,
    datamodule: CorpusDataModule,
    split: str = "test",
    out_dir: str | Path | None = None,
    compare: str | Path | None = None,
    worst_n: int = 20,
    resamples: int = 1000,
    seed: int = 0,
    device: str = "auto",
    data_config: dict | None = None,
    decoder: dict | None = None,
    quantize: str | None = None,
) -> Path:
    """Evaluate ``checkpoint`` (and ``compare`` against it) on ``split``; write the report.

    Args:
        datamodule: the data module (built with the checkpoint's alphabet), set up.
        out_dir: the report folder (default :func:`default_report_dir`).
        compare: a second checkpoint B, scored on the same utterances and tested
            against A with a paired bootstrap.
        worst_n: how many of the worst utterances the report shows.
        resamples, seed: bootstrap replicates and their seed.
        data_config: the data configuration, as plain data, for the record.
        decoder: ``name`` (a :data:`seqlab.decode.DECODERS` entry; default greedy)
            and that decoder's settings (beam: beam_size, lexicon, lm, lm_weight,
            word_score, ...); None values take the decoder's defaults.
            Both checkpoints of a comparison are decoded the same way.
        quantize: ``int8`` or ``bf16`` evaluates the network in that precision (:mod:`seqlab.nn.quantize`, CPU only).

    Returns:
        The report folder.
    """
    checkpoint = Path(checkpoint)
    dev = pick_device(device)
    out = Path(out_dir) if out_dir else default_report_dir(checkpoint, split)
    decoder = {k: v for k, v in (decoder or {}).items() if v is not None}  # None: the decoder's default
    model, info, transcripts, skipped, description = _run(checkpoint, datamodule, split, dev, decoder, quantize)
    metrics = list(model.metric_names)
    primary = metrics[0]
    utterances = utterance_scores(transcripts, metrics)
    log.info("%s: %d utterances of the %s split decoded", checkpoint, len(utterances), split)

    counts = {name: confusion_counts(transcripts, name) for name in metrics}
    scores = corpus_scores(utterances, metrics, resamples, seed, LEVEL)
    meta = _metadata(checkpoint, model, info, datamodule, dev)
    meta.update({
        "decoder": description, "decoder_settings": decoder,
        "quantize": quantize,
        "split": split, "utterances": len(utterances), "skipped": skipped,
        "out_of_alphabet": out_of_alphabet(transcripts, model.alphabet),
        "reference_units": {n: scores[n]["ref_length"] for n in metrics}, "metrics": metrics,
        "data": data_config or {},
        "bootstrap": {"resamples": resamples, "seed": seed, "level": LEVEL,
                      "method": "percentile bootstrap over utterances (Bisani and Ney 2004): "
                                "numpy.random.default_rng(seed).integers(0, n, (resamples, n))"},
    })
    report: dict = {
        "format": FORMAT_VERSION,
        "title": f"{checkpoint.name} ({run_dir(checkpoint).name}) on the {split} split",
        "primary": primary,
        "meta": meta,
        "metrics": scores,
        "groups": group_scores(utterances, metrics),
        "length_bins": length_bins(utterances, primary),
        "confusions": {n: confusion_list(c) for n, c in counts.items()},
        "worst": worst(utterances, primary, worst_n),
    }
    if "per" in metrics:
        report["confusion_matrix"] = phone_matrix(counts["per"])
    if compare:
        report["compare"] = _compare(Path(compare), datamodule, split, dev, utterances, metrics, resamples, seed,
                                     decoder, quantize)
    report["utterances"] = utterances
    figures = _figures(report, model, datamodule, split, dev)
    write_report(out, report, figures)
    log.info("report written to %s", out)
    return out


def out_of_alphabet(transcripts, alphabet) -> dict:
    """The reference symbols the model cannot write: each occurrence is scored as an error.

    Returns:
        ``symbols`` (symbol -> occurrences, most frequent first), ``occurrences``
        and ``utterances`` (how many references hold one).
    """
    counts: Counter[str] = Counter()
    holding = 0
    for t in transcripts:
        units = [u for u in alphabet.split(t.reference) if u not in alphabet and not u.isspace()]
        counts.update(units)
        holding += bool(units)
    return {"symbols": dict(counts.most_common()), "occurrences": sum(counts.values()), "utterances": holding}


def _metadata(checkpoint: Path, model, info, datamodule: CorpusDataModule, device: torch.device) -> dict:
    """What was evaluated, with what, where and when."""
    ckpt = read_checkpoint(checkpoint, map_location="cpu")
    return {
        "checkpoint": str(checkpoint.resolve()), "checkpoint_sha256": file_sha256(checkpoint),
        "epoch": ckpt.get("epoch"), "global_step": ckpt.get("global_step"),
        "data_kind": datamodule.frontend.name, "data_root": str(datamodule.reader.root),
        "group_label": datamodule.reader.group_label, "frontend": info.frontend, "text": info.text,
        "trained_on": info.corpus, "parent": info.parent,
        "alphabet_size": len(model.alphabet), "alphabet_unit": model.alphabet.unit,
        "model": _model_summary(model, info), "device": str(device),
        "versions": {"seqlab": _version(), "torch": torch.__version__,
                     "lightning": lightning.__version__, "python": platform.python_version()},
        "date": dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
    }


def _compare(checkpoint: Path, datamodule: CorpusDataModule, split: str, device: torch.device,
             utterances_a: Sequence[dict], metrics: Sequence[str], resamples: int, seed: int,
             decoder: dict, scheme: str | None) -> dict:
    _, _, transcripts, _, _ = _run(checkpoint, datamodule, split, device, decoder, scheme)
    utterances_b = utterance_scores(transcripts, metrics)
    return {
        "checkpoint": str(checkpoint.resolve()),
        "checkpoint_sha256": file_sha256(checkpoint),
        "metrics": corpus_scores(utterances_b, metrics, resamples, seed, LEVEL),
        "paired": comparison(utterances_a, utterances_b, metrics, resamples, seed, LEVEL),
        "utterances": [{"id": u["id"], "hypothesis": u["hypothesis"], "scores": u["scores"]} for u in utterances_b],
    }


def _figures(report: dict, model, datamodule: CorpusDataModule, split: str, device: torch.device) -> dict[str, bytes]:
    primary, meta = report["primary"], report["meta"]
    m = report["metrics"][primary]
    utts = report["utterances"]
    figures = {
        "groups.png": plots.group_plot(report["groups"], primary, m["rate"],
                                       f"{primary.upper()} per {meta['group_label']}"),
        "length.png": plots.length_plot(report["length_bins"], [u["scores"][primary]["ref_length"] for u in utts],
                                        [utterance_rate(u, primary) for u in utts], primary, m["units"], m["rate"]),
    }
    report["figures"] = {"groups": "groups.png", "length": "length.png"}
    if "confusion_matrix" in report:
        cm = report["confusion_matrix"]
        figures["confusion_matrix.png"] = plots.confusion_heatmap(
            cm["labels"], cm["counts"], f"phone confusions, {meta['split']} split (rows: reference, normalised)")
        report["figures"]["confusion_matrix"] = "confusion_matrix.png"
    dataset = datamodule.datasets[split]
    records = {r.id: r for r in dataset.records}
    shown = [w["id"] for w in report["worst"]]
    frames = posteriors(model, dataset, shown, device, Collate(datamodule.frontend.pad))
    for w in report["worst"]:
        if w["id"] not in frames:  # unreadable now
            continue
        name = f"examples/{w['rank']:02d}-{_safe_name(w['id'])}.png"
        title = f"{w['id']}: CTC log-probabilities (row 0: blank)"
        figures[name] = datamodule.frontend.figure(records[w["id"]], frames[w["id"]], model.alphabet.symbols, title)
        w["figure"] = name
    return figures
