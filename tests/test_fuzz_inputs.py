"""Fuzzing as a test: generated and mutated scenario files, experiment files, roster CSVs
and ``--set`` arguments. Whatever comes in, eipsim must answer with exit code 0 or 2 (one
``error:`` line), never a traceback, never hang, and never write outside its folder.

Each fuzzer runs twice: a CI version with a couple of hundred examples in all (about 20 s
together) and a ``slow`` version with thousands. Examples are derandomised in CI, so a
failure there is reproducible; the slow version explores new ones on each run.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SCENARIOS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from eipsim.cli.args import EXIT_RUNS_FAILED
from eipsim.cli.commands import main
from eipsim.errors import UserError
from eipsim.experiments.framework.runner import plan
from eipsim.experiments.framework.spec import design_points, load_experiment
from eipsim.experiments.framework.testing import FAKE_ADAPTER, baseline_scenario
from eipsim.scenario.schema import ROSTER_COLUMNS, known_keys, load_scenario, read_roster

BASE_TEXT = (SCENARIOS / "baseline.yaml").read_text(encoding="utf-8")
BASE = yaml.safe_load(BASE_TEXT)
KEYS = known_keys()
ESCAPE = Path(tempfile.gettempdir()) / f"eipsim-fuzz-escape-{os.getuid()}"
EXAMPLE_TIMEOUT_S = 60  # a hang is a failure, not a stuck CI job

CI = settings(
    max_examples=75,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
SLOW = settings(
    max_examples=2500, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

# -- values a careless or hostile user might type -----------------------------------------------

NASTY_TEXT = [
    "",
    " ",
    "../../escaped",
    str(ESCAPE),
    "/etc/passwd",
    "/dev/zero",
    ".",
    "..",
    "~",
    ".inf",
    "-.inf",
    ".nan",
    "1e400",
    "nan",
    "true",
    "null",
    "0x10",
    "1_000",
    "-0",
    "é",
    "x" * 300,
    "a\x00b",
    "!!python/object/apply:os.system ['echo hi']",
    "&a [*a, *a]",
    "{a: 1, a: 2}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-3, max_value=300),
    st.floats(),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=-1e6, max_value=1e6),
    st.sampled_from([1e308, -1e308, 5e-324, 2**63, 2**64, 10**30, 2400, 2401, 5000, 5001]),
    st.text(max_size=12),
    st.sampled_from(NASTY_TEXT),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=5,
)


def _get(data: dict[str, Any], key: str) -> Any:
    node: Any = data
    for k in key.split("."):
        node = node.get(k) if isinstance(node, dict) else None
    return node


def _plausible(value: Any) -> st.SearchStrategy[Any]:
    """Values near a key's baseline value: most pass the schema, so the model runs them."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(0, max(2 * value, 24))
    if isinstance(value, float):
        return st.one_of(st.floats(0, 1), st.floats(0, max(4 * value, 1.0)))
    return st.just(value)


BASE_VALUES = {
    k: v
    for k in KEYS
    if (v := load_scenario(SCENARIOS / "baseline.yaml").to_yaml_dict())
    and not isinstance(v := _get(v, k), dict | list)
}

keys = st.one_of(
    st.sampled_from(KEYS),
    st.sampled_from(KEYS).map(lambda k: k + ".x"),
    st.sampled_from(["firms.sector_mix.steel", "firms.nationality_mix.JP", "name", "steps"]),
    st.text(max_size=20),
)

# -- the harness -----------------------------------------------------------------------------------


@contextlib.contextmanager
def sandbox() -> Iterator[Path]:
    """A fresh working folder (the cwd) inside an otherwise empty root; on exit, check that
    nothing was written beside it or at the escape paths."""
    old_cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="eipsim-fuzz-") as root:
        work = Path(root) / "work"
        work.mkdir()
        os.chdir(work)
        try:
            yield work
        finally:
            os.chdir(old_cwd)
        assert os.listdir(root) == ["work"], f"wrote outside its folder: {os.listdir(root)}"
        assert not (Path(root) / "escaped").exists() and not ESCAPE.exists()


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def hang(signum: int, frame: Any) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def eipsim_cli(*args: object, codes: tuple[int, ...] = (0, 2)) -> tuple[int, str]:
    """``eipsim ARGS`` in-process: the exit code (one of ``codes``: done, or bad input) and
    everything printed."""
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        time_limit(EXAMPLE_TIMEOUT_S),
    ):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse's usage errors
            code = e.code if isinstance(e.code, int) else 2
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text, text
    assert code in codes, (code, text)
    if code == 2:
        assert "error:" in err.getvalue(), text
    return code, text


