"""Named blocks of scenario keys, and the shipped scenarios' names.

``FIRST_VERSION`` gives back the first version's rules and its trust and cost values
(docs/ODD.md §7.18): for reproducing results published with it, and for the review
findings, the digests and the benchmarks that compare it with the defaults. A scenario
can write the same keys in YAML; this is their one home in code.
"""

from __future__ import annotations

from typing import Any

FIRST_VERSION: dict[str, Any] = {
    # rules
    "firms.production_coupling": False,
    "costs.risk_model": "monthly_share",
    "costs.renegotiate": False,
    "costs.contract_months": 0,
    "costs.contract_choice": "all",
    "trust.judge_deliveries": "against_demand",
    "trust.negotiation_slope": 0.0,
    "trust.neighbours_know_streams": True,
    "trust.diffusion_source": "partners",
    "trust.confidentiality_gate": "all_streams",
    "trust.broker_guarantee": 0.0,
    "trust.standard_assurance": 0.0,
    "trust.contract_assurance": 0.0,
    "government.broker_selects": "benefit",
    "government.solar_licence_months": 0,
    "market.production_shock_rate_per_year": 0.0,
    "operator.credit_line_usd": 1e10,
    "operator.solar_sizing": "per_firm",
    # values the calibration replaced (they were assumed)
    "trust.initial_same_nationality": 0.6,
    "trust.initial_cross_nationality": 0.35,
    "trust.threshold": 0.5,
    "trust.acquaintance_same_nationality": 0.08,
    "trust.failure_rate_at_no_trust": 0.1,
    "costs.transaction_usd": 50000.0,
    "firms.search_probability": 0.03,
    "firms.hurdle_mean": 0.3,
}

# The five Hai Phong scenarios in scenarios/, in the README table's order: what the golden
# file, the scenario table, the run digests and the outcome comparisons run.
SHIPPED_SCENARIOS: tuple[str, ...] = (
    "baseline",
    "nationality_clusters",
    "shared_infrastructure",
    "deepc_dinhvu",
    "nam_cau_kien",
)
