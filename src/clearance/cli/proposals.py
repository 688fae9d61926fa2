"""``clearance policy propose | proposals | proposal | activate``: the policy lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from clearance.core.actors import ADMIN
from clearance.policy.pack import read_bundle_texts

from .context import ActorOption, KeyFileOption, PassphraseOption, now, runtime, signer
from .options import JsonOption, ScenarioOption
from .render import make_console, print_json

if TYPE_CHECKING:
    from clearance.service.proposal_impact import Impact
    from clearance.service.proposals import ProposalView

NumberArgument = Annotated[
    int, typer.Argument(help="Proposal number.", min=1, max=2**63 - 1, show_default=False)
]


def _tests_text(view: ProposalView) -> Text:
    tests = view.tests
    line = Text(f"golden cases: {tests['passed']} pass, ")
    line.append(f"{tests['failed']} fail", style="bold red" if tests["failed"] else "green")
    for failure in tests["failures"]:
        line.append(f"\n  {failure['id']} ({failure['file']}) {failure['title']}", style="red")
        for m in failure["mismatches"]:
            line.append(f"\n    {m['field']}: expected {m['expected']}, got {m['got']}")
    return line


def _summary(view: ProposalView) -> Text:
    r = view.record
    state_style = "green" if r.state == "activated" else "yellow"
    line = Text(f"proposal {r.number}: ", style="bold")
    line.append(r.state.upper(), style=f"bold {state_style}")
    line.append(f"  {r.holder} from {r.effective_from}: {r.title}\n")
    line.append(
        f"revision {r.revision[:23]}…  proposed by {r.proposed_by} at {r.proposed_at:%Y-%m-%d %H:%M}\n"
    )
    if r.state == "activated":
        line.append(
            f"activated by {r.activated_by} as {r.authority} at {r.activated_at:%Y-%m-%d %H:%M}, signed\n"
        )
    else:
        line.append(f"may be activated by the holder of {view.authority or '(no office named)'}\n")
    return line.append(_tests_text(view))


def _impact_table(impact: Impact) -> Table:
    count = impact.examined
    replayed = (
        "the stored cases you may see replayed"
        if count is None
        else f"{count} stored case{'' if count == 1 else 's'} replayed"
    )
    table = Table(title=f"what it would change ({replayed})")
    for column in ("case", "where", "was", "would be", "by"):
        table.add_column(column)
    for change in impact.replay:
        table.add_row(
            str(change.number),
            "replay",
            change.was,
            change.would_be,
            ", ".join(change.would_be_reasons) or "—",
        )
    for case, was, would_be in impact.open_cases:
        table.add_row(str(case.number), "open case, from its date", was, would_be, "")
    for case, problem in impact.unjudged:
        table.add_row(str(case.number), "open case", "", "cannot be judged", Text(problem))
    return table


def propose(
    folder: Annotated[Path, typer.Argument(help="The new bundle's folder (bundle.yaml, *.cedar).")],
    actor: ActorOption,
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """Propose a new bundle: validated, tested against the golden cases, recorded.

    Exits 1 when a golden case fails (the proposal is recorded, and cannot be activated).
    """
    texts = read_bundle_texts(folder)
    view = runtime(scenario).proposals.propose(texts, actor=actor, now=now())
    if json_output:
        print_json(make_console(), view.as_dict())
    else:
        make_console().print(_summary(view), highlight=False)
    if not view.record.tests_passed:
        raise typer.Exit(1)


def proposals(scenario: ScenarioOption = None, json_output: JsonOption = False) -> None:
    """Every proposal, newest last, with its state and test results."""
    records = runtime(scenario).proposals.visible(actor=ADMIN)
    if json_output:
        from clearance.service.proposals import proposal_summary

        print_json(make_console(), [proposal_summary(r) for r in records])
        return
    table = Table(title="policy proposals")
    for column in ("#", "state", "holder", "from", "title", "golden cases", "by"):
        table.add_column(column)
    for r in records:
        table.add_row(
            str(r.number),
            Text(r.state, style="green" if r.state == "activated" else "yellow"),
            r.holder,
            r.effective_from.isoformat(),
            r.title,
            Text("pass", style="green") if r.tests_passed else Text("FAIL", style="bold red"),
            r.activated_by or r.proposed_by,
        )
    make_console().print(table)


def proposal(
    number: NumberArgument,
    text: Annotated[bool, typer.Option("--text", help="Show the policy text.")] = False,
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """One proposal: its test results, the cases it would change, and its text."""
    service = runtime(scenario).proposals
    view = service.view(number, actor=ADMIN, now=now())
    impact = service.impact(number, actor=ADMIN, now=now(), view=view)
    if json_output:
        print_json(make_console(), {**view.as_dict(), "impact": impact.as_dict()})
        return
    console = make_console()
    console.print(_summary(view), highlight=False)
    console.print(_impact_table(impact))
    if text:
        for policy in view.bundle.policies:
            console.print(Panel(_highlighted(policy.statement.text), title=policy.id))


def _highlighted(cedar: str) -> RenderableType:
    """A policy's text coloured as code. Rich's highlighter (and Pygments under it) is
    imported here: a twentieth of a second every other command need not pay."""
    from rich.syntax import Syntax

    return Syntax(cedar, "rust", word_wrap=True)


def activate(
    number: NumberArgument,
    actor: ActorOption,
    key_file: KeyFileOption = None,
    passphrase: PassphraseOption = None,
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """Activate a proposal from its date, as the holder of the office named to do so, signed;
    then re-screen the open cases under the policy now in force."""
    context = runtime(scenario)
    key = signer(context, actor, key_file, passphrase)
    # Once committed, the activation is reported as done, whatever the re-screening does.
    activated = context.activate_proposal(number, actor=actor, signer=key)
    view, changed, failed = activated.view, activated.rescreened, activated.failed
    error = activated.rescreen_error
    if json_output:
        print_json(
            make_console(),
            {
                **view.as_dict(),
                "rescreened": [
                    {"number": case.number, "was": was, "would_be": would_be}
                    for case, was, would_be in changed
                ],
                "rescreen_failed": [
                    {"number": case.number, "problem": problem} for case, problem in failed
                ],
                "rescreen_error": error,
                "suspended": [
                    {"number": case.number, "suspended_for": list(offices)}
                    for case, offices in activated.suspended
                ],
            },
        )
    else:
        console = make_console()
        console.print(_summary(view), highlight=False)
        for case, was, would_be in changed:
            console.print(
                f"case {case.number}: was {was}, would now be {would_be} (on its timeline)"
            )
        for case, problem in failed:
            console.print(
                f"case {case.number} could not be re-screened: {problem} (on its timeline)",
                highlight=False,
                markup=False,
            )
        for case, offices in activated.suspended:
            waits = ", ".join(offices) or "no office (prohibited)"
            console.print(
                f"case {case.number} suspended: it waits for {waits} (on its timeline)",
                highlight=False,
                markup=False,
            )
    if error is not None:
        make_console(stderr=True).print(f"warning: {error}", highlight=False, markup=False)
