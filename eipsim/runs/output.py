"""Writing a run's results folder: atomically, with a manifest and plots."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from eipsim.domain.simulation import RunResult
from eipsim.errors import UserError

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
)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        r = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def manifest(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Provenance shared by runs and sweeps."""
    m = {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command_line": sys.argv,
        "versions": versions(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }
    m.update(extra or {})
    return m


@contextmanager
def atomic_dir(target: Path):
    """Yield a temporary folder beside ``target``; rename it into place only on success,
    so a run never leaves a half-written output folder."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise UserError(f"{target}: output folder exists and is not empty; choose another --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def default_out_dir(name: str, root: Path = Path("results")) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / f"{name}-{stamp}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = Path(f"{base}-{k}")
    return out


def write_run(result: RunResult, out: Path, command: dict[str, Any] | None = None) -> Path:
    """Write timeseries/links Parquet, summary, resolved scenario, manifest and plots."""
    from eipsim.runs import plots  # matplotlib only when writing

    with atomic_dir(out) as tmp:
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.links.to_parquet(tmp / "links.parquet", index=False)
        (tmp / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
        assess = {
            k: {"value": v, "threshold": t, "met": met, "source": src}
            for k, (v, t, met, src) in result.assessment.items()
        }
        (tmp / "assessment.json").write_text(json.dumps(assess, indent=2) + "\n")
        resolved = result.scenario.to_yaml_dict()
        roster = result.scenario.roster_path()
        if roster is not None:
            # a relative roster path would not resolve from the results folder: keep a copy
            # beside the resolved scenario so that the folder re-runs on its own
            shutil.copyfile(roster, tmp / roster.name)
            resolved["firms"]["roster"] = roster.name
        (tmp / "scenario.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True)
        )
        man = manifest({"seed": result.seed, "scenario": result.scenario.name, **(command or {})})
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str) + "\n")
        plots.run_plots(result.timeseries, tmp, title=result.scenario.name)
    return out
