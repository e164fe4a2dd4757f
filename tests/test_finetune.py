"""Fine-tuning (init_from=): alphabet policies, the resized head, preprocessing kept, freezing, the parent recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.checkpoint import CheckpointInfo, load_model, read_checkpoint
from seqlab.errors import CheckpointError, ConfigError
from seqlab.checkpoint import trained_preprocessing as parent_preprocessing
from seqlab.cli.hydra_app import override_keys
from seqlab.finetune import NEW_BIAS_MARGIN, Parent, load_parent_weights
from seqlab.lit import CTCModule
from seqlab.lit.freeze import FreezeEncoder
from seqlab.nn import RecurrentEncoder, CRNNEncoder
from seqlab.text import Alphabet, adapt_alphabet
from tests.reliability.test_hostile_checkpoints import HOSTILE, model, save
from tests.conftest import render_line
from tests.tiny_models import tiny_iam_run, tiny_timit_run

# the parent (tests/tiny_models.py) never saw é, ü, f, k or the capitals; these lines lack its w and p
NEW_WORDS = ["the café", "über dog", "a Kiosk", "red fox", "go home", "you sat", "Émile ran", "on it"]


@pytest.fixture(scope="module")
def parent(tmp_path_factory) -> Path:
    return tiny_iam_run(tmp_path_factory.getbasetemp()) / "checkpoints" / "best.ckpt"


def write_lines(root: Path, pages: int = 10, per_page: int = 3) -> Path:
    """A line folder (NAME.png + NAME.gt.txt), one sub-folder per page."""
    for p in range(pages):
        folder = root / f"page{p:02d}"
        folder.mkdir(parents=True)
        for i in range(per_page):
            text = NEW_WORDS[(p * per_page + i) % len(NEW_WORDS)]
            render_line(text, 32, seed=p * 10 + i).save(folder / f"l{i}.png")
            (folder / f"l{i}.gt.txt").write_text(text + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def lines(tmp_path_factory) -> Path:
    return write_lines(tmp_path_factory.mktemp("finetune") / "lines")


def finetune(parent: Path, lines: Path, run_dir: Path, *overrides: str, check: bool = True):
    cmd = [sys.executable, "-m", "seqlab", "train", "trainer.enable_progress_bar=false", f"init_from={parent}",
           "data=lines", f"data.root={lines}", "data.num_workers=0", "trainer.max_epochs=1",
           f"hydra.run.dir={run_dir}", *overrides]
    proc = subprocess.run(cmd, cwd=run_dir.parent, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


# --- the alphabet policies ----------------------------------------------------
def test_alphabet_policies():
    old = Alphabet(tuple(" abc"))
    data = Alphabet(tuple(" acé"))
    union, change = adapt_alphabet(old, data, "union")
    assert union.symbols == tuple(" abcé") and change.added == ("é",) and change.removed == ()
    new, change = adapt_alphabet(old, data, "new")
    assert new.symbols == tuple(" acé") and change.added == ("é",) and change.removed == ("b",)
    with pytest.raises(ConfigError, match=r"1 symbol\(s\) the parent model lacks: 'é'.*finetune.alphabet=union"):
        adapt_alphabet(old, data, "fail")
    kept, change = adapt_alphabet(old, Alphabet(tuple("ab")), "fail")  # a subset keeps every old symbol
    assert kept.symbols == old.symbols and change.unseen == (" ", "c")
    replace, change = adapt_alphabet(old, Alphabet(tuple("ab?"), replacement="?"), "union")
    assert replace.replacement == "?" and change.added == ("?",)
    with pytest.raises(ConfigError, match="across units"):
        adapt_alphabet(old, Alphabet(("aa", "b"), unit="token"), "union")
    with pytest.raises(ConfigError, match="must be one of"):
        adapt_alphabet(old, data, "add")


# --- the resized head ---------------------------------------------------------
@pytest.mark.parametrize("policy", ["union", "new"])
def test_resized_head_keeps_the_parents_logits_on_its_own_data(parent: Path, policy: str):
    """Before any step, every shared symbol's logit is the parent's, bit for bit, on the parent's lines."""
    old_model, info = load_model(parent)
    frontend = info.build_frontend()
    root = Path(info.corpus["root"])
    images = sorted(root.glob("lines/*/*/*.png"))[:6]
    prepared = [frontend.read_file(p) for p in images]
    x, lengths = frontend.pad([p.input for p in prepared])

    data = Alphabet.from_texts(["über café dog", "Kiosk"])  # shares some symbols, lacks others, adds new ones
    alphabet, change = adapt_alphabet(old_model.alphabet, data, policy)
    assert set(change.added) == {"ü", "é", "f", "K", "k"} - set(old_model.alphabet.symbols)
    ckpt = read_checkpoint(parent)
    encoder = RecurrentEncoder(**{k: v for k, v in ckpt["seqlab"]["model"]["encoder"].items() if k != "_target_"})
    model = CTCModule(encoder, alphabet, optimizer=torch.optim.Adam)
    load_parent_weights(model, Parent.read(parent), torch.Generator().manual_seed(0))
    model.eval()
    with torch.no_grad():
        feats_old, _ = old_model.encoder(x, lengths)
        feats, _ = model.encoder(x, lengths)
        old_logits, logits = old_model.head.proj(feats_old), model.head.proj(feats)
    assert torch.equal(feats, feats_old)
    old_index = {s: i + 1 for i, s in enumerate(old_model.alphabet.symbols)}
    shared = [(0, 0)] + [(i + 1, old_index[s]) for i, s in enumerate(alphabet.symbols) if s in old_index]
    assert len(shared) > 5
    for new_row, old_row in shared:
        assert torch.equal(logits[..., new_row], old_logits[..., old_row]), alphabet.symbols[new_row - 1]
    new_rows = [i + 1 for i, s in enumerate(alphabet.symbols) if s not in old_index]
    bias = model.head.proj.bias
    assert torch.all(bias[new_rows] == old_model.head.proj.bias.min() - NEW_BIAS_MARGIN)
    # unlikely, not impossible: the new symbols start far below the best class and still get gradients
    log_probs = torch.log_softmax(logits, -1)
    assert (log_probs[..., new_rows].max(-1).values < log_probs.max(-1).values - 1).all()
    assert torch.isfinite(log_probs[..., new_rows]).all()


