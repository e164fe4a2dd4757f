"""What ``resume=`` continues, and refusing a resume whose config says something else.

A resumed run restores the optimizer, scheduler and counters from its
checkpoint: a learning rate, a model size or a corpus changed on the command
line would not take effect (the optimizer state brings the old learning rate
back) while the new ``config.yaml`` claimed it had. So the new config is
compared with the one the run was started with (stored in every checkpoint,
``seqlab.config``; ``RUN_DIR/config.yaml`` for older checkpoints), and any
difference outside :data:`RESUME_MAY_CHANGE` is refused with the list of keys.
"""

from __future__ import annotations

import logging
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from seqlab.checkpoint import URL_REFUSED, is_url, load_plain
from seqlab.errors import ConfigError

log = logging.getLogger("seqlab.train")

# Keys a resumed run may change (and everything below them; ``*`` matches one
# key): how long it runs, where and how it reports, how fast it loads; nothing
# that changes what is computed.
RESUME_MAY_CHANGE = (
    "resume", "run_dir", "cache_dir", "callbacks.*.path",
    "trainer.max_epochs", "trainer.max_steps", "trainer.max_time", "trainer.enable_progress_bar",
    "trainer.log_every_n_steps", "data.num_workers", "data.cache", "data.persistent_workers",
    "callbacks.step_checkpoint.every_n_train_steps",
)


def resume_checkpoint(resume: str | None, run_dir: Path) -> str | None:
    """The checkpoint to resume from: ``auto`` takes ``RUN_DIR/checkpoints/last.ckpt`` if present."""
    if resume in (None, "", "none", "never"):
        return None
    if resume == "auto":
        last = run_dir / "checkpoints" / "last.ckpt"
        return str(last) if last.exists() else None
    if is_url(resume):
        raise ConfigError(f"resume={resume}: {URL_REFUSED}")
    path = Path(resume)
    if not path.is_file():
        raise ConfigError(f"resume={resume}: no such checkpoint; use resume=auto or a path to a .ckpt file")
    return str(path)


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (an empty dict stays a value)."""
    if isinstance(node, dict) and node:
        out: dict[str, Any] = {}
        for k, v in node.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: node}


def _replace_prefix(node: Any, old: str, new: str) -> Any:
    """``node`` with the old run directory at the start of every string replaced by the new one."""
    if isinstance(node, dict):
        return {k: _replace_prefix(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_prefix(v, old, new) for v in node]
    if isinstance(node, str) and old and node.startswith(old):
        return new + node[len(old):]
    return node


def run_config(ckpt_path: str | Path, run_dir: Path) -> dict | None:
    """The resolved config the checkpoint's run was started with, or None if neither it nor the run has one."""
    stored = (load_plain(ckpt_path).get("seqlab") or {}).get("config")
    if isinstance(stored, dict):
        return stored
    saved = run_dir / "config.yaml"
    if saved.is_file():
        return OmegaConf.to_container(OmegaConf.load(saved), resolve=False)
    return None


def config_changes(old: dict, new: dict) -> list[tuple[str, Any, Any]]:
    """(key, old value, new value) of each key whose value differs between two resolved configs, except
    :data:`RESUME_MAY_CHANGE` (and below); the old run directory counts as the new one."""
    old = _replace_prefix(old, str(old.get("run_dir", "")), str(new.get("run_dir", "")))
    a, b = _flatten(old), _flatten(new)
    return [(k, a.get(k, "<unset>"), b.get(k, "<unset>")) for k in sorted(set(a) | set(b))
            if a.get(k, "<unset>") != b.get(k, "<unset>") and not may_change(k)]


def may_change(key: str) -> bool:
    """Whether ``key`` is one of :data:`RESUME_MAY_CHANGE` or below one."""
    parts = key.split(".")
    return any(len(parts) >= len(p.split(".")) and fnmatchcase(".".join(parts[:len(p.split("."))]), p)
               for p in RESUME_MAY_CHANGE)


def check_resume_config(ckpt_path: str | Path, run_dir: Path, new: dict) -> None:
    """Refuse to resume ``ckpt_path`` with a config whose training settings differ from the run's.

    Raises:
        ConfigError: listing each changed key with its old and new value.
    """
    old = run_config(ckpt_path, run_dir)
    if old is None:
        log.warning("resume: %s holds no config to compare with; assuming the settings are unchanged", ckpt_path)
        return
    changed = config_changes(old, new)
    if changed:
        shown = "; ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in changed[:12])
        more = f" (and {len(changed) - 12} more)" if len(changed) > 12 else ""
        raise ConfigError(
            f"resume={ckpt_path}: the run was trained with other settings, which a resume would not apply "
            f"(the optimizer, scheduler and data state come from the checkpoint): {shown}{more}. Resume with "
            f"the run's own settings (see {run_dir / 'config.yaml'}), or start a new run in another hydra.run.dir; "
            f"a resume may change only {', '.join(RESUME_MAY_CHANGE)}"
        )
