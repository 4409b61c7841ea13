"""Firm behaviour: every decision a firm takes, in one place (docs/ODD.md, "Submodels").

Accept a link, keep it, tell an acquaintance about its streams, connect to a shared
facility, list on the waste-information platform, adopt RECP. Each is a vectorised rule
over the firms (or candidate links) it applies to; the model and the operator call them,
so a change of behaviour is a change here.
"""

from __future__ import annotations

import numpy as np

from eipsim.domain.economics import Candidates, EconParams, PairEconomics
from eipsim.domain.types import BoolArray, FloatArray


def willingness(trust: FloatArray, threshold: float, slope: float) -> FloatArray:
    """The chance a firm is willing to negotiate with a partner it trusts at ``trust``
    (personal and institutional together): a logistic curve around the threshold, of width
    ``slope`` (Ghali et al. 2017 use a hard threshold: slope 0)."""
    if slope <= 0:
        return (trust >= threshold).astype(float)
    # 1 / (1 + exp(-z)), z = (trust - threshold) / slope clipped to [-50, 50], with -z
    # worked out as (threshold - trust) / slope (the same number: rounding is symmetric),
    # clipped by two ufuncs (np.clip's Python wrapper costs more; they differ only on the
    # zero's sign, and exp is the same for either)
    minus_z = np.minimum(np.maximum((threshold - trust) / slope, -50.0), 50.0)
    result: FloatArray = 1.0 / (1.0 + np.exp(minus_z))
    return result


def own_threshold(threshold: float, slope: float, u: FloatArray) -> FloatArray:
    """Firms' own trust thresholds for dealing with the park operator: the graded
    willingness of ``willingness`` drawn once per firm rather than at every decision, so
    that monthly re-decisions do not compound a small chance into certainty. With a
    disposition u ~ U(0, 1) the firm deals when trust >= threshold + slope * logit(u): a
    logistic spread of thresholds across firms (slope 0: everyone at ``threshold``).
    Over an array of dispositions, one per firm."""
    if slope <= 0:
        return np.full(np.shape(u), threshold)
    u = np.minimum(np.maximum(u, 1e-12), 1.0 - 1e-12)
    result: FloatArray = threshold + slope * np.log(u / (1.0 - u))
    return result


def accepts_link(
    e: PairEconomics,
    p: EconParams,
    c: Candidates,
    hurdle_s: FloatArray,
    hurdle_u: FloatArray,
    threshold: float,
    slope: float = 0.0,
    draws: FloatArray | None = None,
) -> BoolArray:
    """Both sides negotiate (``negotiates``) and both gain (``both_gain``)."""
    result: BoolArray = negotiates(p, c, threshold, slope, draws) & both_gain(e, hurdle_s, hurdle_u)
    return result


def negotiates(
    p: EconParams, c: Candidates, threshold: float, slope: float, draws: FloatArray | None
) -> BoolArray:
    """Both sides negotiate, and a material that needs cost disclosure is only exchanged
    where each side trusts the other at least as much as its parent company's
    confidentiality: the half of ``accepts_link`` that reads no economics.

    Willingness to negotiate is graded (``willingness``) on each side's effective trust
    (``Candidates.effective_trust``: personal trust with the institutional trust of a
    broker's guarantee, a standard or a contract); with ``draws`` (two uniform numbers per
    candidate) each side decides by its chance, without them by the even chance (trust at
    the threshold or above)."""
    eff = c.effective_trust()  # both sides at once: a row each
    side_talks = eff >= threshold if draws is None else draws < willingness(eff, threshold, slope)
    needs = p.mat["needs_cost_disclosure"][c.m]
    disclose = ~needs | ((c.conf_s <= eff[0]) & (c.conf_u <= eff[1]))
    result: BoolArray = side_talks[0] & side_talks[1] & disclose
    return result


def both_gain(e: PairEconomics, hurdle_s: FloatArray, hurdle_u: FloatArray) -> BoolArray:
    """A link that carries something where both sides gain: each side's expected gain E_i,
    net of the risk of the partner failing, is at least its hurdle h_i times B_i."""
    gains = (e.benefit > 0) & (e.expected_s >= hurdle_s * e.benefit_s)
    gains &= e.expected_u >= hurdle_u * e.benefit_u
    result: BoolArray = gains & (e.q > 0)
    return result


def tells_about_streams(
    trust_ab: FloatArray, trust_ba: FloatArray, conf_a: FloatArray, conf_b: FloatArray
) -> BoolArray:
    """Acquaintances talk about their streams only where each trusts the other more than
    its parent company's confidentiality (a block of pairs; the platform and brokers
    bypass this)."""
    result: BoolArray = (conf_a <= trust_ab) & (conf_b <= trust_ba)
    return result


def keeps_link(
    loss_months: np.ndarray,
    months_running: np.ndarray,
    trust_us: FloatArray,
    trust_su: FloatArray,
    contract_months: int,
    unprofitable_months: int,
    break_below: float,
    contracted: BoolArray | None = None,
) -> tuple[BoolArray, BoolArray]:
    """Which running links end this month, and why: (unprofitable, trust collapsed).

    A link under a written contract is honoured until the contract runs out. After that it
    ends when it has made a loss for ``unprofitable_months`` in a row, or when either side's
    trust in the other has fallen below ``break_below``."""
    free = months_running >= contract_months
    if contracted is not None:  # per-link contracts: informal links are free at any time
        free = free | ~contracted
    unprofitable = free & (loss_months >= unprofitable_months)
    collapsed = free & ((trust_us < break_below) | (trust_su < break_below)) & ~unprofitable
    return unprofitable, collapsed


def chooses_contract(both: PairEconomics) -> BoolArray:
    """Partners sign a written contract when it raises their joint expected gain: its
    penalty clauses cover part of what a failure would cost, against its extra transaction
    cost (Albino et al. 2016: contracts pay under uncertainty and turbulence). ``both`` is
    priced with ``Candidates.contract = BOTH_OPTIONS`` (a row informal, a row signed)."""
    gain = both.expected_s + both.expected_u
    result: BoolArray = gain[1] > gain[0]
    return result


def connects_to_facility(
    saving: FloatArray,
    monthly_fee: float,
    alive: BoolArray,
    trust_op: FloatArray,
    conf: FloatArray,
    threshold: float | FloatArray,
    needs_disclosure: bool,
) -> BoolArray:
    """A firm connects to a shared facility when its saving beats the monthly connection
    charge and it trusts the operator at least as much as its own threshold
    (``own_threshold``; and, where connecting reveals cost data, more than its parent
    company's confidentiality)."""
    ok: BoolArray = alive & (saving > monthly_fee) & (trust_op >= threshold)
    if needs_disclosure:
        ok &= trust_op >= conf
    return ok


def lists_on_platform(
    alive: BoolArray, has_streams: BoolArray, conf: FloatArray, limit: float
) -> BoolArray:
    """A firm lists its streams on the platform when its confidentiality allows it: up to
    ``limit`` (higher for an anonymised platform)."""
    result: BoolArray = alive & has_streams & (conf <= limit)
    return result


def adopts_recp(
    capex: FloatArray, saving: FloatArray, subsidy_share: float, acceptable_years: FloatArray
) -> BoolArray:
    """A firm reviewing RECP adopts it when the payback, net of the subsidy, is within its
    own acceptable payback."""
    payback_years = capex * (1.0 - subsidy_share) / np.maximum(saving, 1e-9) / 12.0
    result: BoolArray = payback_years <= acceptable_years
    return result
