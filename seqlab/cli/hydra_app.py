"""Running a Hydra-configured subcommand (``seqlab train``, ``seqlab evaluate``).

The configs live in the package (``seqlab/conf``), so the command works from any
folder and from a regular (non-editable) install. Overrides after the
subcommand's name go to Hydra unchanged (``--help``, ``--cfg job``, ``-m``
included).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[1] / "conf"


def run_hydra(task: Callable, config_name: str, argv: list[str] | None, prog: str) -> int:
    """Compose ``config_name`` with the overrides ``argv`` and call ``task(cfg)``.

    A :class:`~seqlab.errors.SeqlabError` becomes one ``PROG: error: ...`` line
    and exit status 2, not a traceback.
    """
    import hydra

    from seqlab.errors import SeqlabError

    original = list(sys.argv)

    @hydra.main(config_path=str(CONFIG_DIR), config_name=config_name, version_base="1.3")
    def app(cfg) -> None:
        # Hydra has parsed its arguments; Lightning's DDP launcher re-runs
        # sys.argv for the other ranks, so it must be the user's command again.
        sys.argv = original
        try:
            task(cfg)
        except SeqlabError as err:
            print(f"{prog}: error: {err}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None

    sys.argv = [prog, *(sys.argv[1:] if argv is None else argv)]
    try:
        app()
    finally:
        sys.argv = original
    return 0


def override_keys(overrides: Iterable[str], group: str = "data") -> set[str]:
    """Keys under ``group`` set by ``overrides`` (``data.height=32`` -> ``height``)."""
    keys = set()
    for o in overrides:
        key = o.split("=", 1)[0].lstrip("+~")
        if key.startswith(group + "."):
            keys.add(key[len(group) + 1:])
    return keys


def given_keys(group: str = "data") -> set[str]:
    """The keys under ``group`` given on this run's command line (none outside a Hydra app)."""
    from hydra.core.hydra_config import HydraConfig

    return override_keys(HydraConfig.get().overrides.task, group) if HydraConfig.initialized() else set()
