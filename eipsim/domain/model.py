"""EIPModel: builds the park, orders a month, collects the data.

One step is one month; ``model.steps`` (Mesa's counter) is the month. The order of a month
(docs/ODD.md, "Process overview"): government and operator act; firms produce; links
deliver and trust updates; permits resolve; shared facilities take residual streams; firms
search for and form new links; the rest is landfilled; trust spreads; RECP decisions;
firms leave and tenants arrive; levies and subsidies are booked; the yearly EIP assessment;
indicators are collected.

State lives in numpy arrays (``FirmState``, ``TrustMatrix``, ``LinkTable``); the agents are
identities and views of it. Decisions are in ``behaviour``; indicators and the assessment
read a ``MonthView``, never the model.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.datacollection import DataCollector

from eipsim.domain import behaviour, indicators
from eipsim.domain.agents import Firm, Government, Operator
from eipsim.domain.economics import (
    BOTH_OPTIONS,
    Candidates,
    EconParams,
    LinkCosts,
    PairEconomics,
    Priced,
    candidate_pairs,
    chosen_option,
    link_costs,
    pair_economics,
    pair_prices,
    running_economics,
    with_institutions,
)
from eipsim.domain.facilities import Flows, ParkNow
from eipsim.domain.indicators import MonthView
from eipsim.domain.links import ACTIVE, PENDING, ActiveLinks, LinkFlows, LinkTable
from eipsim.domain.park import (
    CLUSTER_BY,
    Park,
    choose_plot,
    complementarity,
    stream_value,
    within_reach,
)
from eipsim.domain.reliability import Reliability
from eipsim.domain.state import FirmIdentity, FirmRegistry, FirmState, Slots, pair_block
from eipsim.domain.trust import ExperiencePlan, KeptPairs, TrustMatrix, count_once
from eipsim.domain.types import BoolArray, FloatArray, IntArray
from eipsim.scenario.schema import Scenario

MIN_Q = 1.0  # smallest monthly quantity worth a link (t or MWh); assumed
# plots up to which ``EIPModel.distance_km`` keeps them all (8 MB, and about 50 MB for a
# moment while they are worked out): beyond, a park's run is long and the table would cost
# more memory and time to build than its lookups save (at 1,575 plots, 1,000 firms: 110 MB
# more at the peak and 40 ms more a run)
KEPT_DISTANCES_MAX = 1024
LEGACY_TOLERANCE = 0.05  # trust.judge_deliveries = against_demand: within 5 % counts as kept


@dataclass
class LinkView:
    """An active link as a small record for display."""

    supplier: Firm | None
    user: Firm | None
    material: str
    tonnes_last: float
    start_step: int


@dataclass(frozen=True)
class _Processors:
    """The alive processors' fixed terms of ``EIPModel._couple_production``: they change
    only when a processor comes or goes (the spread, when the price index moves), not every
    month."""

    firms: IntArray
    sectors: IntArray
    # (firm, material) entries of the slots x materials arrays, flat: each processor's
    # input and output, and the residue of those with one
    input_cell: IntArray
    output_cell: IntArray
    residue_cell: IntArray
    y: FloatArray
    y_r: FloatArray
    # the processors with a residue: their positions, or every one (a slice: no gather)
    with_residue: IntArray | slice
    res_value: FloatArray
    neg_disposal_out: FloatArray  # -disposal_usd of the output
    virgin_in: FloatArray  # virgin_price_usd of the input
    cost: FloatArray  # transform_cost
    after_recp: FloatArray  # the share of the residue left after RECP (1 - its cut)
    # the spread of processing at a virgin-price index (it changes only with the index),
    # where it pays to buy input off-park (spread > 0), and whether it pays everywhere
    price_index: float
    spread: FloatArray
    buys: BoolArray
    all_buy: bool

    def at_price_index(self, index: float) -> _Processors:
        """These terms with the spread at ``index`` (themselves when it is the same)."""
        if index == self.price_index:
            return self
        spread = (
            index * self.y * self.neg_disposal_out
            + self.res_value
            - index * self.virgin_in
            - self.cost
        )
        buys = spread > 0
        return replace(self, price_index=index, spread=spread, buys=buys, all_buy=bool(buys.all()))


@dataclass(frozen=True)
class _LinkTerms:
    """The active links' terms that change only with the links (``LinkTable.active``) or
    the reuse standards in force, not every month: ``EIPModel._deliver`` reads them."""

    links: ActiveLinks
    standard: bytes  # the reuse standards in force they were gathered under
    # the month's judgements: users of their suppliers' deliveries, then suppliers of their
    # users' uptake; view is judge * n + judged, each judgement's cell of T (flat) and its
    # reliability key
    judge: IntArray
    judged: IntArray
    view: IntArray
    one_way: bool  # no pair has two links the same way (no side judges a pair twice)
    # the raises of a month when every link delivers and is taken up, each over distinct
    # pairs (judges, judged): one when no pair is judged twice in all, else the users'
    # then the suppliers' (each pair once, in the order of ``count_once``)
    all_kept_raises: tuple[KeptPairs, ...]
    dist_km: FloatArray
    conf_s: FloatArray
    conf_u: FloatArray
    facilitated: BoolArray
    contract: BoolArray
    start: IntArray
    tolerance: FloatArray  # the shortfall either side does not count as a failure
    inst_views: FloatArray | None  # the pair's institutional trust, for each judgement
    # the terms of running_economics fixed with the links, under the permits they paid and
    # the material table in force (``_terms_of`` renews them when it changes)
    costs: LinkCosts


def sees_on_platform(platform: tuple[BoolArray, BoolArray], a: IntArray, b: IntArray) -> BoolArray:
    """Pairs the waste-information platform puts in touch: one side listed and the other
    browsing, either way round (``a`` and ``b`` broadcast: pairs, or a block)."""
    listed, browsing = platform
    seen: BoolArray = (listed[a] & browsing[b]) | (browsing[a] & listed[b])
    return seen


def _mix(shares: dict[str, float]) -> tuple[list[str], FloatArray]:
    """Keys of a mix and their cumulative shares, normalised as Generator.choice does."""
    cdf = np.cumsum(np.array(list(shares.values()), dtype=float))
    cdf /= cdf[-1]
    return list(shares), cdf


class IndicatorCollector(DataCollector):
    """Mesa's DataCollector of the registered indicators: each month it keeps the park's raw
    numbers (``indicators.MonthLog``), and the indicators' columns are computed from them,
    for all months at once, when they are read."""

    def __init__(self, log: indicators.MonthLog) -> None:
        super().__init__()
        self.log = log
        self._vars: tuple[int, dict[str, list[Any]]] = (0, {})

    def record(self, view: MonthView, time: float) -> None:
        """Keep this month's raw numbers (``time``: the model's clock, as Mesa's
        ``collect`` notes it for ``batch_run``)."""
        self.log.record(view)
        self._collection_steps.append(time)

    @property
    def model_vars(self) -> dict[str, list[Any]]:
        """Mesa's model variables, a list per indicator (what ``mesa.batch_run`` reads),
        computed from the log once per month collected."""
        n = len(self.log)
        if self._vars[0] != n:
            self._vars = (n, {k: v.tolist() for k, v in self.columns().items()} if n else {})
        return self._vars[1]

    @model_vars.setter
    def model_vars(self, value: dict[str, list[Any]]) -> None:
        """Mesa's ``__init__`` starts the variables empty; they come from the log."""
        if value:
            raise AttributeError("the indicators' variables come from the month log")

    def columns(self) -> dict[str, np.ndarray]:
        """The timeseries so far, one array per indicator (as numpy infers each column's
        dtype from its values: int64 counts, float64, bool)."""
        return self.log.columns()

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """Mesa's frame of the model variables: a column per indicator, a row per month."""
        if not len(self.log):
            return pd.DataFrame({c: [] for c in indicators.TIMESERIES_COLUMNS})
        return pd.DataFrame(self.columns())