# --- preprocessing ----------------------------------------------------------
def test_explicit_settings_that_contradict_the_parent_are_refused():
    parent = {"frontend": {"type": "image", "height": 24, "binarise": False}, "text": {"form": "NFC", "bidi": False},
              "unit": "char"}
    given = {"frontend": {"type": "image", "height": 48, "binarise": False}, "text": {"form": "NFD", "bidi": False},
             "unit": "char"}
    kept = parent_preprocessing(parent, given, set(), "p.ckpt")
    assert kept == [("height", 24, 48), ("text_form", "NFC", "NFD")]
    with pytest.raises(ConfigError, match=r"data.height: the model was trained with 24 \(the data config has 48\)"):
        parent_preprocessing(parent, given, override_keys(["data=lines", "data.height=48"]), "p.ckpt")
    speech = {**given, "frontend": {"type": "speech", "features": {}}}
    with pytest.raises(ConfigError, match="frontend.type"):
        parent_preprocessing(parent, speech, set(), "p.ckpt")
    assert override_keys(["data.root=/x", "+data.alphabet=[a]", "model.lr=1", "data=iam"]) == {"root", "alphabet"}


# --- freezing ---------------------------------------------------------------
def test_freezing_keeps_the_last_recurrent_layers_trainable():
    encoder = RecurrentEncoder(input_size=8, hidden_size=4, num_layers=3)
    layers = encoder.recurrent_layers()
    assert len(layers) == 3 and sum(len(layer) for layer in layers) == len(list(encoder.parameters()))
    frozen = {id(p) for p in FreezeEncoder(trainable_layers=1).frozen_parameters(encoder)}
    assert frozen == {id(p) for layer in layers[:2] for p in layer}
    custom = RecurrentEncoder(input_size=8, hidden_size=4, num_layers=2, cell="peephole")
    assert [len(layer) for layer in custom.recurrent_layers()] == [4, 4]  # ih, hh, bias, peepholes
    crnn = CRNNEncoder(input_size=16, channels=(4, 4), pool=((2, 2), (2, 2)), hidden_size=4, num_layers=2)
    assert len(FreezeEncoder(trainable_layers=2).frozen_parameters(crnn)) == len(list(crnn.blocks.parameters()))
    with pytest.raises(ConfigError, match="has 3 recurrent layers"):
        FreezeEncoder(trainable_layers=4).frozen_parameters(encoder)