def _strict_json(path: Path) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{path} holds {name}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def check_scenario_file(path: Path, run: bool) -> None:
    """validate; and, for a small valid scenario, a one-month run into the default folder."""
    code, _ = eipsim_cli("validate", path)
    if code != 0 or not run:
        return
    sc = load_scenario(path)
    w, h = sc.grid_shape()
    if sc.firms.count > 200 or w * h > 2500:
        return  # valid but slow: the point here is robustness, not big parks
    code, text = eipsim_cli("run", path, "--steps", "1")
    if code == 0:
        (folder,) = (Path.cwd() / "results").iterdir()
        assert _strict_json(folder / "summary.json")
        assert load_scenario(folder / "scenario.yaml").name == sc.name


# -- 1. scenario files --------------------------------------------------------------------------------


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    node = data
    *head, last = key.split(".")
    for k in head:
        nxt = node.get(k)
        if not isinstance(nxt, dict):
            nxt = node[k] = {}
        node = nxt
    node[last] = value


def _delete(data: dict[str, Any], key: str) -> None:
    node: Any = data
    *head, last = key.split(".")
    for k in head:
        node = node.get(k) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


mutation = st.one_of(
    st.tuples(st.just("set"), keys, values),
    st.tuples(st.just("delete"), st.sampled_from(KEYS), st.none()),
)


@st.composite
def scenario_texts(draw: Callable[..., Any]) -> str:
    """The baseline with a few keys set to hostile values or deleted, or its text mangled."""
    if draw(st.integers(0, 3)) == 0:  # text-level: cut, insert, duplicate lines
        lines = BASE_TEXT.splitlines()
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(lines) - 1))
            op = draw(st.sampled_from(["cut", "insert", "dup", "junk"]))
            if op == "cut":
                del lines[i]
            elif op == "insert":
                lines.insert(i, draw(st.text(max_size=30)))
            elif op == "dup":
                lines.insert(i, lines[i])
            else:
                lines[i] = lines[i][: draw(st.integers(0, 20))] + draw(st.sampled_from(NASTY_TEXT))
            if not lines:
                lines = [""]
        return "\n".join(lines)
    data = json.loads(json.dumps(BASE))
    for op, key, value in draw(st.lists(mutation, min_size=1, max_size=3)):
        if op == "set":
            _set(data, key, value)
        else:
            _delete(data, key)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _fuzz_scenario(text: str, run: bool) -> None:
    with sandbox() as work:
        p = work / "scenario.yaml"
        p.write_text(text, encoding="utf-8")
        check_scenario_file(p, run)


@CI
@given(scenario_texts(), st.booleans())
@example(BASE_TEXT.replace("name: baseline", "name: ../../escaped"), True)  # issue 10, item 2
@example(BASE_TEXT.replace("\nseed:", "\nseed: 7\nseed:"), True)  # item 8
def test_fuzz_scenario_loader(text: str, run: bool) -> None:
    _fuzz_scenario(text, run)


@pytest.mark.slow
@SLOW
@given(scenario_texts(), st.booleans())
def test_fuzz_scenario_loader_thorough(text: str, run: bool) -> None:
    _fuzz_scenario(text, run)


# -- 2. --set arguments -------------------------------------------------------------------------------

plausible_set = st.sampled_from(sorted(BASE_VALUES)).flatmap(
    lambda k: _plausible(BASE_VALUES[k]).map(
        lambda v: (
            f"{k}={yaml.safe_dump(v, default_flow_style=True).strip().removesuffix('...').strip()}"
        )
    )
)
set_args = st.one_of(
    plausible_set,
    plausible_set,
    st.tuples(keys, st.one_of(st.text(max_size=20), st.sampled_from(NASTY_TEXT))).map(
        lambda kv: f"{kv[0]}={kv[1]}"
    ),
    st.tuples(st.sampled_from(KEYS), values).map(
        lambda kv: f"{kv[0]}={yaml.safe_dump(kv[1], default_flow_style=True).strip()}"
    ),
    st.text(max_size=30),
)


def _fuzz_set(args: list[str], run: bool) -> None:
    with sandbox() as work:
        p = work / "scenario.yaml"
        p.write_text(yaml.safe_dump({**BASE, "firms": {**BASE["firms"], "count": 20}}))
        argv: list[str] = []
        for a in args:
            argv += ["--set", a]
        code, _ = eipsim_cli("validate", p, *argv)
        if code == 0 and run:
            eipsim_cli("run", p, "--steps", "1", "--out", work / "out", *argv)


@CI
@given(st.lists(set_args, min_size=1, max_size=3), st.booleans())
@example(["operator.arrivals_per_year=1e22"], True)  # issue 10, item 4
@example(["government.landfill_tax_usd_per_t=inf"], True)  # item 4: -Infinity in summary.json
@example(["firms.sector_mix.steel=true"], True)  # item 12
def test_fuzz_set_arguments(args: list[str], run: bool) -> None:
    _fuzz_set(args, run)


