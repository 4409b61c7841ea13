"""Writing a run's results folder: atomically, with a manifest and plots."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from eipsim.domain.simulation import RunResult
from eipsim.errors import UserError
from eipsim.runs.files import atomic_dir, check_out_dir, json_text
from eipsim.runs.provenance import git_commit, provenance, versions

__all__ = [
    "OUTPUT_FILES",
    "ROSTER_COPY",
    "atomic_dir",
    "default_out_dir",
    "git_commit",
    "manifest",
    "versions",
    "write_run",
]

ROSTER_COPY = "roster.csv"  # fixed: a roster named summary.json must not replace the summary
OUTPUT_FILES = (
    "timeseries.parquet",
    "links.parquet",
    "summary.json",
    "assessment.json",
    "scenario.yaml",
    "manifest.json",
    ROSTER_COPY,
)


def manifest(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Provenance (eipsim.runs.provenance) plus what is particular to this run."""
    m = provenance()
    m.update(extra or {})
    return m


def default_out_dir(name: str, root: Path = Path("results")) -> Path:
    """A new folder ``root/NAME-STAMP``; ``name`` must be one safe path component."""
    if not name or Path(name).name != name or name in (".", ".."):
        raise UserError(f"scenario name {name!r} cannot name a results folder")
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

    check_out_dir(out)
    with atomic_dir(out) as tmp:
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.links.to_parquet(tmp / "links.parquet", index=False)
        (tmp / "summary.json").write_text(json_text(result.summary))
        assess = {
            k: {"value": v, "threshold": t, "met": met, "source": src}
            for k, (v, t, met, src) in result.assessment.items()
        }
        (tmp / "assessment.json").write_text(json_text(assess))
        resolved = result.scenario.to_yaml_dict()
        roster = result.scenario.roster_path()
        if roster is not None:
            # a relative roster path would not resolve from the results folder: keep a copy
            # beside the resolved scenario, under a fixed name, so the folder re-runs alone
            shutil.copyfile(roster, tmp / ROSTER_COPY)
            resolved["firms"]["roster"] = ROSTER_COPY
        (tmp / "scenario.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True)
        )
        man = manifest({"seed": result.seed, "scenario": result.scenario.name, **(command or {})})
        (tmp / "manifest.json").write_text(json_text(man))
        plots.run_plots(result.timeseries, tmp, title=result.scenario.name)
    return out
