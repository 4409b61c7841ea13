"""Provenance, written once for runs and sweeps alike: when, by what command, with which
code (git commit, and whether the working tree had uncommitted changes) and versions."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "eipsim",
    "mesa",
    "numpy",
    "pandas",
    "scipy",
    "pydantic",
    "pyarrow",
    "networkx",
    "SALib",
    "dask",
    "distributed",
)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    """Python and the installed versions of the packages that decide the results."""
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None


def git_state(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the eipsim source tree; (None, None) outside a git checkout."""
    here = cwd or Path(__file__).resolve().parent
    head = _git(["rev-parse", "HEAD"], here)
    if head is None or head.returncode != 0 or not head.stdout.strip():
        return None, None
    status = _git(["status", "--porcelain", "--untracked-files=no"], here)
    dirty = None if status is None or status.returncode != 0 else bool(status.stdout.strip())
    return head.stdout.strip(), dirty


def git_commit(cwd: Path | None = None) -> str | None:
    """The commit, with ``-dirty`` appended when tracked files had uncommitted changes."""
    commit, dirty = git_state(cwd)
    if commit is None:
        return None
    return commit + ("-dirty" if dirty else "")


def provenance(command: list[str] | None = None) -> dict[str, Any]:
    """The record both a run's manifest and a sweep's manifest start from."""
    commit, dirty = git_state()
    return {
        "created_utc": now_utc(),
        "command_line": list(sys.argv if command is None else command),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "versions": versions(),
        "git_commit": None if commit is None else commit + ("-dirty" if dirty else ""),
        "git_dirty": dirty,
    }
