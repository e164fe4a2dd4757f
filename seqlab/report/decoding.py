"""Run a trained model over a data split and gather what a report needs.

:func:`transcribe` decodes every utterance of a split with a registered
decoder (:func:`make_decoder`: greedy, what the training run scores with, or
beam search with a lexicon and an n-gram LM); :func:`posteriors` re-runs the few utterances a
report shows, one at a time, for their frame posteriors; :func:`check_recipe`
refuses a data configuration that would feed the model inputs unlike the ones
it was trained on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from seqlab.data.batch import Collate, Sample
from seqlab.data.module import RecordDataset
from seqlab.decode import Decoder, build_decoder
from seqlab.checkpoint import PREPROCESSING as RECIPE_KEYS
from seqlab.checkpoint import recipe_differences, recipe_value
from seqlab.errors import ConfigError
from seqlab.report.summary import Transcript

log = logging.getLogger(__name__)



def pick_device(name: str) -> torch.device:
    """``auto``: the GPU when there is one, else the CPU; otherwise a torch device name."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device={name!r} is not a torch device; use auto, cpu, cuda or cuda:N") from None


def make_decoder(alphabet, name: str = "greedy", **settings) -> Decoder:
    """The decoder a report uses: ``decoder.name`` and its settings (None: the decoder's default).

    Raises:
        ConfigError: an unknown name, or a setting the decoder does not take.
    """
    return build_decoder(name, alphabet, **settings)


@torch.inference_mode()
def transcribe(
    model, loader: DataLoader, records: Sequence, device: torch.device, decoder: Decoder
) -> tuple[list[Transcript], list[str]]:
    """Transcriptions of every item ``loader`` yields.

    Args:
        model: a :class:`~seqlab.lit.CTCModule` (eval mode, on ``device``).
        loader: batches of one split, in any order.
        records: the split's :class:`~seqlab.data.module.Record` s (for groups).
        decoder: a :class:`~seqlab.decode.Decoder` for the model's alphabet.

    Returns:
        (transcripts sorted by id, ``"source: reason"`` of the items that could not be read).
    """
    groups = {r.id: r.group for r in records}
    out: list[Transcript] = []
    skipped: list[str] = []
    for batch in loader:
        skipped.extend(batch.skipped)
        if len(batch) == 0:
            continue
        log_probs, lengths = model(batch.inputs.to(device), batch.input_lengths.to(device))
        hyps = [h.text for h in decoder(log_probs, lengths)]
        out.extend(Transcript(i, groups.get(i, ""), s, ref, hyp)
                   for i, s, ref, hyp in zip(batch.ids, batch.sources, batch.texts, hyps))
    return sorted(out, key=lambda t: t.id), skipped


@torch.inference_mode()
def posteriors(model, dataset: RecordDataset, ids: Sequence[str], device: torch.device,
               collate: Collate) -> dict[str, np.ndarray]:
    """(T, K) log-probabilities of each of ``ids``, run one at a time (a batch of one)."""
    index = {r.id: i for i, r in enumerate(dataset.records)}
    out: dict[str, np.ndarray] = {}
    for uid in ids:
        sample = dataset[index[uid]]
        if not isinstance(sample, Sample):
            continue
        batch = collate([sample])
        log_probs, lengths = model(batch.inputs.to(device), batch.input_lengths.to(device))
        out[uid] = log_probs[0, : int(lengths[0])].float().cpu().numpy()
    return out


def check_split(trained: dict, given: dict, checkpoint: str | Path) -> None:
    """Warn when the corpus is the training run's but its split is made otherwise (the test
    pages could then hold training pages)."""
    was, now = trained.get("corpus") or {}, given.get("corpus") or {}
    same_corpus = was.get("reader") == now.get("reader") and was.get("root") == now.get("root")
    if same_corpus and "split" in was and was.get("split") != now.get("split"):
        log.warning("%s was trained on %s with the split %s, and this evaluation splits it %s: the scored lines "
                    "may include training lines; pass the training run's split settings (data.split_seed, "
                    "data.split_fractions or the list files)", checkpoint, was.get("root"), was["split"],
                    now.get("split"))


def check_recipe(trained: dict, given: dict, checkpoint: str | Path, ignore: Sequence[str] = ()) -> None:
    """Refuse to evaluate when the data module would prepare inputs unlike the training run's.

    Args:
        trained: the checkpoint's ``seqlab.data`` (``CheckpointInfo.to_dict()["data"]``).
        given: :meth:`CorpusDataModule.checkpoint_data` of the data module built for evaluation.
        ignore: dotted entries left out of the comparison (``frontend.normalization``:
            statistics the evaluation data module has not computed, since it uses the checkpoint's).

    Raises:
        ConfigError: naming the settings that differ and where the training ones are written.
    """
    if not trained:
        log.warning("%s holds no data recipe; cannot check that the data settings match the training run's",
                    checkpoint)
        return
    diffs = []
    for key in RECIPE_KEYS:
        if key in trained or key in given:
            diffs += recipe_differences(trained.get(key), given.get(key), key)
    diffs = [d for d in diffs if not any(d == i or d.startswith(i + ".") or d.startswith(i + "[") for i in ignore)]
    if diffs:
        shown = "; ".join(f"{d}: trained {recipe_value(trained, d)!r}, given {recipe_value(given, d)!r}" for d in diffs[:5])
        run = Path(checkpoint).resolve().parent.parent / "config.yaml"
        raise ConfigError(
            f"{checkpoint}: the data settings differ from the ones the model was trained with ({shown}"
            f"{'; ...' if len(diffs) > 5 else ''}). Pass the training run's data settings "
            f"(data=... and its overrides, as in {run})"
        )
