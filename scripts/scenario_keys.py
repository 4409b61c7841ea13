"""Regenerate docs/SCENARIO_KEYS.md from the scenario schema (the schema is the truth)."""

from pathlib import Path

from pydantic import BaseModel

from eipsim.scenario.schema import Scenario

MORE = {
    "name": "scenario name, used for the results folder",
    "description": "free text",
    "steps": "months to simulate",
    "seed": "root random seed; same seed, same results",
    "park.zones_x": "zones across (zones are outlined on the map)",
    "park.zones_y": "zones down",
    "firms.count": "initial tenants",
    "firms.sector_mix": "share of each catalogue sector (sums to 1)",
    "firms.nationality_mix": "share of each parent-company nationality (sums to 1)",
    "firms.confidentiality_by_nationality": "parent-company confidentiality 0-1 by nationality",
    "firms.confidentiality_default": "confidentiality of nationalities not listed",
    "trust.initial_same_nationality": "initial pairwise trust within a nationality",
    "trust.initial_cross_nationality": "initial pairwise trust across nationalities",
    "trust.acquaintance_cross_nationality": "chance two firms of different nationality know each other",
    "costs.annual_interest": "discount rate for capital annuities",
    "costs.min_distance_km": "floor on transport distance",
    "costs.bargaining": "nash (equal split of B) | proportional (to savings)",
    "operator.platform.enabled": "waste-information platform on",
    "operator.platform.launch_step": "month the platform opens",
    "operator.platform.anonymised": "listings hide the firm's name (raises the listing limit)",
    "operator.matchmaking_events_per_year": "matchmaking events held each year",
    "operator.event_attendance": "chance a firm attends an event",
    "operator.contacts_per_event": "firms each attendee meets",
    "operator.shared_infrastructure": "facilities: kinds, or {kind, build_step}",
    "government.landfill_tax_usd_per_t": "tax per tonne landfilled (solid, non-piped)",
    "government.exchange_subsidy_usd_per_t": "subsidy per unit exchanged by a link",
    "government.capex_subsidy_share": "share of pipes, connections and facilities paid by government",
    "government.recp_subsidy_share": "share of RECP investment paid by government",
    "government.reuse_standards": "materials with a reuse standard: names, or {material, step}",
    "government.brokering_per_year": "introductions by the coordinator each year",
    "government.assessment.every_months": "months between EIP assessments",
    "government.assessment.criteria": "EIP criteria (metric, threshold, source); defaults Decree 82/2018, 35/2022",
}


def rows(model: type[BaseModel], prefix: str = ""):
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from rows(ann, f"{prefix}{name}.")
            continue
        default = (
            "(required)" if f.is_required() else repr(f.get_default(call_default_factory=True))
        )
        if len(default) > 60:
            default = default[:57] + "..."
        typ = getattr(ann, "__name__", str(ann)).replace("typing.", "").replace("|", "or")
        desc = f.description or MORE.get(prefix + name, "")
        yield f"| `{prefix}{name}` | {typ} | `{default}` | {desc} |"


def main() -> None:
    lines = [
        "# Scenario keys",
        "",
        "Generated from `eipsim/scenario/schema.py` by `python scripts/scenario_keys.py`. Any key can be",
        "overridden with `eipsim run SCENARIO --set KEY=VALUE` or `Scenario.with_overrides`.",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
        *rows(Scenario),
        "",
    ]
    Path("docs/SCENARIO_KEYS.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
