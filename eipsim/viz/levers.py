"""The app's levers as one table, and the exports, kept free of Solara so they can be tested.

``LEVERS`` has one line per lever, Mesa style (``Slider(key, min, max, step, label, vi=...)``).
Everything else is derived from it: the sidebar's controls, the highlighting of changed
levers, the permalink, the exports and the labels in both languages. The key of a lever is
the dotted scenario key that ``eipsim run --set`` reads, so ``Levers.scenario`` is just
``Scenario.with_overrides`` and the saved YAML sees exactly the keys the model sees.

A ``Levers`` value is what the sidebar shows: one value per lever, the scenario file and
the seed field.
"""

from __future__ import annotations

import os
import secrets
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from eipsim.errors import UserError
from eipsim.scenario.schema import FACILITY_KINDS, Scenario, load_scenario

SCENARIO_ENV = "EIPSIM_VIZ_SCENARIO"  # set by eipsim.viz.server.serve, read by app.py
SEED_MAX = 2**63 - 1  # the experiment store keeps seeds as int64
PLACEMENTS = ("random", "nationality_clusters", "sector_clusters")


# --- the lever kinds -------------------------------------------------------------------------


def _get(obj: Any, key: str) -> Any:
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Slider:
    """A number between ``lo`` and ``hi`` in steps of ``step`` (whole if ``step`` is whole)."""

    key: str
    lo: float
    hi: float
    step: float
    label: str
    vi: str = field(default="", kw_only=True)
    unit: str = field(default="", kw_only=True)
    whole: bool = field(default=False, kw_only=True)  # a count or a month
    schedule: bool = field(default=False, kw_only=True)  # a month: drawn as a chart marker

    kind = "slider"

    @property
    def integer(self) -> bool:
        return self.whole

    def read(self, sc: Scenario) -> Any:
        v = _get(sc, self.key)
        return int(v) if self.integer else float(v)

    def clean(self, v: Any) -> Any:
        """A typed value in range (exact entry may go beyond the slider's range if the
        scenario allows it: the scenario's own validation judges that on Apply)."""
        x = float(v)
        if x != x:  # NaN
            raise ValueError(v)
        return int(round(x)) if self.integer else x

    def override(self, v: Any, base: Scenario) -> Any:
        return v

    def to_text(self, v: Any) -> str:
        return str(int(v)) if self.integer else f"{float(v):g}"

    def parse(self, text: str) -> Any:
        return self.clean(float(text))


@dataclass(frozen=True)
class Toggle:
    key: str
    label: str
    vi: str = field(default="", kw_only=True)

    kind = "toggle"
    schedule = False

    def read(self, sc: Scenario) -> Any:
        return bool(_get(sc, self.key))

    def clean(self, v: Any) -> Any:
        return bool(v)

    def override(self, v: Any, base: Scenario) -> Any:
        return bool(v)

    def to_text(self, v: Any) -> str:
        return "1" if v else "0"

    def parse(self, text: str) -> Any:
        s = text.strip().lower()
        if s in ("1", "true", "on", "yes"):
            return True
        if s in ("0", "false", "off", "no"):
            return False
        raise ValueError(text)


@dataclass(frozen=True)
class Choice:
    key: str
    options: tuple[str, ...]
    label: str
    vi: str = field(default="", kw_only=True)
    options_vi: tuple[str, ...] = field(default=(), kw_only=True)

    kind = "choice"

    def option_label(self, option: str, lang: str) -> str:
        if lang == "vi" and option in self.options and self.options_vi:
            return self.options_vi[self.options.index(option)]
        return option.replace("_", " ")

    schedule = False

    def read(self, sc: Scenario) -> Any:
        return str(_get(sc, self.key))

    def clean(self, v: Any) -> Any:
        if v not in self.options:
            raise ValueError(v)
        return str(v)

    def override(self, v: Any, base: Scenario) -> Any:
        return v

    def to_text(self, v: Any) -> str:
        return str(v)

    def parse(self, text: str) -> Any:
        return self.clean(text)