def test_head_lr_makes_its_own_parameter_group():
    model = CTCModule(RecurrentEncoder(input_size=8, hidden_size=4, num_layers=1), Alphabet(tuple("ab")),
                      optimizer=lambda params: torch.optim.Adam(params, lr=1e-3), scheduler=None, head_lr=1e-2)
    groups = model.configure_optimizers().param_groups
    assert [g["lr"] for g in groups] == [1e-3, 1e-2]
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in model.head.parameters()}


# --- seqlab train init_from=... ----------------------------------------------
def test_fail_lists_the_new_symbols(parent: Path, lines: Path, tmp_path: Path):
    proc = finetune(parent, lines, tmp_path / "fail", check=False)
    assert proc.returncode != 0
    err = proc.stderr
    assert "symbol(s) the parent model lacks" in err and "'é'" in err and "'ü'" in err
    assert "finetune.alphabet=union" in err and "Traceback" not in err


def test_an_explicit_contradicting_height_is_refused(parent: Path, lines: Path, tmp_path: Path):
    proc = finetune(parent, lines, tmp_path / "h", "finetune.alphabet=union", "data.height=48", check=False)
    assert proc.returncode != 0 and "data.height: the model was trained with 24" in proc.stderr


RECIPES = {  # union through the README's recipe (experiment=finetune_lines), new by hand
    "union": ["experiment=finetune_lines", "finetune.freeze_steps=1"],
    "new": ["finetune.alphabet=new", "finetune.freeze_encoder=true", "finetune.freeze_steps=1",
            "finetune.head_lr=0.01"],
}