@pytest.mark.slow
@SLOW
@given(st.lists(set_args, min_size=1, max_size=3), st.booleans())
def test_fuzz_set_arguments_thorough(args: list[str], run: bool) -> None:
    _fuzz_set(args, run)


# -- 3. roster files ----------------------------------------------------------------------------------

SECTORS = ["steel", "chemicals", "food_processing", "electronics", "logistics"]
GOOD_CELLS = {
    "name": st.text(max_size=10),
    "sector": st.sampled_from(SECTORS),
    "nationality": st.sampled_from(["VN", "JP", "KR", "CN", "TW"]),
    "size": st.floats(0.1, 5).map(str),
    "plot": st.one_of(st.just(""), st.integers(0, 164).map(str)),
}
BAD_CELLS = st.one_of(
    st.sampled_from(["nope", "", " steel", "XX", " JP ", "0", "-1", "1e400", "nan", "1.5"]),
    st.sampled_from(["999", "x", '"', "a,b", "\n", "\x00"]),
    st.floats().map(str),
    st.text(max_size=8),
)


@st.composite
def roster_texts(draw: Callable[..., Any]) -> str:
    """Mostly well-formed rosters with a few cells, the header or the layout broken."""
    if draw(st.integers(0, 6)) == 0:
        return draw(st.text(max_size=200))
    header = draw(
        st.one_of(
            st.just(list(ROSTER_COLUMNS)),
            st.just(list(ROSTER_COLUMNS)),
            st.permutations(list(ROSTER_COLUMNS)),
            st.lists(st.sampled_from([*ROSTER_COLUMNS, " size", "Size", "", "extra"]), max_size=7),
        )
    )
    rows = [
        [draw(GOOD_CELLS.get(h.strip(), st.text(max_size=5))) for h in header]
        for _ in range(draw(st.integers(0, 6)))
    ]
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        if rows and header:
            rows[draw(st.integers(0, len(rows) - 1))][draw(st.integers(0, len(header) - 1))] = draw(
                BAD_CELLS
            )
    if rows and draw(st.integers(0, 5)) == 0:
        rows[0].append("surplus")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    w.writerow(header)
    w.writerows(rows)
    text = buf.getvalue()
    sep = draw(st.sampled_from([",", ",", ",", ", ", ";"]))
    if sep != ",":
        text = text.replace(",", sep)
    return draw(st.sampled_from(["", "", "\ufeff"])) + text


def _fuzz_roster(text: str, via_cli: bool) -> None:
    with sandbox() as work:
        r = work / "roster.csv"
        r.write_text(text, encoding="utf-8")
        with time_limit(EXAMPLE_TIMEOUT_S):
            try:
                rows = read_roster(r, (15, 11), ["VN", "JP", "KR", "CN", "TW"])
            except UserError as err:
                assert str(err).startswith(str(r)), err
            else:
                for row in rows:
                    assert set(row) == {"name", "sector", "nationality", "size", "plot"}
                    assert 0 < row["size"] < float("inf")
        if via_cli:
            data = json.loads(json.dumps(BASE))
            data["firms"].update(roster="roster.csv", count=30)
            p = work / "scenario.yaml"
            p.write_text(yaml.safe_dump(data))
            check_scenario_file(p, run=True)


@settings(CI, max_examples=50)
@given(roster_texts(), st.booleans())
@example("name, sector, nationality, size\nMill, steel, JP, 1.5\n", True)  # item 12
def test_fuzz_roster_reader(text: str, via_cli: bool) -> None:
    _fuzz_roster(text, via_cli)


@pytest.mark.slow
@SLOW
@given(roster_texts(), st.booleans())
def test_fuzz_roster_reader_thorough(text: str, via_cli: bool) -> None:
    _fuzz_roster(text, via_cli)


# -- 4. experiment files ------------------------------------------------------------------------------

parameters = st.fixed_dictionaries(
    {},
    optional={
        "low": scalars,
        "high": scalars,
        "dist": st.sampled_from(["unif", "logunif", "triang", "norm", "truncnorm", "lognorm", "x"]),
        "peak": scalars,
        "mean": scalars,
        "sd": scalars,
        "levels": st.lists(scalars, max_size=4),
        "integer": st.one_of(st.none(), st.booleans()),
        "group": st.one_of(st.none(), st.text(max_size=3)),
    },
)
sane_parameters = st.one_of(
    st.tuples(st.floats(0, 50), st.floats(0, 50)).map(
        lambda t: {"low": min(t), "high": max(t) + 1}
    ),
    st.tuples(st.floats(-20, 60), st.floats(0.01, 30)).map(
        lambda t: {"dist": "norm", "mean": t[0], "sd": t[1]}
    ),
    st.lists(st.integers(0, 40), min_size=2, max_size=4).map(lambda v: {"levels": v}),
)
PARAM_KEYS = [
    "government.landfill_tax_usd_per_t",
    "government.brokering_per_year",
    "trust.initial_cross_nationality",
    "operator.platform.enabled",
    "firms.count",
    "park.placement",
    "nope.key",
]