@dataclass(frozen=True)
class Schedule:
    """A set of items each switched on at a month: facilities with their build month,
    reuse standards with their start month. The value is ``((item, month), ...)``."""

    key: str
    item_key: str  # "kind" or "material"
    step_key: str  # "build_step" or "step"
    label: str
    vi: str = field(default="", kw_only=True)
    choices: tuple[str, ...] = field(default=(), kw_only=True)  # offered even when off

    kind = "schedule"
    schedule = True

    def read(self, sc: Scenario) -> Any:
        return self.clean(
            (getattr(x, self.item_key), getattr(x, self.step_key)) for x in _get(sc, self.key)
        )

    def order(self, item: str) -> tuple[int, str]:
        return (self.choices.index(item) if item in self.choices else len(self.choices), item)

    def clean(self, v: Any) -> Any:
        d = {str(i): max(0, int(s)) for i, s in v}
        return tuple(sorted(d.items(), key=lambda p: self.order(p[0])))

    def override(self, v: Any, base: Scenario) -> Any:
        return [{self.item_key: i, self.step_key: int(s)} for i, s in v]

    def to_text(self, v: Any) -> str:
        return ",".join(f"{i}@{s}" for i, s in v) or "-"

    def parse(self, text: str) -> Any:
        if text.strip() in ("", "-"):
            return ()
        out = []
        for part in text.split(","):
            item, _, step = part.partition("@")
            out.append((item.strip(), int(step or 0)))
        return self.clean(out)


Lever = Slider | Toggle | Choice | Schedule

# One line per lever: the controls, highlighting, permalink, exports and labels come from here.
LEVERS: tuple[Lever, ...] = (
    Choice("park.placement", PLACEMENTS, "Placement of tenants", vi="Bố trí doanh nghiệp thuê đất", options_vi=("ngẫu nhiên", "cụm theo quốc tịch nhà đầu tư", "cụm theo ngành")),
    Toggle("operator.platform.enabled", "Waste-information platform", vi="Hệ thống thông tin chất thải trực tuyến"),
    Slider("operator.platform.launch_step", 0, 120, 1, "Platform launch (month)", vi="Tháng ra mắt hệ thống", whole=True, schedule=True),
    Toggle("operator.platform.anonymised", "Anonymised listings", vi="Đăng tin ẩn danh"),
    Slider("operator.matchmaking_events_per_year", 0, 12, 1, "Matchmaking events per year", vi="Sự kiện kết nối doanh nghiệp mỗi năm", whole=True),
    Slider("operator.tenant_selectivity", 0, 1, 0.05, "Tenant selectivity (0 fill fast, 1 only symbiosis fits)", vi="Mức chọn lọc nhà đầu tư (0 lấp đầy nhanh, 1 chỉ nhận DN phù hợp cộng sinh)"),
    Schedule("operator.shared_infrastructure", "kind", "build_step", "Shared facilities (build month)", vi="Hạ tầng dùng chung (tháng xây xong)", choices=tuple(FACILITY_KINDS)),
    Slider("government.landfill_tax_usd_per_t", 0, 100, 1, "Landfill tax (USD/t)", vi="Thuế chôn lấp (USD/tấn)", unit="USD/t"),
    Slider("government.carbon_price_usd_per_t_co2", 0, 100, 1, "Carbon price (USD/t CO2e of landfilled waste)", vi="Giá carbon (USD/tấn CO2e của chất thải chôn lấp)", unit="USD/t CO2e"),
    Slider("government.exchange_subsidy_usd_per_t", 0, 50, 1, "Exchange subsidy (USD/t)", vi="Trợ cấp trao đổi (USD/tấn)", unit="USD/t"),
    Slider("government.capex_subsidy_share", 0, 1, 0.05, "Capital subsidy (share of cost)", vi="Hỗ trợ vốn đầu tư (tỷ lệ chi phí)"),
    Slider("government.brokering_per_year", 0, 24, 1, "Government brokering per year", vi="Số lần nhà nước làm trung gian mỗi năm", whole=True),
    Schedule("government.reuse_standards", "material", "step", "Reuse standards (start month)", vi="Tiêu chuẩn tái sử dụng (tháng áp dụng)"),
    Slider("trust.initial_same_nationality", 0, 1, 0.01, "Initial trust, same nationality", vi="Niềm tin ban đầu, cùng quốc tịch"),
    Slider("trust.initial_cross_nationality", 0, 1, 0.01, "Initial trust, across nationalities", vi="Niềm tin ban đầu, khác quốc tịch"),
)  # fmt: skip
BY_KEY: dict[str, Lever] = {lv.key: lv for lv in LEVERS}


