"""Scenario schema: the pydantic models of a scenario file, and loading one.

The scenario file is the researchers' interface, so every key is validated on load and
every error names the file and the dotted key. Every number must be finite and within a
range the model can run. Roster CSVs live in ``roster``, dotted keys and ``--set`` in
``overrides``, YAML reading in ``yamlio``; their names are re-exported here.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from eipsim.errors import UserError
from eipsim.scenario.catalogue import (
    Catalogue,
    MaterialEntry,
    RecpEntry,
    SectorEntry,
    catalogue_names,
    load_catalogue,
    scenario_catalogue,
    scenario_names,
)
from eipsim.scenario.overrides import check_key as _check_key
from eipsim.scenario.overrides import parse_value
from eipsim.scenario.overrides import set_dotted as _set_dotted
from eipsim.scenario.roster import ROSTER_COLUMNS, _roster_row, read_roster
from eipsim.scenario.strict import Strict as _Strict
from eipsim.scenario.yamlio import read_yaml

__all__ = [
    "CRITERIA",
    "FACILITY_KINDS",
    "MAX_PLOTS",
    "MAX_SEED",
    "MAX_STEPS",
    "ROSTER_COLUMNS",
    "NAME_PATTERN",
    "Scenario",
    "_Strict",
    "_check_key",
    "_roster_row",
    "_set_dotted",
    "format_validation",
    "known_keys",
    "load_scenario",
    "parse_value",
    "read_roster",
    "read_yaml",
    "scenario_from_dict",
]

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
MAX_STEPS = 2400  # months: 200 years
MAX_SEED = 2**63 - 1  # seeds are stored as int64 in sweep tables
MAX_SIDE = 200  # plots across or down
# The model holds plots x plots trust arrays: 10,000 plots need about 1 GB; 40,000 (200 x
# 200) needed 12.7 GB and a minute a month, which no laptop or CI runner can give.
MAX_PLOTS = 10_000
# a scenario's name becomes a folder name: one safe path component
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
PerTonne = Annotated[float, Field(ge=0.0, le=100_000.0, description="USD per tonne")]
# Facility kinds and EIP criteria are registries kept as data (data/facilities.yaml,
# data/criteria.yaml): a new kind or criterion is one entry there (and its behaviour in
# eipsim/domain), not an edit of this schema.
FACILITY_KINDS: tuple[str, ...] = tuple(load_catalogue().facilities)
CRITERIA: dict[str, dict[str, Any]] = load_catalogue().criteria


def _check_mix(mix: dict[str, float], what: str) -> dict[str, float]:
    if not mix:
        raise ValueError(f"{what} must list at least one entry")
    if any(v < 0 for v in mix.values()):
        raise ValueError(f"{what} shares must be >= 0")
    total = sum(mix.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValueError(f"{what} shares must sum to 1 (they sum to {total:.6g})")
    return mix


class ParkConfig(_Strict):
    """The plot grid. Its size follows from firms.count and initial_occupancy unless set."""

    width: int | None = Field(None, ge=2, le=MAX_SIDE, description="plots across; None = derived")
    height: int | None = Field(None, ge=2, le=MAX_SIDE, description="plots down; None = derived")
    plot_size_m: float = Field(250.0, gt=0, le=10_000, description="plot pitch in metres (assumed)")
    zones_x: int = Field(2, ge=1, le=10)
    zones_y: int = Field(2, ge=1, le=10)
    placement: Literal["random", "nationality_clusters", "sector_clusters", "chain_clusters"] = (
        Field(
            "random",
            description="random; nationality_clusters: a block per nationality; "
            "sector_clusters: a block per sector (same-sector firms together, not "
            "complementary ones); chain_clusters: sector blocks ordered so that suppliers "
            "sit next to their users",
        )
    )
    initial_occupancy: float = Field(
        0.638, gt=0, le=1, description="Hai Phong parks were 63.8 % occupied in 2023 (brief)"
    )
    shared_land_share: Share = Field(
        0.2, description="land for green space, roads, shared infrastructure (Decree 82 asks 25 %)"
    )


class FirmsConfig(_Strict):
    count: int = Field(100, ge=2, le=5000)
    sector_mix: dict[str, float]
    nationality_mix: dict[str, float]
    confidentiality_by_nationality: dict[str, Share] = Field(default_factory=dict)
    confidentiality_default: Share = 0.4
    confidentiality_spread: Share = Field(0.1, description="sd of firm-level noise")
    size_sigma: float = Field(0.5, ge=0, le=3, description="lognormal sigma of firm size (assumed)")
    hurdle_mean: Share = Field(
        0.38,
        description="required expected margin over saving; calibrated: ABC-SMC posterior median on the fitted patterns P1-P4 and NCK (weakly identified: 90 % 0.16-0.51)",
    )
    search_probability: Share = Field(
        0.016,
        description="chance a firm looks for partners in a month; calibrated: ABC-SMC posterior median on the fitted patterns P1-P4 and NCK (identified: 90 % 0.008-0.033)",
    )
    prospect_distance_km: float | None = Field(
        None,
        gt=0,
        le=1000,
        description="d0: a searching firm considers a partner it knows of with probability "
        "exp(-d/d0) (Raimbault et al. 2020); None = regardless of distance",
    )
    recp_aware_initial: Share = Field(0.3, description="share aware of RECP at the start (assumed)")
    recp_payback_years: float = Field(2.0, gt=0, le=100, description="typical acceptable payback")
    exit_rate_per_year: Share = Field(0.02, description="closure hazard (assumed)")
    production_coupling: bool = Field(
        True,
        description="processors' output follows their input (sectors.yaml transforms): "
        "recyclers make pellets from the scrap they get by link or buy when the spread pays",
    )
    roster: str | None = Field(
        None, max_length=4096, description="CSV of real firms: name,sector,nationality,size,plot"
    )

    @field_validator("sector_mix")
    @classmethod
    def _sectors(cls, v: dict[str, float]) -> dict[str, float]:
        known = catalogue_names()[1]  # the package's and the scenario's own sectors
        for s in v:
            if s not in known:
                raise ValueError(f"unknown sector {s!r}; known sectors: {', '.join(known)}")
        return _check_mix(v, "sector_mix")

    @field_validator("nationality_mix")
    @classmethod
    def _nats(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_mix(v, "nationality_mix")


class TrustConfig(_Strict):
    initial_same_nationality: Share = 0.6
    initial_cross_nationality: Share = Field(
        0.32,
        description="trust between firms of different nationalities; calibrated: ABC-SMC posterior median on the fitted patterns P1-P4 and NCK (weakly identified: 90 % 0.24-0.51)",
    )
    threshold: Share = Field(
        0.54,
        description="below it a pair is more likely than not to refuse to negotiate (Ghali et "
        "al. 2017 use 0.5); assumed: the calibration does not pin it (posterior = prior; its median is used)",
    )
    noise: Share = Field(0.05, description="sd of initial pairwise trust noise (assumed)")
    delivery_gain: Share = Field(0.04, description="step toward 1 after a kept delivery")
    shortfall_loss: Share = Field(0.3, description="loss per unit shortfall fraction")
    break_penalty: Share = Field(0.2, description="loss when a link breaks")
    break_below: Share = Field(0.3, description="a link breaks when trust falls below this")
    diffusion: Share = Field(0.1, description="weight of partners' opinions each month")
    familiarity_per_month: Share = Field(0.004, description="drift up between plot neighbours")
    neighbour_radius: int = Field(1, ge=1, le=5)
    introduction_boost: Share = Field(0.15, description="trust added by a broker's introduction")
    event_boost: Share = Field(0.08, description="trust added by meeting at an event")
    acquaintance_same_nationality: Share = Field(
        0.06,
        description="chance two same-nationality firms know each other (chambers); calibrated: ABC-SMC posterior median on the fitted patterns P1-P4 and NCK (weakly identified: 90 % 0.015-0.12)",
    )
    acquaintance_cross_nationality: Share = 0.02
    diffusion_source: Literal["partners", "experience"] = Field(
        "experience",
        description="partners: a firm's trust moves toward its partners' whole rows of trust, "
        "priors included (the first version); experience: only toward what partners learned "
        "by trading with a firm, weighted by months of interaction",
    )
    neighbours_know_streams: bool = Field(
        False,
        description="plot neighbours know each other's streams from the start (the first "
        "version); false: they are acquaintances only by the chances above",
    )
    confidentiality_gate: Literal["all_streams", "disclosing_streams"] = Field(
        "disclosing_streams",
        description="all_streams: acquaintances talk about no stream unless each trusts the "
        "other at least as much as its parent company's confidentiality (the first version); "
        "disclosing_streams: confidentiality guards only the exchanges that need cost "
        "disclosure (materials.yaml needs_cost_disclosure), at acceptance; commodity wastes "
        "and scraps are discussed with any acquaintance",
    )
    in_operator: Share = Field(0.4, description="firms' initial trust in shared infrastructure")
    failure_rate_at_no_trust: Share = Field(
        0.25,
        description="monthly failure rate believed of a partner trusted at 0; the prior at "
        "trust T is this times (1 - T); calibrated: ABC-SMC posterior median on the fitted patterns P1-P4 and NCK (weakly identified: 90 % 0.09-0.34)",
    )
    reliability_prior_months: float = Field(
        12.0,
        ge=0.1,
        le=1200,
        description="weight of that trust-based prior, in months of delivery history (assumed)",
    )
    delivery_tolerance_sd: float = Field(
        2.0,
        ge=0,
        le=10,
        description="a delivery short by more than this many standard deviations of the "
        "stream's monthly variability is a failure; less is expected noise (assumed)",
    )
    judge_deliveries: Literal["against_demand", "against_contract"] = Field(
        "against_contract",
        description="against_demand: the first version's rule, a supplier judged against the "
        "user's demand this month with a 5 % tolerance (a known artefact, docs/ODD.md); "
        "against_contract: against what it contracted, with the stream's variability as "
        "tolerance (delivery_tolerance_sd), and the same for the user's uptake",
    )
    negotiation_slope: float = Field(
        0.05,
        ge=0,
        le=1,
        description="width of the logistic willingness to negotiate around the threshold; "
        "0 = a hard threshold (assumed)",
    )
    broker_guarantee: Share = Field(
        0.3, description="institutional trust a broker's introduction adds (assumed)"
    )
    standard_assurance: Share = Field(
        0.1, description="institutional trust a reuse standard in force adds (assumed)"
    )
    contract_assurance: Share = Field(
        0.2, description="institutional trust a written contract adds (assumed)"
    )


class CostsConfig(_Strict):
    transport_usd_per_t_km: float = Field(
        0.12, ge=0, le=10_000, description="assumed: Vietnamese trucking"
    )
    transaction_usd: float = Field(
        100000.0,
        ge=0,
        le=1e10,
        description="one-off cost of setting up a link: study, contract, legal; calibrated: ABC-SMC posterior median on the fitted patterns P1-P4 and NCK (weakly identified: 90 % 24,000-261,000)",
    )
    horizon_months: int = Field(36, ge=1, le=1200, description="contract horizon for amortising")
    annual_interest: float = Field(0.08, ge=0, le=10)
    pipe_usd_per_m: float = Field(180.0, ge=0, le=1e6, description="assumed: industrial pipe laid")
    min_distance_km: float = Field(0.2, ge=0, le=1000)
    handling_usd_per_trip: float = Field(
        0.0,
        ge=0,
        le=1e6,
        description="loading and unloading per truck trip for trucked (non-piped) by-products; "
        "a link pays ceil(q / truck_capacity_t) trips a month (assumed)",
    )
    truck_capacity_t: float = Field(
        20.0, gt=0, le=1e4, description="tonnes per truck trip (assumed)"
    )
    bargaining: Literal["nash", "proportional"] = "nash"
    trust_discount: Share = Field(0.5, description="transaction cost cut at full trust")
    facilitation_discount: Share = Field(0.3, description="cut when the operator brokered")
    emergency_premium: float = Field(
        0.3,
        ge=0,
        le=100,
        description="premium on virgin input bought in a hurry after a failed delivery",
    )
    unprofitable_months: int = Field(
        3, ge=1, le=1200, description="months of loss before a link breaks"
    )
    contract_months: int = Field(
        24,
        ge=0,
        le=1200,
        description="written contract length; 0 = informal links (Albino et al. 2016)",
    )
    contract_choice: Literal["all", "per_link"] = Field(
        "per_link",
        description="all: every link is under a written contract when contract_months > 0 "
        "(the first version); per_link: each pair signs one when it raises their joint "
        "expected gain, and a contracted supplier that fails pays a penalty",
    )
    contract_exposure_cut: Share = Field(
        0.5, description="share of a failure's cost a written contract's penalty covers"
    )
    contract_cost_markup: float = Field(
        0.2, ge=0, le=100, description="extra transaction cost of a contract"
    )
    risk_model: Literal["monthly_share", "per_event"] = Field(
        "per_event",
        description="monthly_share: the first version's exposure, a share of the replaced "
        "input's value every month weighted by distrust (a known artefact, docs/ODD.md); "
        "per_event: believed failure rate times the cost of one failure",
    )
    renegotiate: bool = Field(
        True, description="contracted quantities follow a partner's capacity (after RECP)"
    )
    resourcing_lead_time_months: float = Field(
        1.0,
        ge=0,
        le=24,
        description="months a buyer pays the emergency premium after a failed delivery, or a "
        "supplier disposes of a refused stream (assumed)",
    )
    alternative_lead_time_months: float = Field(
        0.25,
        ge=0,
        le=24,
        description="the same when another firm in the park has uncommitted supply of the "
        "material (assumed)",
    )
    supplier_bargaining_power: Share = Field(
        0.5, description="supplier's share of the surplus under generalised Nash bargaining"
    )
    breakdown_after_failure: Share = Field(
        0.2,
        description="chance a failed delivery ends the link, stranding the unamortised "
        "one-off costs (assumed)",
    )


class PlatformConfig(_Strict):
    enabled: bool = False
    launch_step: int = Field(0, ge=0, le=MAX_STEPS)
    anonymised: bool = False
    shares_cost_data: bool = Field(
        False, description="Fraccascia & Yazan (2018) third platform type"
    )
    listing_limit: Share = Field(0.5, description="max confidentiality that still lists openly")
    anonymised_listing_limit: Share = Field(0.8, description="the same, anonymised platform")
    min_usage_share: Share = Field(
        0.15, description="below this listing share the platform adds nothing (Fraccascia 2020)"
    )


class FacilitySpec(_Strict):
    kind: str = Field(description="a facility kind of data/facilities.yaml")
    build_step: int = Field(0, ge=0, le=MAX_STEPS)
    mandated: bool = Field(
        True,
        description="true: built on build_step (the first version); false: from build_step "
        "the operator appraises it every 12 months and builds when its NPV > 0 and it can pay",
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in FACILITY_KINDS:
            raise ValueError(
                f"unknown facility kind {v!r}; known kinds: {', '.join(FACILITY_KINDS)}"
            )
        # a scenario that replaces the catalogue must keep the materials the facility handles
        spec = load_catalogue().facilities[v]
        handles = spec.get("materials") or [spec.get("material")]
        known = catalogue_names()[0]
        lost = [m for m in handles if m in load_catalogue().materials and m not in known]
        if lost:
            raise ValueError(
                f"facility {v!r} handles {', '.join(lost)}, not in this scenario's materials"
            )
        return v


class OperatorConfig(_Strict):
    platform: PlatformConfig = Field(default_factory=lambda: PlatformConfig.model_validate({}))
    matchmaking_events_per_year: int = Field(0, ge=0, le=12, description="at most one a month")
    event_attendance: Share = 0.3
    contacts_per_event: int = Field(3, ge=1, le=50)
    tenant_selectivity: Share = Field(0.0, description="0 = fill fast, 1 = only symbiosis fits")
    arrivals_per_year: float = Field(
        8.0, ge=0, le=1200, description="prospective tenants per year (assumed)"
    )
    rent_usd_per_plot_month: float = Field(3000.0, ge=0, le=1e8, description="assumed")
    recp_screening_per_year: int = Field(
        0, ge=0, le=10_000, description="firms screened (DEEP C: 26)"
    )
    shared_infrastructure: list[FacilitySpec] = Field(
        default_factory=list,
        description="facilities: kinds, or {kind, build_step, mandated}",
    )
    # -- an operator that decides (issue 8, item 8) ----------------------------------------
    credit_line_usd: float = Field(
        0.0,
        ge=0,
        le=1e13,
        description="how far below zero the operator's cash may go to pay a facility's capex",
    )
    shared_land_target: Share | None = Field(
        None,
        description="null: shared land is park.shared_land_share plus facilities' land; a "
        "share: each month the operator turns vacant plots into shared land (never leased "
        "again) until the park's shared land reaches it",
    )
    solar_sizing: Literal["per_firm", "roof"] = Field(
        "roof",
        description="per_firm: kwp_per_firm x size per connected firm; roof: capped by the "
        "firm's usable roof (roof_m2_per_firm x size x roof_usable_share x kwp_per_m2)",
    )
    max_waste_intensity: float | None = Field(
        None,
        ge=0,
        le=1e9,
        description="null: no screening; else prospects whose sector generates more solid "
        "waste (t a month per unit of size) are rejected",
    )

    @field_validator("shared_infrastructure", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"kind": x} if isinstance(x, str) else x for x in v]
        return v

    @field_validator("shared_infrastructure")
    @classmethod
    def _unique(cls, v: list[FacilitySpec]) -> list[FacilitySpec]:
        kinds = [f.kind for f in v]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each facility kind may appear once")
        return v


class StandardSpec(_Strict):
    material: str
    step: int = Field(0, ge=0, le=MAX_STEPS)

    @field_validator("material")
    @classmethod
    def _known(cls, v: str) -> str:
        known = catalogue_names()[0]  # the package's and the scenario's own materials
        if v not in known:
            raise ValueError(f"unknown material {v!r}; known materials: {', '.join(known)}")
        return v


class Criterion(_Strict):
    metric: str = Field(description="a criterion of data/criteria.yaml")
    threshold: float
    description: str = ""
    source: str = ""

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, v: str) -> str:
        if v not in CRITERIA:
            raise ValueError(f"unknown criterion {v!r}; known criteria: {', '.join(CRITERIA)}")
        return v


def _default_criteria() -> list[Criterion]:
    return [
        Criterion(
            metric=k, threshold=c["threshold"], description=c["description"], source=c["source"]
        )
        for k, c in CRITERIA.items()
    ]


class AssessmentConfig(_Strict):
    every_months: int = Field(12, ge=1, le=MAX_STEPS)
    criteria: list[Criterion] = Field(default_factory=_default_criteria)


class GovernmentConfig(_Strict):
    landfill_tax_usd_per_t: PerTonne = 0.0
    exchange_subsidy_usd_per_t: PerTonne = 0.0
    carbon_price_usd_per_t_co2: float = Field(
        ge=0,
        le=100_000,
        default=0.0,
        description="price on the CO2e of landfilled or discharged waste (0 = none)",
    )
    capex_subsidy_share: Share = 0.0
    recp_subsidy_share: Share = 0.0
    reuse_standards: list[StandardSpec] = Field(default_factory=list)
    broker_selects: Literal["benefit", "negotiable"] = Field(
        "negotiable",
        description="benefit: the first version's broker, the largest joint benefits whether "
        "or not the pair can negotiate; negotiable: only pairs that would negotiate and gain "
        "with the broker's guarantee",
    )
    brokering_per_year: int = Field(0, ge=0, le=200)
    permit_support: Share = Field(0.0, description="cut in permit delay/refusal from coordination")
    solar_licence_months: int = Field(
        12,
        ge=0,
        le=MAX_STEPS,
        description="months a firm waits for its rooftop-solar licence before it connects "
        "(brief, obstacle 6); 0 = at once",
    )
    assessment: AssessmentConfig = Field(
        default_factory=lambda: AssessmentConfig.model_validate({})
    )

    @field_validator("reuse_standards", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"material": x} if isinstance(x, str) else x for x in v]
        return v


class MarketConfig(_Strict):
    """Turbulence outside the park (Albino et al. 2016): virgin-input prices and production."""

    virgin_price_volatility: float = Field(
        0.0,
        ge=0,
        le=2,
        description="annual volatility of a virgin-input price index, a driftless random walk "
        "in logs; 0 = constant prices",
    )
    production_shock_rate_per_year: Share = Field(
        0.1, description="chance a firm's output is disrupted in a year (0 = none; assumed)"
    )
    production_shock_depth: Share = Field(
        0.5, description="share of a month's by-product streams lost in a disruption (assumed)"
    )


class Scenario(_Strict):
    name: str = Field(
        pattern=NAME_PATTERN,
        description="letters, digits, _ . - (it names the results folder)",
    )
    description: str = ""
    steps: int = Field(120, ge=1, le=MAX_STEPS)
    seed: int = Field(42, ge=0, le=MAX_SEED)
    park: ParkConfig = Field(default_factory=lambda: ParkConfig.model_validate({}))
    firms: FirmsConfig
    trust: TrustConfig = Field(default_factory=lambda: TrustConfig.model_validate({}))
    costs: CostsConfig = Field(default_factory=lambda: CostsConfig.model_validate({}))
    operator: OperatorConfig = Field(default_factory=lambda: OperatorConfig.model_validate({}))
    government: GovernmentConfig = Field(
        default_factory=lambda: GovernmentConfig.model_validate({})
    )
    market: MarketConfig = Field(default_factory=lambda: MarketConfig.model_validate({}))
    # -- the scenario's own materials and sectors (issue 9, item 4) ---------------------------
    materials: dict[str, MaterialEntry] = Field(
        default_factory=dict,
        description="materials of this scenario, in the format of data/materials.yaml (every "
        "column required); added to the package's (a package name: that entry replaced)",
    )
    sectors: dict[str, SectorEntry] = Field(
        default_factory=dict,
        description="sectors of this scenario, in the format of data/sectors.yaml; added to "
        "the package's (a package name: that entry replaced)",
    )
    replace_catalogue: bool = Field(
        False,
        description="true: materials and sectors above replace the package catalogue's "
        "instead of being added to it",
    )

    _source_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: str = PrivateAttr(default="<scenario>")
    _catalogue: Catalogue | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _own_names(cls, data: Any, handler: ModelWrapValidatorHandler[Scenario]) -> Scenario:
        """Name checks inside (sector mix, standards, facilities, sectors' materials) see
        the materials and sectors this scenario defines."""
        with scenario_names(data):
            return handler(data)

    @model_validator(mode="after")
    def _catalogue_builds(self) -> Scenario:
        if self.replace_catalogue and not (self.materials and self.sectors):
            raise ValueError("replace_catalogue: true needs materials: and sectors: of its own")
        self.catalogue()
        return self

    @model_validator(mode="after")
    def _park_fits(self) -> Scenario:
        w, h = self.park.width, self.park.height
        if w is not None and h is not None and w * h < self.firms.count:
            raise ValueError(
                f"park.width x park.height = {w * h} plots cannot hold firms.count = {self.firms.count}"
            )
        gw, gh = self.grid_shape()
        if gw > MAX_SIDE or gh > MAX_SIDE or gw * gh > MAX_PLOTS:
            raise ValueError(
                f"the park would be {gw} x {gh} = {gw * gh:,} plots (from firms.count = "
                f"{self.firms.count}, park.initial_occupancy = {self.park.initial_occupancy:g} "
                f"and park.width/height); the largest park is {MAX_PLOTS:,} plots, at most "
                f"{MAX_SIDE} across or down"
            )
        return self

    # -- derived -------------------------------------------------------------------------
    def catalogue(self) -> Catalogue:
        """The package catalogue with this scenario's own materials and sectors (built once
        per scenario object; the package's own object when the scenario adds none)."""
        if self._catalogue is None:
            self._catalogue = scenario_catalogue(
                {k: v.entry() for k, v in self.materials.items()},
                {k: v.entry() for k, v in self.sectors.items()},
                self.replace_catalogue,
            )
        return self._catalogue

    def grid_shape(self) -> tuple[int, int]:
        """Plots across and down; derived from firms.count / initial_occupancy when unset."""
        w, h = self.park.width, self.park.height
        if w is not None and h is not None:
            return w, h
        plots = math.ceil(self.firms.count / self.park.initial_occupancy)
        if w is None and h is None:
            w = math.ceil(math.sqrt(plots * 1.25))
        if w is None:
            assert h is not None
            w = math.ceil(plots / h)
        if h is None:
            h = math.ceil(plots / w)
        return max(w, 2), max(h, 2)

    def roster_path(self) -> Path | None:
        if self.firms.roster is None:
            return None
        p = Path(self.firms.roster)
        return p if p.is_absolute() else self._source_dir / p

    def load_roster(self) -> list[dict[str, Any]]:
        """Read and check the roster CSV; errors name the file and the row."""
        path = self.roster_path()
        if path is None:
            return []
        return read_roster(
            path, self.grid_shape(), list(self.firms.nationality_mix), self.catalogue().sectors
        )

    # -- editing ---------------------------------------------------------------------------
    def to_yaml_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json")
        d["sectors"] = {k: v.entry() for k, v in self.sectors.items()}
        # a scenario without its own catalogue entries dumps as before they existed
        for key in ("materials", "sectors", "replace_catalogue"):
            if not d[key]:
                del d[key]
        return d

    def entry_keys(self) -> list[str]:
        """Dotted keys into this scenario's own materials and sectors, e.g.
        ``materials.steam.virgin_price_usd`` or ``sectors.dairy.demands.steam``."""
        keys = [f"materials.{m}.{c}" for m, e in self.materials.items() for c in e.entry()]
        for name, sec in self.sectors.items():
            keys += [f"sectors.{name}.supplies.{m}" for m in sec.supplies]
            keys += [f"sectors.{name}.demands.{m}" for m in sec.demands]
            keys += [f"sectors.{name}.recp.{c}" for c in RecpEntry.model_fields]
        return keys

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A new scenario with dotted keys replaced; unknown keys are a UserError."""
        data = self.to_yaml_dict()
        keys = known_keys() + self.entry_keys()
        for key, value in overrides.items():
            _check_key(key, keys)
            _set_dotted(data, key, value)
        return scenario_from_dict(data, source=self._source, source_dir=self._source_dir)


def _schema_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_schema_keys(ann, key + "."))
        else:
            out.append(key)
    return out


def known_keys() -> list[str]:
    """Every dotted leaf key a scenario accepts (dict- and list-valued keys are leaves)."""
    return _schema_keys(Scenario)


def format_validation(
    err: ValidationError, source: str, known: list[str], match_last: bool = False
) -> str:
    """One line per problem, naming the file and the dotted key, with close matches for an
    unknown key among ``known`` (whole dotted keys, or last parts with ``match_last``)."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            probe = str(e["loc"][-1]) if match_last else loc
            close = difflib.get_close_matches(probe, known, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            msg = f"unknown key{hint}"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif "input" in e and not isinstance(e["input"], dict | list):
            msg = f"{msg} (got {e['input']!r})"
        lines.append(f"{source}: {loc}: {msg}")
    return "\n".join(lines)


def scenario_from_dict(
    data: Any, source: str = "<scenario>", source_dir: Path | None = None
) -> Scenario:
    if not isinstance(data, dict):
        raise UserError(f"{source}: a scenario must be a YAML mapping of keys to values")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as err:
        raise UserError(format_validation(err, source, _known_with_entries(data))) from None
    except RecursionError:
        raise UserError(f"{source}: the scenario is nested too deeply") from None
    sc._source = source
    sc._source_dir = source_dir or Path.cwd()
    _cross_checks(sc, source)
    return sc


def _known_with_entries(data: dict[Any, Any]) -> list[str]:
    """Known keys, and the columns of the scenario's own materials and sectors (so that a
    misspelt column gets a suggestion)."""
    keys = known_keys()
    for section, model in (("materials", MaterialEntry), ("sectors", SectorEntry)):
        entries = data.get(section)
        if isinstance(entries, dict):
            keys += [f"{section}.{k}.{c}" for k in entries for c in model.model_fields]
    return keys


def _cross_checks(sc: Scenario, source: str) -> None:
    nats = sc.firms.nationality_mix
    for n in sc.firms.confidentiality_by_nationality:
        if n not in nats:
            raise UserError(
                f"{source}: firms.confidentiality_by_nationality.{n}: nationality not in "
                f"firms.nationality_mix ({', '.join(nats)})"
            )
    mats = [s.material for s in sc.government.reuse_standards]
    if len(set(mats)) != len(mats):
        raise UserError(f"{source}: government.reuse_standards: each material may appear once")
    if sc.firms.roster is not None:
        path = sc.roster_path()
        assert path is not None
        if not path.is_file():
            raise UserError(f"{source}: firms.roster: file not found: {path}")
        rows = sc.load_roster()
        if len(rows) > sc.firms.count:
            raise UserError(
                f"{source}: firms.count = {sc.firms.count} is smaller than the roster "
                f"({len(rows)} firms in {path})"
            )


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario YAML file."""
    data, p = read_yaml(path, "scenario")
    return scenario_from_dict(data, source=str(p), source_dir=p.resolve().parent)