def mostly(sane: st.SearchStrategy[Any], nasty: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Nine times in ten a sane value, so that most files get past the first error."""
    return st.integers(0, 9).flatmap(lambda i: nasty if i == 7 else sane)


@st.composite
def experiments(draw: Callable[..., Any]) -> dict[str, Any]:
    kind = draw(
        mostly(
            st.sampled_from(["grid", "packages", "lhs", "sobol", "morris", "fast"]),
            st.sampled_from(["x", "", "GRID"]),
        )
    )
    design: dict[str, Any] = {"kind": kind}
    pkeys = draw(
        st.lists(
            mostly(st.sampled_from(PARAM_KEYS[:3]), st.sampled_from(PARAM_KEYS)),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    if kind in ("grid", "packages", "x", "", "GRID"):
        design["factors"] = {
            k: draw(
                mostly(
                    st.lists(st.integers(0, 30), min_size=1, max_size=4),
                    st.lists(scalars, max_size=4),
                )
            )
            for k in pkeys
        }
    else:
        design["parameters"] = {k: draw(mostly(sane_parameters, parameters)) for k in pkeys}
        design["samples"] = draw(
            mostly(st.sampled_from([8, 16, 20, 40]), st.one_of(st.integers(-2, 10**7), scalars))
        )
        if kind == "fast":
            design["interference"] = draw(st.sampled_from([1, 2, 4]))
    if kind == "packages":
        design["packages"] = {"a": {}, "b": {"government.capex_subsidy_share": 0.3}}
    elif draw(st.integers(0, 4)) == 3:
        design["packages"] = draw(
            st.dictionaries(
                st.text(max_size=5),
                st.dictionaries(st.sampled_from(PARAM_KEYS), scalars, max_size=2),
                max_size=2,
            )
        )
    exp: dict[str, Any] = {
        "name": draw(
            mostly(st.just("fuzz"), st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=8)))
        ),
        "scenario": draw(
            mostly(
                st.just(str(baseline_scenario())),
                st.sampled_from(["missing.yaml", "/dev/zero", ".", "../../escaped"]),
            )
        ),
        "overrides": draw(
            mostly(st.just({"firms.count": 20}), st.dictionaries(keys, scalars, max_size=2))
        ),
        "steps": draw(mostly(st.integers(1, 6), scalars)),
        "seed": draw(mostly(st.integers(0, 2**63 - 1), scalars)),
        "replicates": draw(mostly(st.integers(1, 3), st.one_of(scalars, st.integers(1, 10**6)))),
        "design": design,
    }
    extras = ["chunk_size", "outputs", "sensitivity", "bogus", "common_random_numbers"]
    for extra in draw(mostly(st.just([]), st.lists(st.sampled_from(extras), max_size=2))):
        exp[extra] = draw(values)
    return exp


def _fuzz_experiment(exp: dict[str, Any], sweep: bool) -> None:
    with sandbox() as work:
        p = work / "experiment.yaml"
        p.write_text(yaml.safe_dump(exp, sort_keys=False, allow_unicode=True), encoding="utf-8")
        n_runs = None
        with time_limit(EXAMPLE_TIMEOUT_S):
            try:
                res = load_experiment(p, adapter=FAKE_ADAPTER)
                n_runs = design_points(res.spec.design) * res.spec.replicates
                if n_runs <= 2000:  # bigger designs are valid, only slow to plan here
                    _, runs, _ = plan(res)
                    assert len(runs) == n_runs
            except UserError as err:
                assert str(err), err
                return
        if sweep and n_runs is not None and n_runs <= 40:
            # the stand-in model fails or kills its worker on purpose at two lever values
            # (testing.FAIL_BROKERING, CRASH_BROKERING) that a fuzzed design may hold: the
            # sweep then goes on and exits with EXIT_RUNS_FAILED, as documented
            eipsim_cli(
                "sweep", p, "--adapter", FAKE_ADAPTER, "--workers", "1", "--quiet", "--out", "sw",
                codes=(0, 2, EXIT_RUNS_FAILED),
            )  # fmt: skip


@settings(CI, max_examples=100)
@given(experiments())
def test_fuzz_experiment_loader(exp: dict[str, Any]) -> None:
    _fuzz_experiment(exp, sweep=False)


@pytest.mark.slow
@settings(SLOW, max_examples=1500)
@given(experiments(), st.integers(0, 9))
def test_fuzz_experiment_loader_thorough(exp: dict[str, Any], dice: int) -> None:
    _fuzz_experiment(exp, sweep=dice == 0)