def lever_label(lever: Lever, lang: str) -> str:
    return lever.vi if lang == "vi" and lever.vi else lever.label


# --- the seed field --------------------------------------------------------------------------


class SeedError(ValueError):
    """What a person typed in the seed field is not a seed."""


def parse_seed(text: str | None) -> int | None:
    """A seed from the text field: a whole number in [0, SEED_MAX], or None for empty.

    The field gives a string (Mesa's note: the seed comes back as a string once edited), and
    people type spaces, ``1_000`` or ``+7``; anything that is not a whole number in range is a
    ``SeedError`` that the app shows as a message instead of crashing."""
    s = (text or "").strip().replace("_", "").replace(",", "")
    if not s:
        return None
    if s.startswith("+"):
        s = s[1:]
    if not s.isdecimal():
        raise SeedError(text)
    value = int(s)
    if value > SEED_MAX:
        raise SeedError(text)
    return value


def random_seed() -> int:
    """A fresh seed for an empty field; short enough for a person to note and retype."""
    return secrets.randbelow(2**31)


# --- scenario files --------------------------------------------------------------------------


def repo_scenarios_dir() -> Path:
    """``scenarios/`` next to the package (an editable install or a checkout)."""
    return Path(__file__).resolve().parents[2] / "scenarios"


def scenario_choices(extra: str | os.PathLike[str] | None = None) -> list[str]:
    """Scenario files the picker offers: the repository's ``scenarios/*.yaml``, those in
    ``./scenarios`` when run elsewhere, and the one given on the command line."""
    found: dict[str, None] = {}
    if extra:
        found[str(Path(extra).resolve())] = None
    for d in (repo_scenarios_dir(), Path.cwd() / "scenarios"):
        if d.is_dir():
            for p in sorted(d.glob("*.y*ml")):
                found[str(p.resolve())] = None
    return list(found)


def default_scenario_path() -> str:
    """The scenario the app opens with: $EIPSIM_VIZ_SCENARIO, else baseline, else the first."""
    env = os.environ.get(SCENARIO_ENV)
    if env:
        return str(Path(env).resolve())
    choices = scenario_choices()
    for c in choices:
        if Path(c).stem == "baseline":
            return c
    if not choices:
        raise UserError("no scenario files found; pass one: eipsim viz FILE")
    return choices[0]


def short_name(path: str) -> str:
    """What the picker shows for a scenario file."""
    return Path(path).name


# --- the levers' values ----------------------------------------------------------------------


@dataclass(frozen=True)
class Levers:
    """The settings a person can change in the sidebar (applied on "Apply and reset")."""

    scenario_path: str
    values: tuple[tuple[str, Any], ...]  # (lever key, value) in LEVERS order
    seed_text: str

    @classmethod
    def from_scenario(cls, sc: Scenario, path: str) -> Levers:
        """The levers as the scenario file sets them (picking a scenario resets them)."""
        return cls(path, tuple((lv.key, lv.read(sc)) for lv in LEVERS), str(sc.seed))

    @classmethod
    def load(cls, path: str) -> tuple[Levers, Scenario]:
        sc = load_scenario(path)
        return cls.from_scenario(sc, path), sc

    def __getitem__(self, key: str) -> Any:
        for k, v in self.values:
            if k == key:
                return v
        raise KeyError(key)

    def with_(self, key: str, value: Any) -> Levers:
        v = BY_KEY[key].clean(value)
        return Levers(
            self.scenario_path,
            tuple((k, v if k == key else old) for k, old in self.values),
            self.seed_text,
        )

    def with_seed(self, text: str) -> Levers:
        return Levers(self.scenario_path, self.values, text)

    def changed(self, other: Levers) -> list[str]:
        """Lever keys (and "seed", "scenario") whose value differs from ``other``'s."""
        out = [k for (k, a), (_, b) in zip(self.values, other.values, strict=True) if a != b]
        if self.seed_text.strip() != other.seed_text.strip():
            out.append("seed")
        if self.scenario_path != other.scenario_path:
            out.append("scenario")
        return out

    def overrides(self, base: Scenario) -> dict[str, Any]:
        """Dotted scenario keys for these levers."""
        return {k: BY_KEY[k].override(v, base) for k, v in self.values}

    def scenario(self, base: Scenario, seed: int | None = None) -> Scenario:
        """The base scenario with these levers (and ``seed`` if given); UserError if invalid."""
        over = self.overrides(base)
        if seed is not None:
            over["seed"] = int(seed)
        return base.with_overrides(over)

    # -- permalink ------------------------------------------------------------------------
    def query(self, base: Levers, seed: int | None = None, lang: str = "en") -> str:
        """The URL query of these levers: the scenario file, the seed and every lever that
        differs from the file's value (``base``)."""
        q: list[tuple[str, str]] = [("scenario", short_name(self.scenario_path))]
        q.append(("seed", str(seed) if seed is not None else self.seed_text.strip()))
        for (k, v), (_, b) in zip(self.values, base.values, strict=True):
            if v != b:
                q.append((k, BY_KEY[k].to_text(v)))
        if lang != "en":
            q.append(("lang", lang))
        return urllib.parse.urlencode(q, safe=",@")