@pytest.mark.parametrize("policy", sorted(RECIPES))
def test_finetune_runs_and_records_its_parent(parent: Path, lines: Path, tmp_path: Path, policy: str):
    run_dir = tmp_path / policy
    proc = finetune(parent, lines, run_dir, *RECIPES[policy])
    out = proc.stdout + proc.stderr
    assert "only the output layer trains" in out and "whole network trains from now on" in out
    best = run_dir / "checkpoints" / "best.ckpt"
    ckpt = read_checkpoint(best)
    info = CheckpointInfo.from_dict(ckpt["seqlab"])
    parent_info = CheckpointInfo.from_dict(read_checkpoint(parent)["seqlab"])
    assert info.parent["path"] == str(parent.resolve()) and len(info.parent["sha256"]) == 64
    assert {"é", "ü", "K"} <= set(info.parent["alphabet"]["added"])
    assert info.frontend["height"] == parent_info.frontend["height"] == 24  # lines' default 48 gave way
    assert "height: 24" in (run_dir / "config.yaml").read_text()
    assert info.model["encoder"] == parent_info.model["encoder"]
    symbols = info.alphabet["symbols"]
    if policy == "union":
        assert symbols[: len(parent_info.alphabet["symbols"])] == parent_info.alphabet["symbols"]
        assert info.parent["alphabet"]["removed"] == []
    else:
        assert set(symbols) <= set("".join(NEW_WORDS)) and "x" in symbols and "w" not in symbols
        assert {"w", "p"} <= set(info.parent["alphabet"]["removed"])
    assert ckpt["global_step"] < 20 and ckpt["epoch"] == 0  # new counters: one epoch of 24 lines
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert "test/cer" in metrics

    report = subprocess.run(
        [sys.executable, "-m", "seqlab", "evaluate", f"checkpoint={best}", "data=lines", f"data.root={lines}",
         "data.num_workers=0", "bootstrap=10", f"report.dir={run_dir / 'report'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert report.returncode == 0, report.stderr[-3000:]
    meta = json.loads((run_dir / "report" / "report.json").read_text())["meta"]
    assert meta["parent"]["sha256"] == info.parent["sha256"]
    assert "fine-tuned from" in (run_dir / "report" / "report.md").read_text()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_parent_is_refused_and_nothing_is_written(name: str, tmp_path: Path):
    victim = tmp_path / "zz.pth"
    ckpt = save(tmp_path / "hostile.ckpt", HOSTILE[name](victim))
    with pytest.raises(CheckpointError):
        Parent.read(ckpt)
    assert not victim.exists()


def test_a_parent_whose_encoder_is_no_encoder_is_refused(tmp_path: Path):
    ckpt = save(tmp_path / "odd.ckpt", model(encoder={"_target_": "torch.optim.SGD", "_partial_": True}))
    with pytest.raises(CheckpointError, match="names no seqlab encoder"):
        Parent.read(ckpt)


def test_freeze_needs_a_parent(tmp_path: Path, lines: Path):
    proc = subprocess.run([sys.executable, "-m", "seqlab", "train", "data=lines", f"data.root={lines}",
                           "finetune.freeze_encoder=true", f"hydra.run.dir={tmp_path / 'r'}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "needs init_from=CKPT" in proc.stderr


def test_a_speech_model_keeps_its_normalisation_statistics(tmp_path_factory, tmp_path: Path):
    base = tmp_path_factory.getbasetemp()
    parent = tiny_timit_run(base) / "checkpoints" / "best.ckpt"
    run_dir = tmp_path / "speech"
    cmd = [sys.executable, "-m", "seqlab", "train", "trainer.enable_progress_bar=false", f"init_from={parent}",
           "data=timit", f"data.root={base / 'timit'}", "data.num_workers=0", f"cache_dir={base / 'cache'}",
           "monitor=val/per", "trainer.max_epochs=1", "trainer.accelerator=cpu", f"hydra.run.dir={run_dir}"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    info = CheckpointInfo.from_dict(read_checkpoint(run_dir / "checkpoints" / "best.ckpt")["seqlab"])
    parent_info = CheckpointInfo.from_dict(read_checkpoint(parent)["seqlab"])
    assert info.frontend == parent_info.frontend and info.frontend["normalization"]["frames"] > 0
    assert info.alphabet == parent_info.alphabet and info.parent["alphabet"]["added"] == []


def test_evaluate_reads_the_data_as_the_model_was_trained_to(parent: Path, tmp_path: Path):
    """The tiny parent was trained at data.height=24; data=iam says 48. Left out, the model's is used;
    given, it is refused by name."""
    root = Path(CheckpointInfo.from_dict(read_checkpoint(parent)["seqlab"]).corpus["root"])
    base = [sys.executable, "-m", "seqlab", "evaluate", f"checkpoint={parent}", "data=iam", f"data.root={root}",
            "data.num_workers=0", "bootstrap=10"]
    ok = subprocess.run([*base, f"report.dir={tmp_path / 'ok'}"], cwd=tmp_path, capture_output=True, text=True,
                        timeout=600)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "data.height=24 (the data config says" in ok.stdout + ok.stderr
    refused = subprocess.run([*base, "data.height=48", f"report.dir={tmp_path / 'no'}"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2 and "data.height: the model was trained with 24" in refused.stderr
    assert not (tmp_path / "no").exists()
