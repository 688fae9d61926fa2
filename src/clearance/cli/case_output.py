"""A case as the command line prints it: a table row per case (state in colour, OVERDUE
marked) and, for one case, its decision, answers, conditions, clocks and timeline."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from clearance.core.access import Level
from clearance.core.dates import last_day_before
from clearance.core.event_words import outcome_words, state_words, words_of
from clearance.core.request import describe_request
from clearance.core.workflow import CaseState, is_overdue

from .context import now
from .render import make_console, print_json

if TYPE_CHECKING:
    from clearance.service.cases import CaseView
    from clearance.service.runtime import CaseRecord

__all__ = ["STATE_STYLE", "case_table", "print_case"]

STATE_STYLE: dict[str, str] = {
    CaseState.APPROVED: "green",
    CaseState.CLEARED: "green",
    CaseState.EXECUTED: "green",
    CaseState.PARTLY_EXECUTED: "green",
    CaseState.SUSPENDED: "magenta",
    CaseState.APPROVED_WITH_CONDITIONS: "cyan",
    CaseState.IN_REVIEW: "yellow",
    CaseState.SUBMITTED: "yellow",
    CaseState.DENIED: "red",
    CaseState.WITHDRAWN: "dim",
    CaseState.EXPIRED: "dim",
}


def _days(since: dt.datetime, at: dt.datetime) -> str:
    return f"{(at - since).total_seconds() / 86400:.1f}"


def case_table(title: str, cases: list[CaseRecord], at: dt.datetime) -> Table:
    table = Table(title=title)
    for column in ("#", "state", "level", "request", "age (days)", "in state (days)", "by"):
        table.add_column(column)
    for case in cases:
        known = case.stored_state
        if known is None:
            state = Text("unreadable", style="bold red")
        else:
            state = Text(state_words(known), style=STATE_STYLE.get(known, ""))
            if is_overdue(known, case.due_at, at):
                state.append("  OVERDUE", style="bold red")
        if case.damaged:
            state.append("  RECORD DAMAGED", style="bold red")
        request = describe_request(case.request)
        table.add_row(
            str(case.number),
            state,
            Level(case.classification).label,
            request,
            _days(case.created_at, at),
            _days(case.state_since, at),
            case.submitted_by,
        )
    return table


def print_case(view: CaseView, json_output: bool) -> None:
    at = now()
    console = make_console()
    if json_output:
        print_json(console, view.as_dict(at))
        return
    data = view.as_dict(at)
    console.print(case_table(f"case {view.case.number} ({view.case.id})", [view.case], at))
    decision = data["decision"]
    needs = ", ".join(
        f"{a['authority']}{'' if a['delegable'] else ' (personally)'}"
        for a in decision["required_approvals"]
    )
    console.print(
        Text.assemble(
            "screened: ",
            (outcome_words(decision["outcome"]), "bold"),
            f" — needs {needs}" if needs else "",
        ),
        highlight=False,
    )
    if data["expires_at"] is not None:
        last = last_day_before(dt.datetime.fromisoformat(data["expires_at"])).isoformat()
        console.print(
            f"approval valid to the end of {last} (UTC); it expires unless executed by then",
            highlight=False,
        )
    for answer in data["approvals"]:
        colour = "green" if answer["verdict"] == "approve" else "red"
        console.print(
            Text.assemble(
                (answer["verdict"], colour),
                f" by {answer['actor']} for {answer['authority']} at {answer['at']}:"
                f" {answer['reason'] or '—'} (signed)",
            ),
            highlight=False,
        )
    for condition in data["conditions"]:
        mark = ("met", "green") if condition["met"] else ("open", "yellow")
        console.print(Text.assemble("condition ", mark, f": {condition['text']}"), highlight=False)
    if (period := data["waiting_period"]) is not None:
        waived = (
            Text.assemble(
                " — ", ("waived", "green"), f" by {period['waived_by']} at {period['waived_at']}"
            )
            if period["waived"]
            else f" — executable from {period['executable_from']} unless {period['waiver']} waives it"
        )
        console.print(
            Text.assemble(
                f"waiting period: {period['legislature']} notified {period['notified_on']}"
                f" ({period['rule']}): {period['days']} days, ends {period['ends_on']}",
                waived,
            ),
            highlight=False,
        )
    for clock in data["clocks"]:
        if clock["stopped"]:
            mark = ("stopped (waiting for the requester's answer)", "cyan")
        elif clock["overdue"]:
            mark = ("OVERDUE", "bold red")
        else:
            mark = ("running", "green")
        console.print(
            Text.assemble(
                f"clock of {clock['office']}: {clock['elapsed_days']} of {clock['limit']},"
                f" due by the end of {clock['due_day']} — ",
                mark,
            ),
            highlight=False,
        )
    timeline = Table(title="timeline (ledger)")
    for column in ("seq", "at", "actor", "event", "detail"):
        timeline.add_column(column)
    for event in data["events"]:
        timeline.add_row(
            str(event["seq"]), event["at"][:19], event["actor"], event["type"], words_of(event)
        )
    console.print(timeline)
    spent = ", ".join(
        f"{state_words(k)}: {v:.1f} d" for k, v in data["time_in_states_days"].items()
    )
    console.print(f"time in states: {spent}", highlight=False)