class EIPModel(mesa.Model):
    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.seed_used = seed
        self.sc = scenario
        self.catalogue = cat = scenario.catalogue()
        w, h = scenario.grid_shape()
        p = scenario.park
        self.park = Park(w, h, p.zones_x, p.zones_y, p.plot_size_m, rand=self.random)
        n, M = self.park.n_plots, len(cat.materials)
        self.n_mat = M
        # log-normal spreads of a new tenant's payback, RECP cost factor and M supply and M
        # demand intensities (``_draw_attributes`` draws them in one call)
        self._tenant_spreads = np.array([0.4, 0.3] + [0.3] * (2 * M))
        # each sector's supply then demand intensities side by side, as a tenant's stream
        # factors are drawn (the catalogue's two tables: one gather for both)
        self._sector_streams = np.hstack([cat.supply, cat.demand])
        # upper bounds of a tenant's confidentiality, hurdle and trust in the operator
        self._attribute_ceilings = np.array([[1.0], [0.95], [1.0]])
        self.state = FirmState(n, M)
        self.trust = TrustMatrix(n)
        self.reliability = Reliability(n)
        self.links = LinkTable()
        self.econ = EconParams.build(cat.mat, scenario.costs, scenario.government)
        self.firm_at: list[Firm | None] = [None] * n
        self.firm_registry = FirmRegistry()
        self.standard: BoolArray = ~cat.needs_standard.copy()  # none needed counts as covered
        self._sunk_permits = np.ones(M, dtype=bool)
        # set when an operator network serves a material: its connection fee
        self.connection_usd: FloatArray = np.full(M, np.nan)
        self.sigma = np.log1p(cat.mat["variability"] ** 2) ** 0.5  # lognormal sd from CV
        # for each cell of the supply then the demand (slots x materials each, flat), its
        # material's sigma and the lognormal's mean-one correction (``_stream_noise``
        # gathers them: no cell % M)
        self._cell_sigma = np.tile(self.sigma, 2 * n)
        self._cell_half_variance = np.tile(0.5 * self.sigma**2, 2 * n)
        # which supply then demand cells hold a stream this month (``_stream_noise`` writes
        # it), and the noise terms of the streams of the mask they were gathered for
        self._stream_mask = np.zeros((2, n, M), dtype=bool)
        self._noise_terms: tuple[bytes, IntArray, FloatArray, FloatArray] | None = None
        self._neigh = self.park.neighbour_pairs(scenario.trust.neighbour_radius)
        # each plot's neighbours, for a tenant's arrival: plot i's are
        # _near[_near_at[i]:_near_at[i + 1]]
        src, dst = self._neigh
        self._near = dst[np.argsort(src, kind="stable")]
        self._near_at = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])
        self.nationalities = list(scenario.firms.nationality_mix)
        roster = scenario.load_roster()
        for r in roster:
            if r["nationality"] not in self.nationalities:
                self.nationalities.append(r["nationality"])
        f = scenario.firms
        # each nationality's mean confidentiality (a tenant's is drawn around it)
        self._conf_by_nationality = np.array(
            [
                f.confidentiality_by_nationality.get(nat, f.confidentiality_default)
                for nat in self.nationalities
            ]
        )
        self.blocks = self._blocks()
        # the mixes' keys and cumulative shares (Python lists: ``draw_profile`` bisects them)
        self._sectors, sector_cdf = _mix(scenario.firms.sector_mix)
        self._nats, nat_cdf = _mix(scenario.firms.nationality_mix)
        self._sector_cdf: list[float] = sector_cdf.tolist()
        self._nat_cdf: list[float] = nat_cdf.tolist()
        self.operator = Operator(self)
        self.government = Government(self)
        self.assessment: dict[str, tuple[float, float, bool, str]] = {}
        self.rejected_prospects = 0
        self.reserved_plots: BoolArray = np.zeros(n, dtype=bool)
        self._entering: list[dict[str, Any]] = []
        self.renegotiations = 0
        self.production_shocks = 0
        self.penalties_usd = 0.0  # paid by contracted suppliers that failed (per-link contracts)
        self.inflow_last: FloatArray = np.zeros((n, M))  # what links delivered to each firm
        self.market_input_t = 0.0  # inputs processors bought off-park this month (coupling)
        self.log_price_index = 0.0  # market turbulence: log of the virgin-price index
        # this month's deliveries (link rows, units), for display (``active_links``)
        self._last_delivered: tuple[IntArray, FloatArray] = (np.zeros(0, np.int64), np.zeros(0))
        # the alive processors' fixed terms, and the bytes of the processor codes they are of
        # (``_processor_codes``: each sector's code, its index + 1 if it transforms an input,
        # else 0; the last entry is an empty plot's, sector -1)
        self._processors: _Processors | None = None
        self._processors_key = b""
        sectors = np.arange(cat.transform_in.size)
        self._sector_code = np.append(np.where(cat.transform_in >= 0, sectors + 1, 0), 0)
        # the plot-neighbour pairs both occupied, and the alive bytes they are of
        self._occupied = self.trust.kept_pairs(self._neigh[0][:0], self._neigh[1][:0])
        self._occupied_key = b""
        # the active links' fixed terms, and the diffusion plan of the links and the trading
        # relations (the reliability keys) it was made for
        self._link_terms: _LinkTerms | None = None
        # the live links' sorted keys (``_live_link_keys``), and the statuses they are of
        self._live_keys: IntArray = np.zeros(0, dtype=np.int64)
        self._live_keys_status = b""
        # the plots' distances (``distance_km``; None until asked, or in a large park)
        self._distances: FloatArray | None = None
        # the materials a reuse standard in force assures, and the standards they are of
        self._assured: BoolArray | None = None
        self._assured_key = b""
        self._experience: tuple[ActiveLinks, IntArray, ExperiencePlan | None] | None = None
        # the RECP adopters' link partners (``_recp_partners``), and the active links and
        # adopter bytes they are of
        self._recp_partners: tuple[ActiveLinks | None, bytes, IntArray] = (
            None,
            b"",
            np.zeros(0, np.int64),
        )
        self._populate(roster)
        self._material_sets = indicators.material_sets(cat)
        # the indicators' link-table terms of earlier months (``indicators.LinkTermsMemo``)
        self._indicator_memo = indicators.LinkTermsMemo()
        self.datacollector = IndicatorCollector(indicators.MonthLog(n, M, self._material_sets))

    # -- building ----------------------------------------------------------------------------
    def _blocks(self) -> dict[str, IntArray] | None:
        by = CLUSTER_BY[self.sc.park.placement]
        if by is None:
            return None
        f = self.sc.firms
        if self.sc.park.placement == "chain_clusters":  # complementary sectors side by side
            cat, mix = self.catalogue, f.sector_mix
            rows = [cat.sector_index(k) for k in mix]
            share = np.array(list(mix.values()))
            value = stream_value(cat.mat)
            weight = complementarity(share, cat.supply[rows], cat.demand[rows], value)
            return self.park.chain_blocks(mix, weight)
        return self.park.cluster_blocks(f.nationality_mix if by == "nationality" else f.sector_mix)

    def draw_profile(self) -> tuple[str, str, float]:
        """A prospective tenant's sector, nationality and size, from the scenario's mixes.

        A categorical draw is one uniform number looked up in the mix's cumulative shares,
        exactly as ``Generator.choice(n, p=shares)`` does it, without its per-call checks."""
        f = self.sc.firms
        u_sector, u_nat = self.rng.random(2).tolist()  # (the numbers of two single draws)
        sector = self._sectors[bisect_right(self._sector_cdf, u_sector)]
        nat = self._nats[bisect_right(self._nat_cdf, u_nat)]
        sig = f.size_sigma
        size = float(np.exp(self.rng.normal(-0.5 * sig * sig, sig)))
        return sector, nat, size

    def _populate(self, roster: list[dict[str, Any]]) -> None:
        """Roster firms from the start, then random tenants; roster firms with a later
        ``entry_month`` wait (their plots reserved) and enter that month."""
        self._networks: dict[str, list[int]] = {}
        now = [r for r in roster if r.get("entry_month", 0) == 0]
        self._entering = sorted(
            (r for r in roster if r.get("entry_month", 0) > 0), key=lambda r: r["entry_month"]
        )
        for r in self._entering:
            if r["plot"] is not None:
                self.reserved_plots[r["plot"]] = True
        fixed = [r for r in now if r["plot"] is not None]
        floating = [r for r in now if r["plot"] is None]
        for r in fixed + floating:
            firm = self.add_firm(
                r["sector"], r["nationality"], r["size"], r["name"], r["plot"], opening=True
            )
            self._join_network(firm.slot, r.get("network"))
        for _ in range(self.sc.firms.count - len(roster)):
            self.add_firm(*self.draw_profile(), opening=True)
        self._draw_attributes(self.state.alive.nonzero()[0])
        self._meet_opening_tenants()

    def _meet_opening_tenants(self) -> None:
        """Initial trust and acquaintances among the opening tenants, drawn at once with the
        distribution ``add_firm`` draws them with, firm by firm (``TrustMatrix.init_firms``):
        each unordered pair knows each other with the chance of ``_init_acquaintances``,
        plot neighbours too with ``trust.neighbours_know_streams``. Roster networks'
        acquaintance (set before) is kept: the draw is OR-ed in."""
        st, t = self.state, self.sc.trust
        firms = st.alive.nonzero()[0]
        self.trust.init_firms(
            firms,
            st.nat,
            t.initial_same_nationality,
            t.initial_cross_nationality,
            t.noise,
            self.rng,
        )
        k, nat = firms.size, st.nat[firms]
        knows = np.zeros((k, k), dtype=bool)
        step = max(8, (1 << 17) // max(k, 1))  # blocks of rows: no k x k float temporaries
        for a in range(0, k, step):
            b = min(a + step, k)
            p = np.where(
                nat[a:b, None] == nat[None, :],
                t.acquaintance_same_nationality,
                t.acquaintance_cross_nationality,
            )
            later = np.arange(k)[None, :] > np.arange(a, b)[:, None]  # each pair once
            knows[a:b] = (self.rng.random((b - a, k)) < p) & later
        knows |= knows.T
        st.known[np.ix_(firms, firms)] |= knows
        if t.neighbours_know_streams:
            src, dst = self._neigh
            both = st.alive[src] & st.alive[dst]
            st.known[src[both], dst[both]] = True

    def add_firm(
        self,
        sector: str,
        nationality: str,
        size: float,
        name: str | None = None,
        plot: int | None = None,
        *,
        opening: bool = False,
    ) -> Firm:
        """Put a new tenant on a plot (its own, or one chosen by the placement policy).
        ``opening=True`` leaves out its attributes, initial trust and acquaintances: the
        park's opening tenants draw them all at once, after all are placed
        (``_draw_attributes``, ``_meet_opening_tenants``)."""
        st, cat, rng = self.state, self.catalogue, self.rng
        # converted plots are never leased; plots reserved for later roster entrants wait
        vacant = ~(st.alive | self.operator.shared_plots | self.reserved_plots)
        if plot is None:
            key = sector if CLUSTER_BY[self.sc.park.placement] == "sector" else nationality
            plot = choose_plot(self.park, vacant, self.sc.park.placement, key, self.blocks, rng)
        slot = int(plot)
        s_idx = cat.sector_index(sector)
        st.alive[slot] = True
        st.sector[slot] = s_idx
        st.nat[slot] = self.nationalities.index(nationality)
        st.size[slot] = size
        st.entered[slot] = self.steps
        if opening:
            return self._register(slot, sector, nationality, name)
        self._draw_attributes(slice(slot, slot + 1))
        t = self.sc.trust
        self.trust.init_firm(
            slot,
            st.nat,
            st.alive,
            t.initial_same_nationality,
            t.initial_cross_nationality,
            t.noise,
            rng,
        )
        self._init_acquaintances(slot)
        return self._register(slot, sector, nationality, name)

    def _register(self, slot: int, sector: str, nationality: str, name: str | None) -> Firm:
        """The tenant on ``slot`` as a Mesa agent, in the registry."""
        st, firm = self.state, Firm(self, slot)
        self.firm_registry.add(
            FirmIdentity(firm.unique_id, name or f"{sector}-{slot}", sector, nationality)
        )
        st.uid[slot] = firm.unique_id
        self.firm_at[slot] = firm
        return firm

    def _draw_attributes(self, slots: Slots) -> None:
        """The firm-level attributes of the tenants on ``slots`` (placed, their sector,
        nationality and size set): one call per kind of draw for all of them, in this order
        of kinds: confidentiality, hurdle and trust in the operator (three normals a firm);
        RECP awareness; payback, cost factor and the stream intensities (2 + 2M normals a
        firm); the dispositions behind their thresholds for the operator. A later arrival
        draws its own (one slot, as a slice: the same numbers as one call per number, and
        its rows read and written without fancy indexing); the park's opening tenants draw
        theirs at once."""
        st, f, t, rng = self.state, self.sc.firms, self.sc.trust, self.rng
        nat, sector, size = st.nat[slots], st.sector[slots], st.size[slots]
        k, M = nat.size, self.n_mat
        z_conf, z_hurdle, z_op = rng.standard_normal((k, 3)).T
        aware = rng.random(k) < f.recp_aware_initial
        z = rng.standard_normal((k, 2 + 2 * M))
        # confidentiality, hurdle and trust in the operator, each clipped to its bounds, in
        # one (3, k) array (two ufuncs: np.clip's wrapper costs more; no value is -0.0 or
        # NaN, where they could differ)
        bounded = np.empty((3, k))
        np.add(self._conf_by_nationality[nat], f.confidentiality_spread * z_conf, out=bounded[0])
        np.multiply(f.hurdle_mean, np.exp(0.3 * z_hurdle), out=bounded[1])
        np.add(t.in_operator, 0.05 * z_op, out=bounded[2])
        np.minimum(np.maximum(bounded, 0.0, out=bounded), self._attribute_ceilings, out=bounded)
        st.conf[slots], st.hurdle[slots], st.trust_op[slots] = bounded
        st.recp_aware[slots] = aware
        st.recp_applied[slots] = False
        # payback, cost factor and the firm-specific stream intensities (supply, demand)
        factors = np.exp(self._tenant_spreads * z)
        st.recp_payback[slots] = f.recp_payback_years * factors[:, 0]
        st.recp_cost_factor[slots] = factors[:, 1]
        streams = self._sector_streams[sector] * size[:, None] * factors[:, 2:]
        st.raw_supply[slots] = st.base_supply[slots] = streams[:, :M]
        st.base_demand[slots] = streams[:, M:]
        dispositions = rng.random(k) if t.negotiation_slope > 0 else np.full(k, 0.5)
        st.op_threshold[slots] = behaviour.own_threshold(
            t.threshold, t.negotiation_slope, dispositions
        )

    def _init_acquaintances(self, slot: int) -> None:
        """A firm knows its plot neighbours, and some firms of its own and other nationalities
        (chambers of commerce, parent-company networks)."""
        st, t = self.state, self.sc.trust
        draw = self.rng.random(st.alive.size)  # one number per plot (only alive firms count)
        # as masks over all plots (no gathers of the alive firms): whole rows are cheaper
        p = np.where(
            st.nat == st.nat[slot],
            t.acquaintance_same_nationality,
            t.acquaintance_cross_nationality,
        )
        knows = st.alive & (draw < p)
        if t.neighbours_know_streams:
            near = self._near[self._near_at[slot] : self._near_at[slot + 1]]
            knows[near] |= st.alive[near]
        knows[slot] = False
        st.known[slot] |= knows
        st.known[:, slot] |= knows

    def vacate(self, firm: Firm) -> None:
        """A firm leaves: its links end, facilities drop it, its plot is emptied."""
        slot = firm.slot
        self.links.end_links(self.links.touching(slot), self.steps, "partner_closed")
        for fac in self.operator.facilities:
            fac.drop(slot)
        self.state.clear(slot)
        self.trust.clear(slot)
        self.reliability.clear(slot)
        self.firm_at[slot] = None
        firm.remove()

    @property
    def firms(self) -> mesa.agent.AgentSet:
        """The firms in the park now (an AgentSet)."""
        return self.agents_by_type.get(Firm) or mesa.agent.AgentSet([], random=self.random)

    # -- queries -------------------------------------------------------------------------------
    def distance_km(self, s: IntArray, u: IntArray) -> FloatArray:
        """Haulage distance between plots, at least the scenario's minimum
        (``Park.distance_km``). Plots never move: in a park of up to ``KEPT_DISTANCES_MAX``
        plots all their distances are worked out once and looked up (one take for the
        search's every-month few pairs instead of the geometry's half-dozen operations)."""
        n, minimum = self.park.n_plots, self.sc.costs.min_distance_km
        if n > KEPT_DISTANCES_MAX:
            return self.park.distance_km(s, u, minimum)
        if self._distances is None:
            every = np.arange(n)
            self._distances = self.park.distance_km(np.repeat(every, n), np.tile(every, n), minimum)
        return self._distances.take(s * n + u)

    def active_links(self) -> list[LinkView]:
        """Active links as small records for display."""
        L = self.links
        last = dict(zip(*(x.tolist() for x in self._last_delivered), strict=True))
        return [
            LinkView(
                supplier=self.firm_at[L.s[r]],
                user=self.firm_at[L.u[r]],
                material=self.catalogue.materials[L.m[r]],
                tonnes_last=float(last.get(int(r), 0.0)),
                start_step=int(L.start[r]),
            )
            for r in L.rows(ACTIVE)
        ]

    def links_frame(self) -> pd.DataFrame:
        """One row per link ever formed (``LinkTable.to_frame``), with each material's unit
        and the haulage distance between its partners' plots."""
        return self.deferred_links_frame()()

    def deferred_links_frame(self) -> Callable[[], pd.DataFrame]:
        """What builds ``links_frame`` later without the model (``RunResult.links``, which
        most sweeps never read): the link table, the firm registry and the partners'
        distances now. Valid while the table does not change, as after a finished run."""
        cat, L = self.catalogue, self.links
        dist = self.distance_km(L.s[: L.n], L.u[: L.n])
        return partial(
            L.to_frame, self.firm_registry, cat.materials, distance_km=dist, units=cat.mat["unit"]
        )

    def explain_candidates(self, slot: int) -> list[dict[str, Any]]:
        """Why the firm on ``slot`` does or does not exchange with each possible partner now.

        For every firm with which it could trade a stream (its uncommitted supply against the
        other's uncommitted demand, or the reverse), the reason a link would not form today,
        checked in the order a negotiation meets them: "not known" (neither knows of the
        other, and no platform or broker put them in touch), "trust" (one side's effective
        trust, institutional trust included, is below the negotiation threshold, so it is
        more likely than not to refuse to negotiate), "confidentiality" (the material needs cost data
        that a side's parent company will not share with this partner), "permit" (it pays
        only without the permit a missing reuse standard requires), "economics" (it does not
        pay both sides after weighing the partner's reliability), or "ok"."""
        st = self.state
        if not st.alive[slot]:
            return []
        res_s, res_d = self.uncommitted()
        out: list[dict[str, Any]] = []
        others = np.flatnonzero(st.alive)
        others = others[others != slot]
        for role, sup_side in (("supplies", True), ("uses", False)):
            own = res_s[slot] if sup_side else res_d[slot]
            theirs = res_d[others] if sup_side else res_s[others]
            j, m = np.nonzero((own[None, :] >= MIN_Q) & (theirs >= MIN_Q))
            if j.size == 0:
                continue
            partner = others[j]
            s = np.full(j.size, slot) if sup_side else partner
            u = partner if sup_side else np.full(j.size, slot)
            q = np.minimum(res_s[s, m], res_d[u, m])
            facil = st.facilitated[s, u]
            c = self.negotiation(s, u, m, q, facil, facil, res_s)
            e = pair_economics(self.econ, c, self.standard, self.connection_usd)
            paid = pair_economics(self.econ, c, np.ones_like(self.standard), self.connection_usd)
            ok = behaviour.accepts_link(
                e, self.econ, c, st.hurdle[s], st.hurdle[u], self.sc.trust.threshold
            )
            ok_no_permit = behaviour.accepts_link(
                paid, self.econ, c, st.hurdle[s], st.hurdle[u], self.sc.trust.threshold
            )
            thr = self.sc.trust.threshold
            eff_su, eff_us = c.effective_trust()
            trusting = (eff_su >= thr) & (eff_us >= thr)
            needs = self.catalogue.mat["needs_cost_disclosure"][m]
            discloses = ~needs | ((c.conf_s <= eff_su) & (c.conf_u <= eff_us))
            known = st.known[s, u]
            if self.sc.trust.confidentiality_gate == "all_streams":
                known = known & behaviour.tells_about_streams(
                    c.trust_su, c.trust_us, c.conf_s, c.conf_u
                )
            known = known | facil
            for i in range(j.size):
                if not known[i]:
                    reason = "not known"
                elif not trusting[i]:
                    reason = "trust"
                elif not discloses[i]:
                    reason = "confidentiality"
                elif ok[i]:
                    reason = "ok"
                elif ok_no_permit[i]:
                    reason = "permit"
                else:
                    reason = "economics"
                p_slot = int(partner[i])
                p_firm = self.firm_at[p_slot]
                out.append(
                    {
                        "partner_slot": p_slot,
                        "partner_name": p_firm.name if p_firm is not None else "",
                        "material": self.catalogue.materials[int(m[i])],
                        "role": role,
                        "q": float(q[i]),
                        "benefit_usd": float(e.benefit[i]),
                        "reason": reason,
                    }
                )
        return out

    def uncommitted(self) -> tuple[FloatArray, FloatArray]:
        """Expected monthly supply and demand (N, M) of alive firms not yet contracted to
        active or pending links: what new links, brokers and the tenant fit can draw on."""
        st = self.state
        out, inn = self.links.committed(self.park.n_plots, self.n_mat)
        # (an empty plot's expected streams are zero, ``FirmState.clear``: its rows are 0)
        return np.maximum(st.base_supply - out, 0.0), np.maximum(st.base_demand - inn, 0.0)

    def negotiation(
        self,
        s: IntArray,
        u: IntArray,
        m: IntArray,
        q: FloatArray,
        facilitated: BoolArray,
        brokered: BoolArray,
        res_supply: FloatArray,
    ) -> Candidates:
        """Candidate links as the two sides weigh them before agreeing: as they meet
        (``meeting``), with the risks they weigh (``weigh_risks``)."""
        c = self.meeting(s, u, m, q, facilitated, brokered)
        self.weigh_risks(c, res_supply)
        return c

    def meeting(
        self,
        s: IntArray,
        u: IntArray,
        m: IntArray,
        q: FloatArray,
        facilitated: BoolArray,
        brokered: BoolArray,
    ) -> Candidates:
        """Candidate links as each side sees the other when they meet (``candidates``), with
        the pair's institutional trust: a broker's guarantee, a reuse standard in force for
        a material that needs one, written contracts. All that whether they negotiate
        (``behaviour.negotiates``) reads."""
        c = self.candidates(s, u, m, q, facilitated)
        c.inst = self.institutional_trust(m, brokered, self.econ.contract)
        return c

    def weigh_risks(self, c: Candidates, res_supply: FloatArray) -> None:
        """Add to candidates (``meeting``) each side's belief that the other fails
        (``Reliability``) and the user's re-sourcing lead time: shorter when another firm
        in the park has the material to spare in ``res_supply``."""
        tr, k, rel = self.sc.trust, self.sc.costs, self.reliability
        if k.risk_model != "per_event":
            return
        phi, kappa = tr.failure_rate_at_no_trust, tr.reliability_prior_months
        c.fail_s, c.fail_u = rel.failure_rates(c.s, c.u, c.trust_su, c.trust_us, phi, kappa)
        spare = res_supply >= MIN_Q
        # another firm has it to spare: more firms than the supplier (if it is one)
        elsewhere = spare.sum(axis=0)[c.m] > spare[c.s, c.m]
        c.lead_u = np.where(
            elsewhere, k.alternative_lead_time_months, k.resourcing_lead_time_months
        )

    def institutional_trust(
        self, m: IntArray, brokered: BoolArray, contract: BoolArray | bool
    ) -> FloatArray | None:
        """Trust a pair draws from institutions rather than from each other (docs/ODD.md
        §7.18): a broker's guarantee, a reuse standard in force for a material that needs
        one, a written contract, as independent assurances. None when none is in play."""
        tr = self.sc.trust
        if not (tr.broker_guarantee or tr.standard_assurance or tr.contract_assurance):
            return None
        doubt = 1.0 - tr.broker_guarantee * brokered
        assured_materials = self._assured_materials()
        if assured_materials is not None:  # (none assured: its factor 1.0, exact to leave out)
            doubt = doubt * (1.0 - tr.standard_assurance * assured_materials[m])
        inst: FloatArray = 1.0 - doubt * (1.0 - tr.contract_assurance * contract)
        return inst

    def _assured_materials(self) -> BoolArray | None:
        """The materials that need a reuse standard and have one in force (None if none),
        kept until the standards in force (``standard``, updated in place) change."""
        key = self.standard.tobytes()
        if key != self._assured_key:
            assured = self.catalogue.needs_standard & self.standard
            self._assured, self._assured_key = (assured if assured.any() else None), key
        return self._assured

    def _priced_with_contracts(self, c: Candidates) -> Priced:
        """The candidates' prices (``pair_prices``) under the contract rule: with
        ``costs.contract_choice: per_link`` (and contracts available) both options are
        priced (``Candidates.contract = BOTH_OPTIONS``: a row informal, a row signed),
        otherwise the scenario-wide rule applies."""
        k = self.sc.costs
        if k.contract_choice == "per_link" and k.contract_months > 0:
            c.contract = BOTH_OPTIONS
        return pair_prices(self.econ, c, self.standard, self.connection_usd)

    def _economics_with_contracts(
        self, c: Candidates, priced: Priced
    ) -> tuple[PairEconomics, BoolArray | None]:
        """The candidates' economics from their prices (``_priced_with_contracts``), and
        which pairs sign a written contract: where both options are priced, each pair signs
        when it raises their joint expected gain (``behaviour.chooses_contract``;
        ``chosen_option`` gives a pair's figures under its choice); otherwise the
        scenario-wide rule applies and the contract flags are None."""
        e = pair_economics(self.econ, c, self.standard, self.connection_usd, priced=priced)
        return e, behaviour.chooses_contract(e) if c.contract is BOTH_OPTIONS else None

    def _renegotiate(self) -> None:
        """Contracts follow capacity: where a firm's contracted quantities of a material
        exceed what it now expects to supply (after RECP, say) or use, its links of that
        material are scaled down in proportion."""
        L, st = self.links, self.state
        out, inn = L.committed(self.park.n_plots, self.n_mat)
        # most months no firm is committed beyond its capacity: a cell's commitment is 0
        # without a live link, and capacities are never negative
        if not ((out > st.base_supply).any() or (inn > st.base_demand).any()):
            return
        live = L.live_rows()
        s, u, m = L.s[live], L.u[live], L.m[live]
        cap_s, com_s = st.base_supply[s, m], out[s, m]
        cap_u, com_u = st.base_demand[u, m], inn[u, m]
        over_s, over_u = com_s > cap_s, com_u > cap_u
        scale = np.minimum(
            np.divide(cap_s, com_s, out=np.ones_like(com_s), where=over_s),
            np.divide(cap_u, com_u, out=np.ones_like(com_u), where=over_u),
        )
        cut = scale < 1.0 - 1e-9
        if cut.any():
            L.q[live[cut]] *= scale[cut]
            self.renegotiations += int(cut.sum())

    def candidates(
        self, s: IntArray, u: IntArray, m: IntArray, q: FloatArray, facilitated: BoolArray
    ) -> Candidates:
        """Candidate links between plots as each side sees them now."""
        T, st = self.trust.T, self.state
        return Candidates(
            s,
            u,
            m,
            q,
            self.distance_km(s, u),
            T[s, u],
            T[u, s],
            st.conf[s],
            st.conf[u],
            facilitated,
        )

    # -- the month -------------------------------------------------------------------------------
    def step(self) -> None:
        t, st = self.steps, self.state
        self._roster_entries(t)
        self.government.begin_month(t)
        self.operator.begin_month(t)
        self.government.broker()

        self._market_month()
        if self.sc.firms.production_coupling:
            self._couple_production()
        snoise, dnoise = self._stream_noise(st.base_supply, st.base_demand)
        supply = self._production_shocks(st.base_supply * snoise)

        link_flows = self._deliver(supply, dnoise)
        self.inflow_last = link_flows.inn
        self._start_pending(t)

        res_supply = np.maximum(supply - link_flows.out, 0.0)
        if self.operator.facilities:
            res_demand = np.maximum(st.base_demand * dnoise - link_flows.inn, 0.0)
            park_now = ParkNow(
                alive=st.alive,
                res_supply=res_supply,
                res_demand=res_demand,
                trust_op=st.trust_op,
                conf=st.conf,
                size=st.size,
                standard=self.standard,
                threshold=st.op_threshold,
            )
            fac = self.operator.run_facilities(park_now)
        else:  # (no facility takes a residue: none to show them)
            fac = self.operator.no_flows

        self._search_and_form(t)
        self._spread_trust()
        self._review_recp()
        if self.sc.costs.renegotiate:
            self._renegotiate()
        self._exits_and_arrivals()
        self.government.account(link_flows, res_supply, fac)
        view = self._month_view(supply, res_supply, link_flows, fac)
        if t % self.sc.government.assessment.every_months == 0:
            self.assessment = self.government.assess(view)
            view = replace(
                view, eip_score=self.government.score, eip_certified=self.government.certified
            )
        self.datacollector.record(view, self.time)

    @property
    def metrics(self) -> dict[str, Any]:
        """This month's value of every indicator (none before the first month)."""
        return self.datacollector.log.latest()

    def _stream_noise(
        self, supply: FloatArray, demand: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """This month's factors on the expected ``supply`` and ``demand`` (slots x materials
        each): lognormal with mean one and the material's variability as CV, drawn in one
        call for the streams that exist (an empty plot's are zero), the supply's then the
        demand's, each in plot-then-material order; 1 elsewhere. The streams are found on a
        kept mask (``nonzero`` of a bool array is twice as fast as of floats), and their
        cells and noise terms are kept while the mask is the same (in about two months in five
        of a baseline run it is)."""
        mask = self._stream_mask
        np.not_equal(supply, 0.0, out=mask[0])
        np.not_equal(demand, 0.0, out=mask[1])
        key = mask.tobytes()
        if self._noise_terms is None or self._noise_terms[0] != key:
            flat = mask.reshape(-1).nonzero()[0]
            sigma, half_variance = self._cell_sigma.take(flat), self._cell_half_variance.take(flat)
            self._noise_terms = key, flat, sigma, half_variance
        _, flat, sigma, half_variance = self._noise_terms
        factor = np.ones(mask.shape)
        factor.reshape(-1)[flat] = np.exp(
            self.rng.standard_normal(flat.size) * sigma - half_variance
        )
        return factor[0], factor[1]

    def _roster_entries(self, t: int) -> None:
        """Roster firms whose ``entry_month`` has come move in (onto their reserved plot)."""
        while self._entering and self._entering[0]["entry_month"] <= t:
            r = self._entering.pop(0)
            if r["plot"] is not None:
                self.reserved_plots[r["plot"]] = False
                if self.state.alive[r["plot"]]:  # occupied meanwhile: place it elsewhere
                    r = {**r, "plot": None}
            firm = self.add_firm(r["sector"], r["nationality"], r["size"], r["name"], r["plot"])
            self._join_network(firm.slot, r.get("network"))

    def _join_network(self, slot: int, network: str | None) -> None:
        """A roster firm of a ``network`` (a chain the developer recruited together, a
        parent-company group) knows its fellow members and was introduced to them: they
        count as introduced, as after a broker's introduction (its guarantee and cost cut, no
        trust boost)."""
        if not network:
            return
        members = self._networks.setdefault(network, [])
        st = self.state
        for other in members:
            if st.alive[other]:
                st.known[slot, other] = st.known[other, slot] = True
                st.facilitated[slot, other] = st.facilitated[other, slot] = True
        members.append(slot)

    def _market_month(self) -> None:
        """Virgin-input prices follow a driftless random walk in logs (Albino et al. 2016's
        turbulence): log I_t = log I_(t-1) + sigma_m eps - sigma_m^2 / 2, with sigma_m the
        annual volatility / sqrt(12), so that E[I_t] = I_(t-1). No draw when it is 0."""
        vol = self.sc.market.virgin_price_volatility
        if vol <= 0:
            return
        sm = vol / np.sqrt(12.0)
        self.log_price_index += sm * float(self.rng.standard_normal()) - 0.5 * sm * sm
        self.econ = replace(self.econ, price_index=float(np.exp(self.log_price_index)))

    def _couple_production(self) -> None:
        """Processors' expected output follows their input (EIO technical coefficients,
        sectors.yaml ``transforms``). A processor processes up to its capacity (its demand
        for the input): what its links delivered last month, plus what it buys off-park
        when the spread pays,

            spread = I_t (y p_out + y_r p_res) - p_in I_t - c_proc,

        p_out the output's outside sale value (-disposal), p_in the input's market price,
        p_res the residue's value (-avoided cost), all per tonne of input. Output = y x
        processed, residue = y_r x processed (after RECP's cut)."""
        st = self.state
        codes = self._processor_codes()
        key = codes.tobytes()
        if self._processors_key != key:  # a processor came or went
            self._processors_key = key
            self._processors = self._find_processors(np.flatnonzero(codes))
        if self._processors is None:
            return
        self._processors = pr = self._processors.at_price_index(self.econ.price_index)
        capacity = st.base_demand.take(pr.input_cell)
        linked = np.minimum(self.inflow_last.take(pr.input_cell), capacity)
        processed = capacity if pr.all_buy else np.where(pr.buys, capacity, linked)
        self.market_input_t = float((processed - linked).sum())
        st.base_supply.put(pr.output_cell, pr.y * processed)
        cut = np.where(st.recp_applied.take(pr.firms), pr.after_recp, 1.0)
        st.base_supply.put(pr.residue_cell, (pr.y_r * processed * cut)[pr.with_residue])

    def _processor_codes(self) -> IntArray:
        """Each slot's processor code: its sector's index + 1 for an alive processor (a firm
        whose sector transforms an input), else 0. The processors are the non-zero slots;
        the codes change only when a processor comes or goes."""
        codes: IntArray = self._sector_code.take(self.state.sector) * self.state.alive
        return codes

    def _find_processors(self, firms: IntArray) -> _Processors | None:
        """The fixed terms of the alive processors ``firms`` (None: there are none)."""
        cat = self.catalogue
        if firms.size == 0:
            return None
        k = self.state.sector[firms]
        t_in, t_out, t_res = cat.transform_in[k], cat.transform_out[k], cat.transform_residue[k]
        y, y_r = cat.transform_yield[k], cat.transform_residue_yield[k]
        has_res = t_res >= 0
        M = self.n_mat
        return _Processors(
            firms=firms,
            sectors=k,
            input_cell=firms * M + t_in,
            output_cell=firms * M + t_out,
            residue_cell=(firms * M + t_res)[has_res],
            y=y,
            y_r=y_r,
            with_residue=slice(None) if has_res.all() else np.flatnonzero(has_res),
            res_value=np.where(has_res, -self.econ.avoided[np.maximum(t_res, 0)] * y_r, 0.0),
            neg_disposal_out=-cat.mat["disposal_usd"][t_out],
            virgin_in=cat.mat["virgin_price_usd"][t_in],
            cost=cat.transform_cost[k],
            after_recp=1.0 - cat.recp_reduction[k],
            price_index=np.nan,  # (at_price_index fills in the spread and what it buys)
            spread=np.zeros(0),
            buys=np.zeros(0, dtype=bool),
            all_buy=False,
        )

    def _production_shocks(self, supply: FloatArray) -> FloatArray:
        """Each firm's output is disrupted with a monthly hazard from the yearly rate; a
        disrupted firm loses a share of this month's streams (``supply`` is cut in place).
        No draw when the rate is 0."""
        mk = self.sc.market
        if mk.production_shock_rate_per_year <= 0:
            return supply
        hazard = 1.0 - (1.0 - mk.production_shock_rate_per_year) ** (1.0 / 12.0)
        hit = self.state.alive & (self.rng.random(self.park.n_plots) < hazard)
        n_hit = int(np.count_nonzero(hit))
        if n_hit:  # (most months none: the others' streams are unchanged either way)
            self.production_shocks += n_hit
            supply[hit] *= 1.0 - mk.production_shock_depth
        return supply

    def view(self, step: int | None = None) -> MonthView:
        """A read-only view of the park now, with no flows (for inspection and tests);
        ``step`` overrides the month it is taken as."""
        zero = np.zeros((self.park.n_plots, self.n_mat))
        v = self._month_view(
            zero, zero, LinkFlows.empty(self.park.n_plots, self.n_mat), Flows.empty(self.n_mat)
        )
        return v if step is None else replace(v, step=step)

    def _month_view(
        self, supply: FloatArray, res_supply: FloatArray, flows: LinkFlows, fac: Flows
    ) -> MonthView:
        return MonthView(
            step=self.steps,
            n_plots=self.park.n_plots,
            catalogue=self.catalogue,
            state=self.state,
            links=self.links,
            trust=self.trust,
            facilities=self.operator.facilities,
            supply=supply,
            res_supply=res_supply,
            link_flows=flows,
            fac_flows=fac,
            base_shared_land=self.sc.park.shared_land_share,
            converted_land=self.operator.converted_land_share,
            last_event_attendance=self.operator.last_event_attendance,
            firms_screened=self.operator.firms_screened,
            operator_cash_usd=self.operator.cash_usd,
            platform_active=self.operator.platform_active,
            events_held=self.operator.events_held,
            government_budget_usd=self.government.budget_usd,
            government_spending_usd=self.government.ledger.spending_usd,
            government_revenue_usd=self.government.ledger.revenue_usd,
            eip_score=self.government.score,
            eip_certified=self.government.certified,
            sets=self._material_sets,
            memo=self._indicator_memo,
        )

    def _deliver(self, supply: FloatArray, demand_factor: FloatArray) -> LinkFlows:
        """Active links carry this month's quantities; trust and link survival follow."""
        L, n, M, tr = self.links, self.park.n_plots, self.n_mat, self.sc.trust
        active = L.active(M)
        rows, s, u, m = active.rows, active.s, active.u, active.m
        if rows.size == 0:
            self._last_delivered = rows, np.zeros(0)
            return LinkFlows.empty(n, M)
        # Against the contract, a user asks for its demand this month up to what it
        # contracted; the first version let it ask for more (docs/ODD.md, limitations).
        by_contract = tr.judge_deliveries == "against_contract"
        asked = np.minimum(demand_factor, 1.0) if by_contract else demand_factor
        delivered, want, short = L.deliver(active, supply, asked)
        self._last_delivered = rows, delivered
        k = self._terms_of(active)
        K = rows.size
        views = self.trust.T.take(k.view)  # T[u, s], then T[s, u]
        cands = Candidates(  # as ``candidates``, with the distance kept at formation
            s,
            u,
            m,
            delivered,
            k.dist_km,
            views[K:],
            views[:K],
            k.conf_s,
            k.conf_u,
            k.facilitated,
        )
        running = self.steps - k.start
        paid_off = running >= self.sc.costs.horizon_months
        # (honest indicators, issue 8 item 10: xfer, the transfers counted inside benefit)
        benefit, benefit_s, benefit_u, xfer = running_economics(self.econ, cands, k.costs, paid_off)
        L.benefit_total[rows] += benefit
        flows = LinkFlows.of(active, (n, M), delivered, benefit)
        if xfer is not None:  # (None: no instrument makes transfers, all would be zero)
            L.transfers_total[rows] += xfer.total
            flows.add_transfers(xfer.levy_avoided, xfer.exchange_subsidy + xfer.capex_subsidy)
        # Trust and reliability beliefs: the user judges deliveries, the supplier uptake,
        # each against what was contracted, with the stream's known month-to-month
        # variability as tolerance: noise both sides expect is not a failure.
        tol = k.tolerance
        kept = short <= tol
        q = L.q[rows]
        uptake = np.divide(want, q, out=np.ones_like(want), where=q > 0)
        taken = uptake >= 1.0 - tol
        ok = np.concatenate([kept, taken])
        self._judge(k, ok, kept, taken, short, uptake)
        if self.sc.costs.risk_model == "per_event" or tr.diffusion_source == "experience":
            # users about suppliers' deliveries, suppliers about users' uptake, in one pass
            self.reliability.observe_keys(k.view, ~ok)
        # A contracted supplier that fails pays the user a penalty for the shortfall
        # (per-link contracts): the premium the user pays for the lead time, in part.
        per_link = self.sc.costs.contract_choice == "per_link"
        breach = k.contract & ~kept if per_link else None
        # Survival: losses for too long, or trust collapsed on either side.
        if breach is not None and breach.any():
            c = self.sc.costs
            value = self.catalogue.mat["substitution_ratio"][m] * self.econ.virgin_price[m]
            penalty = np.where(
                breach,
                c.contract_exposure_cut
                * c.resourcing_lead_time_months
                * c.emergency_premium
                * value
                * (want - delivered),
                0.0,
            )
            self.penalties_usd += float(penalty.sum())
            losing = (benefit_s - penalty < 0) | (benefit_u + penalty < 0)
        else:  # no penalty this month (most months): the same test with none
            losing = (benefit_s < 0) | (benefit_u < 0)
        loss_months = np.where(losing, L.loss_months[rows] + 1, 0)
        L.loss_months[rows] = loss_months
        # Trust collapses when the trust the partners deal on, institutions included, falls
        # below the break level: a pair a broker's guarantee or a contract brought together
        # at low personal trust has not collapsed by being there (review checklist 7).
        views = self.trust.T.take(k.view)
        if k.inst_views is not None:
            views = with_institutions(views, k.inst_views)
        c = self.sc.costs
        unprofitable, collapsed = behaviour.keeps_link(
            loss_months,
            running,
            views[:K],
            views[K:],
            c.contract_months,
            c.unprofitable_months,
            tr.break_below,
            k.contract if per_link else None,
        )
        for ended, why in (
            (rows[unprofitable], "unprofitable"),
            (rows[collapsed], "trust_collapse"),
        ):
            if ended.size:
                L.end_links(ended, self.steps, why)
                self.trust.lower(L.s[ended], L.u[ended], tr.break_penalty)
                self.trust.lower(L.u[ended], L.s[ended], tr.break_penalty)
        return flows

    def _judge(
        self,
        k: _LinkTerms,
        ok: BoolArray,
        kept: BoolArray,
        taken: BoolArray,
        short: FloatArray,
        uptake: FloatArray,
    ) -> None:
        """The month's judgements in trust: users raise their trust in suppliers that
        delivered (``kept``) and lower it for shortfalls, then suppliers theirs in users that
        took up what they contracted (``taken``). Most months every link delivers and is
        taken up: then the raises are ``_LinkTerms.all_kept_raises``, over distinct pairs
        kept with the links (the same operations in the same order, no check for repeats)."""
        tr, K = self.sc.trust, kept.size
        raise_toward_one, lower = self.trust.raise_toward_one, self.trust.lower
        u, s = k.judge[:K], k.judged[:K]
        one_way = k.one_way
        if ok.all():
            for pairs in k.all_kept_raises:
                self.trust.raise_kept(pairs, tr.delivery_gain)
            return
        raise_toward_one(u[kept], s[kept], tr.delivery_gain, distinct=one_way)
        lower(u[~kept], s[~kept], tr.shortfall_loss * short[~kept])
        raise_toward_one(s[taken], u[taken], tr.delivery_gain, distinct=one_way)
        lower(s[~taken], u[~taken], 0.5 * tr.shortfall_loss * (1.0 - uptake[~taken]))

    def _terms_of(self, active: ActiveLinks) -> _LinkTerms:
        """The active links' fixed terms (``_LinkTerms``), kept until the links or the reuse
        standards in force change."""
        standard = self.standard.tobytes()
        k = self._link_terms
        if k is not None and k.links is active and k.standard == standard:
            table = self.econ.material_table(self._sunk_permits, self.connection_usd)
            if table is not k.costs.table:  # new prices or connection fees
                costs = self._running_costs(active, k.dist_km, k.conf_s, k.conf_u, k.facilitated)
                self._link_terms = k = replace(k, costs=costs)
            return k
        L, n, tr = self.links, self.park.n_plots, self.sc.trust
        rows, s, u, m = active.rows, active.s, active.u, active.m
        judge, judged = np.concatenate([u, s]), np.concatenate([s, u])
        view = judge * n + judged
        dist = L.dist_km[rows]
        unknown = np.isnan(dist)
        if unknown.any():  # links added without their distance
            dist = np.where(unknown, self.distance_km(s, u), dist)
        if tr.judge_deliveries == "against_contract":
            tol = tr.delivery_tolerance_sd * self.catalogue.mat["variability"][m]
        else:
            tol = np.full(rows.size, LEGACY_TOLERANCE)
        per_link = self.sc.costs.contract_choice == "per_link"
        contract = L.contract[rows]
        inst = self.institutional_trust(
            m, L.facilitated[rows], contract if per_link else self.econ.contract
        )
        conf_s, conf_u, facilitated = self.state.conf[s], self.state.conf[u], L.facilitated[rows]
        K = rows.size
        users_once, suppliers_once = count_once(view[:K]), count_once(view[K:])
        kept_pairs = self.trust.kept_pairs
        if count_once(view) is None:
            raises: tuple[KeptPairs, ...] = (kept_pairs(judge, judged, view),)
        else:  # (a raise of a repeated pair writes one value: its first entry stands for all)
            users = np.arange(K) if users_once is None else users_once
            suppliers = K + (np.arange(K) if suppliers_once is None else suppliers_once)
            raises = tuple(
                kept_pairs(judge[once], judged[once], view[once]) for once in (users, suppliers)
            )
        self._link_terms = k = _LinkTerms(
            links=active,
            standard=standard,
            judge=judge,
            judged=judged,
            view=view,
            one_way=users_once is None,
            all_kept_raises=raises,
            dist_km=dist,
            conf_s=conf_s,
            conf_u=conf_u,
            facilitated=facilitated,
            contract=contract,
            start=L.start[rows],
            tolerance=tol,
            inst_views=None if inst is None else np.concatenate([inst, inst]),
            costs=self._running_costs(active, dist, conf_s, conf_u, facilitated),
        )
        return k

    def _running_costs(
        self,
        active: ActiveLinks,
        dist_km: FloatArray,
        conf_s: FloatArray,
        conf_u: FloatArray,
        facilitated: BoolArray,
    ) -> LinkCosts:
        """The active links' ``LinkCosts``: a running link's permit is paid (no permit cost,
        ``_sunk_permits``), and it is priced under the scenario's contract rule."""
        return link_costs(
            self.econ,
            active.m,
            dist_km,
            conf_s,
            conf_u,
            facilitated,
            None,
            self._sunk_permits,
            self.connection_usd,
        )

    def _start_pending(self, t: int) -> None:
        L = self.links
        due = L.rows(PENDING)
        due = due[L.start[due] <= t]
        if due.size == 0:
            return
        refusal = self.catalogue.mat["permit_refusal_prob"][L.m[due]] * (
            1.0 - self.sc.government.permit_support
        )
        refused = self.rng.random(due.size) < refusal
        L.end_links(due[refused], t, "permit_refused")
        L.status[due[~refused]] = ACTIVE

    def _search_and_form(self, t: int) -> None:
        """Firms look among partners they know of for links that pay both sides."""
        st, L, n, M = self.state, self.links, self.park.n_plots, self.n_mat
        searching = st.alive & (self.rng.random(n) < self.sc.firms.search_probability)
        st.planning[:] = False
        if not searching.any():  # every candidate has a searching side
            return
        res_s, res_d = self.uncommitted()
        platform = self.operator.platform_view()
        T = self.trust.T
        gated = self.sc.trust.confidentiality_gate == "all_streams"
        every_plot = np.arange(n) if gated or platform is not None else None

        def allowed(sup: Slots, use: Slots) -> BoolArray:
            block = pair_block(st.facilitated, sup, use)
            known = pair_block(st.known, sup, use)
            if every_plot is not None:
                rows, cols = every_plot[sup], every_plot[use]  # slot indices of the block
            if gated:
                # Acquaintances talk about streams only if they trust each other enough: the
                # trust check reads only the pairs that know each other, not the whole block.
                i, j = np.nonzero(known)
                a, b = rows[i], cols[j]
                talk = behaviour.tells_about_streams(T[a, b], T[b, a], st.conf[a], st.conf[b])
                block[i[talk], j[talk]] = True
            else:  # confidentiality guards only disclosing exchanges, at acceptance
                block |= known
            if platform is not None:  # (a firm listed and browsing does not see itself)
                seen = sees_on_platform(platform, rows[:, None], cols[None, :])
                block |= seen & (rows[:, None] != cols[None, :])
            return block

        s, u, m, q = candidate_pairs(res_s, res_d, allowed, MIN_Q, active=searching)
        if s.size == 0:
            return
        pair = s * n + u  # the pairs' flat cells in the slots x slots matrices
        existing = self._live_link_keys()
        if existing.size:
            key = pair * M + m
            # (np.isin, without its per-call method choice; the clip maps past-the-end to last)
            fresh = existing.take(np.searchsorted(existing, key), mode="clip") != key
            if not fresh.all():
                s, u, m, q, pair = s[fresh], u[fresh], m[fresh], q[fresh], pair[fresh]
        brokered = st.facilitated.take(pair)
        d0 = self.sc.firms.prospect_distance_km
        if d0 is not None:  # prospecting falls with distance; brokered and platform pairs not
            mediated = brokered.copy()
            if platform is not None:
                mediated |= sees_on_platform(platform, s, u)
            near = within_reach(self.distance_km(s, u), d0, self.rng)
            keep = mediated | near
            s, u, m, q, brokered = s[keep], u[keep], m[keep], q[keep], brokered[keep]
            if s.size == 0:
                return
        facil = brokered
        if self.operator.shares_cost_data():
            facil = facil | (st.listed[s] & st.listed[u])
        c = self.meeting(s, u, m, q, facil, brokered)
        tr = self.sc.trust
        # graded willingness draws two numbers per candidate; a hard threshold draws none
        draws = self.rng.random((2, s.size)) if tr.negotiation_slope > 0 else None
        talks = behaviour.negotiates(self.econ, c, tr.threshold, tr.negotiation_slope, draws)
        # Without a negotiation, or a benefit to share, no link forms (``both_gain``): only
        # the firms that see a paying candidate (``FirmState.planning``) are left, which
        # the assessment alone reads, in its months.
        assessing = t % self.sc.government.assessment.every_months == 0
        if not talks.any() and not assessing:
            return
        priced = self._priced_with_contracts(c)
        if not assessing and not (talks & (priced.B > 0)).any():
            return
        self.weigh_risks(c, res_s)
        e, contract = self._economics_with_contracts(c, priced)
        ok = talks & behaviour.both_gain(e, st.hurdle[s], st.hurdle[u])
        benefit = e.benefit
        if contract is not None:  # decided on both options: each pair's own choice
            ok, benefit = chosen_option(ok, contract), chosen_option(benefit, contract)
        if assessing:
            paying = benefit > 0
            st.planning[s[paying]] = True
            st.planning[u[paying]] = True
        idx = ok.nonzero()[0]
        if idx.size == 0:
            return
        idx = idx[np.argsort(-benefit[idx], kind="stable")]
        chosen, qs = [], []
        for i in idx:  # greedy over the (few) acceptable candidates, best first
            si, ui, mi = s[i], u[i], m[i]
            qq = min(q[i], res_s[si, mi], res_d[ui, mi])
            if qq < 0.5 * q[i] or qq < MIN_Q:
                continue
            res_s[si, mi] -= qq
            res_d[ui, mi] -= qq
            chosen.append(i)
            qs.append(qq)
        if not chosen:
            return
        ci = np.array(chosen)
        needs_permit = ~self.standard[m[ci]]
        delay = np.round(
            self.catalogue.mat["permit_delay_months"][m[ci]]
            * (1.0 - self.sc.government.permit_support)
        ).astype(int)
        start = np.where(needs_permit, t + np.maximum(delay, 1), t)
        signed = self.econ.contract if contract is None else contract[ci]
        L.add(
            s[ci],
            u[ci],
            m[ci],
            np.array(qs),
            t,
            start,
            st.uid[s[ci]],
            st.uid[u[ci]],
            facil[ci],
            signed,
            c.dist_km[ci],
        )

    def _live_link_keys(self) -> IntArray:
        """The live links' keys (s * N + u) * M + m, sorted: the search leaves out the
        candidates already linked. Kept until a status changes or a link is added (the
        table's statuses, by bytes; a row's partners and material never change)."""
        L = self.links
        status = L.status[: L.n].tobytes()
        if status != self._live_keys_status:
            live, n, M = L.live_rows(), self.park.n_plots, self.n_mat
            self._live_keys = np.sort((L.s[live] * n + L.u[live]) * M + L.m[live])
            self._live_keys_status = status
        return self._live_keys

    def _spread_trust(self) -> None:
        """Partners pass on their opinions; plot neighbours grow familiar."""
        tr = self.sc.trust
        active = self.links.active(self.n_mat)
        if tr.diffusion_source == "experience":
            plan = self._experience_plan(active)
            self.trust.diffuse_experience(plan, self.reliability.months, tr.diffusion)
        else:
            src = np.concatenate([active.s, active.u])
            dst = np.concatenate([active.u, active.s])
            self.trust.diffuse(src, dst, tr.diffusion)
        # (with trust.neighbours_know_streams, neighbours met on arrival; familiarity
        # grows between all neighbours either way)
        self.trust.raise_kept(self._occupied_neighbours(), tr.familiarity_per_month)

    def _experience_plan(self, active: ActiveLinks) -> ExperiencePlan | None:
        """Who hears what from whom (``TrustMatrix.experience_plan``), kept until the
        partners or the trading relations (the reliability keys) change."""
        keys = self.reliability.keys
        kept = self._experience
        if kept is None or kept[0] is not active or kept[1] is not keys:
            observer, observed = np.divmod(keys, self.park.n_plots)
            src = np.concatenate([active.s, active.u])
            dst = np.concatenate([active.u, active.s])
            plan = self.trust.experience_plan(src, dst, observer, observed)
            self._experience = kept = (active, keys, plan)
        return kept[2]

    def _occupied_neighbours(self) -> KeptPairs:
        """The plot-neighbour pairs with a firm on both plots, kept (with their cells in
        trust) until a firm comes or goes: familiarity raises them every month."""
        key = self.state.alive.tobytes()
        if self._occupied_key != key:
            a, b = self._neigh
            occ = self.state.alive[a] & self.state.alive[b]
            self._occupied_key, self._occupied = key, self.trust.kept_pairs(a[occ], b[occ])
        return self._occupied

    def _review_recp(self) -> None:
        """Partners of RECP adopters become aware; aware firms review RECP about once a year
        and adopt it when the payback suits them (``behaviour.adopts_recp``)."""
        st, cat = self.state, self.catalogue
        st.recp_aware[self._recp_partners_of(self.links.active(self.n_mat))] = True
        # (awareness is only ever given to alive firms, active links' partners among them,
        # and a leaving firm's is cleared: no need to mask it with ``alive``)
        cand = (st.recp_aware & ~st.recp_applied).nonzero()[0]
        cand = cand[self.rng.random(cand.size) < 1.0 / 12.0]
        if cand.size == 0:
            return
        sec = st.sector[cand]
        capex = cat.recp_capex[sec] * st.recp_cost_factor[cand] * st.size[cand]
        saving = cat.recp_saving[sec] * st.size[cand]
        subsidy = self.sc.government.recp_subsidy_share
        adopts = behaviour.adopts_recp(capex, saving, subsidy, st.recp_payback[cand])
        if not adopts.any():  # (most reviews: nothing changes, no subsidy is paid)
            return
        adopt = cand[adopts]
        st.recp_applied[adopt] = True
        red = cat.recp_reduction[st.sector[adopt]]
        st.base_supply[adopt] = st.raw_supply[adopt] * (1.0 - red)[:, None]
        self.government.pay_recp_subsidy(capex[adopts])

    def _recp_partners_of(self, active: ActiveLinks) -> IntArray:
        """The slots of the RECP adopters' partners in the ``active`` links (users of
        adopting suppliers, then suppliers of adopting users; they become aware), kept until
        the active links or the adopters change."""
        adopters = self.state.recp_applied
        key = adopters.tobytes()
        kept_links, kept_key, partners = self._recp_partners
        if kept_links is not active or kept_key != key:
            partners = np.concatenate([active.u[adopters[active.s]], active.s[adopters[active.u]]])
            self._recp_partners = (active, key, partners)
        return partners

    def _exits_and_arrivals(self) -> None:
        st = self.state
        hazard = 1.0 - (1.0 - self.sc.firms.exit_rate_per_year) ** (1.0 / 12.0)
        alive = st.alive.nonzero()[0]
        closing = alive[self.rng.random(alive.size) < hazard]
        for slot in closing:
            firm = self.firm_at[slot]
            if firm is not None:
                firm.close()
        self.operator.recruit()
