"""``clearance demo``: the seed scenario, screened and explained, in one command."""

from __future__ import annotations

from rich.rule import Rule

from clearance.core.request import parse_request
from clearance.policy.engine import Screener
from clearance.policy.explain import explain
from clearance.policy.golden import load_cases
from clearance.policy.pack import load_pack

from .context import now
from .options import ScenarioOption
from .render import explanation_view, holders_tree, make_console
from .screen_stream import new_decision_id

SCENARIO_CASES = ("G1", "G2", "G3", "G4", "G5", "G5-other-funding")


def demo(scenario: ScenarioOption = None) -> None:
    """Screen and explain the golden cases of the seed scenario (G1–G5)."""
    pack = load_pack(scenario)
    screener = Screener(pack)
    console = make_console()
    console.print(Rule(f"clearance demo — scenario pack '{pack.name}'"))
    console.print(pack.description.strip(), highlight=False)
    cases = {c.id: c for path in pack.case_files for c in load_cases(path, pack.relative(path))}
    console.print(Rule("Consent holders"))
    for system in ("atacms", "storm-shadow", "flamingo"):
        if pack.catalog.system(system) is not None:
            console.print(holders_tree(system, screener.holders(system)))
    for case_id in SCENARIO_CASES:
        case = cases.get(case_id)
        if case is None:
            continue
        console.print(Rule(f"{case.id}: {case.title}"))
        request = parse_request(case.request)
        decision = screener.decide(
            request, decision_id=new_decision_id(), now=now(), as_of=case.as_of
        )
        console.print(explanation_view(explain(screener, request, decision)))
