"""benchmarks/bench_against.py: the baseline run's speed-up over the tree issue 7 timed,
measured side by side (a benchmark; here only that it runs and says what it measured)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "bench_against.py"


def _in_history(commit: str) -> bool:
    probe = ["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def test_a_reference_git_does_not_have_is_one_readable_error():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--ref", "0" * 40, "--rounds", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "cannot read commit" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("rules", [[], ["--first-version"]])
def test_it_times_both_trees_and_restates_the_target(rules):
    sys.path.insert(0, str(SCRIPT.parent))
    import bench_against

    if not _in_history(bench_against.ISSUE_REFERENCE):
        pytest.skip("this clone lacks the reference commit (a shallow clone)")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "1", "--seeds", "1", "--repeats", "1"]
        + ["--steps", "6", *rules],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "round 1: reference" in out.stdout
    assert ("first version's rules" in out.stdout) == bool(rules)
    assert "speed-up:" in out.stdout and "target (issue 7), restated side by side" in out.stdout
