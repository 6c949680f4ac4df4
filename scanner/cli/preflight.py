"""The scan's validation phase: every input read and every output place tried before the first
host is contacted, so a bad file costs seconds, not a sweep of the estate.

``scan`` loads the inventory, policy, register and framework itself (each refuses a bad file at
load); this module adds what used to be found only after the sweep: the run history (a folder,
a foreign or damaged file, a read-only one), ``--baseline`` (a missing file, an unknown run id,
``last`` without a history), the evidence destination (a non-empty folder, a file in the way)
and the ``--html``/``--junit``/``--prom`` paths. Each error names the option or file.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from scanner.assess.results import Results
from scanner.inventory.load import InventoryHost
from scanner.model.errors import InputError
from scanner.report.files import check_writable
from scanner.runs.signing import Ed25519PrivateKey


def require_hosts(hosts: Sequence[InventoryHost], inventories: Sequence[Path]) -> None:
    """A scan of no host assesses nothing: that is an error, not a clean run."""
    if not hosts:
        names = ", ".join(str(p) for p in inventories)
        raise InputError(names, "the inventory has no hosts; nothing to scan")


def check_known_hosts(files: Sequence[Path]) -> None:
    for kh in files:
        if not kh.is_file():
            raise InputError(f"--known-hosts {kh}", "file not found")
        try:
            with kh.open("rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise InputError(f"--known-hosts {kh}", f"cannot read it ({exc.strerror})") from None


def check_outputs(
    evidence: Path | None,
    history_file: Path | None,
    files: Sequence[tuple[str, Path | None]],
) -> None:
    """The evidence destination, the history and the report files can all be written."""
    if history_file is not None:
        from scanner.runs.history import History

        History.check(history_file)
    if evidence is not None:
        from scanner.runs.evidence import check_destination

        check_destination(evidence)
    for option, path in files:
        if path is not None:
            check_writable(path, option)


def load_signing_key(sign_key: Path | None, evidence: Path | None) -> Ed25519PrivateKey | None:
    """The ``--sign-key`` private key, read and checked before any host is contacted."""
    if sign_key is None:
        return None
    if evidence is None:
        raise InputError("--sign-key", "signs the evidence bundle; give --evidence DEST too")
    from scanner.runs.signing import load_private_key

    return load_private_key(sign_key)


def load_baseline(baseline: str | None, history_file: Path | None) -> Results | None:
    """The run ``--baseline`` names, read now; None when there is none or when ``last`` meets an
    empty history (this run becomes the baseline, with a warning)."""
    if baseline is None:
        return None
    from scanner.runs.drift import load_results_ref
    from scanner.runs.history import History

    if (
        baseline in ("last", "previous")
        and history_file is not None
        and not Path(baseline).exists()
    ):
        first_run = not history_file.exists() or history_file.stat().st_size == 0
        if not first_run:
            with History.open(history_file, create=False) as hist:
                first_run = not hist.runs()
        if first_run:
            warnings.warn(
                f"no earlier run in {history_file} to compare with; this run becomes the baseline",
                stacklevel=1,
            )
            return None
    try:
        return load_results_ref(baseline, history_file)
    except InputError as exc:
        if exc.where == baseline:  # name the option: "--baseline last: ..."
            raise InputError(f"--baseline {baseline}", exc.message) from None
        raise