def parse_query(search: str | None) -> dict[str, str]:
    """A URL query as a dict (the last value of a repeated name wins)."""
    return dict(urllib.parse.parse_qsl((search or "").lstrip("?"), keep_blank_values=True))


def levers_from_query(
    search: str | None, choices: list[str] | None = None
) -> tuple[Levers, Scenario, list[str]] | None:
    """The levers a permalink encodes, the scenario file it names, and the parts that could
    not be used (unknown names, bad values). None if the query names no scenario."""
    q = parse_query(search)
    name = q.get("scenario")
    if not name:
        return None
    paths: dict[str, str] = {}
    for p in choices if choices is not None else scenario_choices(os.environ.get(SCENARIO_ENV)):
        paths.setdefault(short_name(p), p)  # the server's own file first, as the picker shows
    if name not in paths:
        raise UserError(f"the link names a scenario this server does not offer: {name}")
    levers, sc = Levers.load(paths[name])
    problems: list[str] = []
    for k, text in q.items():
        if k in ("scenario", "lang"):
            continue
        if k == "seed":
            try:
                parse_seed(text)
            except SeedError:
                problems.append(f"seed={text}")
                continue
            levers = levers.with_seed(text)
        elif k in BY_KEY:
            try:
                levers = levers.with_(k, BY_KEY[k].parse(text))
            except (ValueError, TypeError):
                problems.append(f"{k}={text}")
        else:
            problems.append(k)
    return levers, sc, problems


# --- exports ---------------------------------------------------------------------------------


def run_header(sc: Scenario, seed: int, path: str) -> list[str]:
    """What a file exported from the run on screen says about that run: the scenario file,
    the seed and every lever's value, as ``key: value`` lines."""
    now = Levers.from_scenario(sc, path)
    lines = [f"scenario: {short_name(path)}", f"seed: {seed}"]
    lines += [f"{k}: {BY_KEY[k].to_text(v)}" for k, v in now.values]
    return lines


def scenario_yaml(sc: Scenario, note: str = "") -> str:
    """A scenario file ``eipsim run`` accepts. A relative roster path is made absolute,
    since the file is saved somewhere else than the scenario it came from."""
    data = sc.to_yaml_dict()
    roster = sc.roster_path()
    if roster is not None:
        data["firms"]["roster"] = str(roster.resolve())
    if note:
        data["description"] = (data.get("description") or "").rstrip() + f" ({note})"
    head = "# Saved from the eipsim browser app. Run it with: eipsim run THIS_FILE\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def timeseries_frame(model: Any) -> pd.DataFrame:
    """The run so far, one row per month, like ``RunResult.timeseries``."""
    df = model.datacollector.get_model_vars_dataframe().copy()
    df = df.reset_index(drop=True)
    if "step" not in df.columns:
        # the last row is the current month; earlier rows count back from it
        df.insert(0, "step", range(model.steps - len(df) + 1, model.steps + 1))
    return df


def timeseries_csv(model: Any, header: list[str] | None = None) -> str:
    """The run so far as CSV; ``header`` lines first, as ``#`` comments
    (``pandas.read_csv(path, comment="#")`` reads it)."""
    head = "".join(f"# {line}\n" for line in header or [])
    return head + timeseries_frame(model).to_csv(index=False)
