"""``clearance cases``: submit requests as cases and take them through review to a decision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from clearance.core.access import Level, parse_level
from clearance.core.event_words import words_of
from clearance.core.request import describe_request
from clearance.core.workflow import OPEN_STATES, CaseState, is_overdue
from clearance.errors import InputError, OutcomeUnknown

from .context import (
    ActorOption,
    KeyFileOption,
    PassphraseOption,
    ReaderOption,
    now,
    reader_id,
    runtime,
    seen_as,
    signer,
)
from .options import JsonOption, ScenarioOption
from .render import print_json
from .screen import read_request_file

if TYPE_CHECKING:
    from clearance.service.cases import CaseView
    from clearance.service.runtime import CaseRecord

app = typer.Typer(
    help="Cases: submit, review, approve or deny with a signature, and follow to the end.",
    no_args_is_help=True,
)

CaseArgument = Annotated[
    str, typer.Argument(help="Case number (e.g. 17) or id.", show_default=False)
]
STATE_STYLE: dict[str, str] = {
    CaseState.APPROVED: "green",
    CaseState.CLEARED: "green",
    CaseState.EXECUTED: "green",
    CaseState.APPROVED_WITH_CONDITIONS: "cyan",
    CaseState.IN_REVIEW: "yellow",
    CaseState.SUBMITTED: "yellow",
    CaseState.DENIED: "red",
    CaseState.WITHDRAWN: "dim",
    CaseState.EXPIRED: "dim",
}


def _days(since: dt.datetime, at: dt.datetime) -> str:
    return f"{(at - since).total_seconds() / 86400:.1f}"


def _table(title: str, cases: list[CaseRecord], at: dt.datetime) -> Table:
    table = Table(title=title)
    for column in ("#", "state", "level", "request", "age (days)", "in state (days)", "by"):
        table.add_column(column)
    for case in cases:
        style = STATE_STYLE.get(case.state, "")
        state = Text(case.state.replace("_", " "), style=style)
        if is_overdue(case.state, case.state_since, case.sla_days, at):
            state.append("  OVERDUE", style="bold red")
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


def _print_case(view: CaseView, json_output: bool) -> None:
    at = now()
    console = Console()
    if json_output:
        print_json(console, view.as_dict(at))
        return
    data = view.as_dict(at)
    console.print(_table(f"case {view.case.number} ({view.case.id})", [view.case], at))
    decision = data["decision"]
    needs = ", ".join(
        f"{a['authority']}{'' if a['delegable'] else ' (personally)'}"
        for a in decision["required_approvals"]
    )
    console.print(
        f"screened: [bold]{decision['outcome']}[/bold]" + (f" — needs {needs}" if needs else ""),
        highlight=False,
    )
    for answer in data["approvals"]:
        colour = "green" if answer["verdict"] == "approve" else "red"
        console.print(
            f"[{colour}]{answer['verdict']}[/{colour}] by {answer['actor']} for {answer['authority']}"
            f" at {answer['at']}: {answer['reason'] or '—'} (signed)",
            highlight=False,
        )
    for condition in data["conditions"]:
        mark = "[green]met[/green]" if condition["met"] else "[yellow]open[/yellow]"
        console.print(f"condition {mark}: {condition['text']}", highlight=False)
    timeline = Table(title="timeline (ledger)")
    for column in ("seq", "at", "actor", "event", "detail"):
        timeline.add_column(column)
    for event in data["events"]:
        timeline.add_row(
            str(event["seq"]), event["at"][:19], event["actor"], event["type"], words_of(event)
        )
    console.print(timeline)
    spent = ", ".join(f"{k}: {v:.1f} d" for k, v in data["time_in_states_days"].items())
    console.print(f"time in states: {spent}", highlight=False)


@app.command("submit")
def submit(
    request: Annotated[
        Path, typer.Argument(help="The request as a JSON file.", show_default=False)
    ],
    actor: ActorOption,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Retries with the same key return the same case."),
    ] = None,
    classification: Annotated[
        str,
        typer.Option(
            "--classification",
            help="The case's level: UNCLASSIFIED, CONFIDENTIAL, SECRET or TOP SECRET.",
        ),
    ] = "UNCLASSIFIED",
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """Submit a request: it becomes a case, screened at once."""
    parsed = read_request_file(request)
    level = parse_level(classification, "--classification")
    service = runtime(scenario).cases
    try:
        view, created = service.submit_and_show(
            parsed.model_dump(mode="json", exclude_none=True),
            actor=actor,
            now=now(),
            idempotency_key=idempotency_key,
            classification=int(level),
        )
    except OutcomeUnknown as exc:
        again = (
            "run the command again with the same --idempotency-key: it shows the case if it"
            " was recorded, and submits it if not"
            if idempotency_key
            else "look for it with 'clearance cases list' before submitting it again"
        )
        raise OutcomeUnknown(f"{exc.message}: {again}") from None
    _print_case(view, json_output)
    if not created and not json_output:
        Console(stderr=True).print(
            f"(case {view.case.number} already existed for this idempotency key)"
        )


@app.command("list")
def list_cases(
    state: Annotated[
        list[str] | None, typer.Option("--state", help="Only cases in this state (repeatable).")
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Closed cases too (default: open cases only).")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Cases per page.")] = 50,
    page: Annotated[
        int, typer.Option("--page", min=1, max=1_000_000, help="Page number, oldest first.")
    ] = 1,
    as_user: ReaderOption = None,
    json_output: JsonOption = False,
) -> None:
    """Cases, oldest first: open ones by default, so a request waiting months is on top;
    only those the user of ``--as`` may see."""
    known = {s.value for s in CaseState}
    for value in state or []:
        if value not in known:
            raise InputError(
                "--state", f"'{value}' is not a state (one of {', '.join(sorted(known))})"
            )
    states = state or (None if show_all else sorted(OPEN_STATES))
    found, total = runtime().cases.page(
        actor=reader_id(as_user), states=states, limit=limit, offset=(page - 1) * limit
    )
    at = now()
    if json_output:
        from clearance.service.cases import case_row

        print_json(
            Console(),
            {
                "total": total,
                "page": page,
                "cases": [case_row(c, at) for c in found],
                "seen_as": as_user,
            },
        )
        return
    Console().print(_table(f"cases: {len(found)} of {total}, page {page}", found, at))
    Console().print(seen_as(as_user), highlight=False)


@app.command("show")
def show(case: CaseArgument, as_user: ReaderOption = None, json_output: JsonOption = False) -> None:
    """A case: request, decision, approvals with signatures, conditions, timeline, time in each
    state; not found to the user of ``--as`` if they may not see it."""
    _print_case(runtime().cases.view(case, actor=reader_id(as_user)), json_output)
    if not json_output:
        Console().print(seen_as(as_user), highlight=False)


def _answer(
    case: str,
    actor: str,
    approve: bool,
    reason: str,
    authority: str | None,
    key_file: Path | None,
    passphrase: str | None,
    json_output: bool,
) -> None:
    context = runtime()
    key = signer(context, actor, key_file, passphrase)
    service = context.cases
    view = service.answer(
        case,
        actor=actor,
        approve=approve,
        reason=reason,
        signer=key,
        now=now(),
        authority=authority,
    )
    _print_case(view, json_output)


AuthorityOption = Annotated[
    str | None,
    typer.Option(
        "--authority", help="The office you answer for, when you hold several.", show_default=False
    ),
]


@app.command("approve")
def approve(
    case: CaseArgument,
    actor: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded and signed).")] = "",
    authority: AuthorityOption = None,
    key_file: KeyFileOption = None,
    passphrase: PassphraseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Approve a gate of a case in review, as the holder of the office, signed with your key."""
    _answer(case, actor, True, reason, authority, key_file, passphrase, json_output)


@app.command("deny")
def deny(
    case: CaseArgument,
    actor: ActorOption,
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why (required; recorded and signed).", show_default=False),
    ],
    authority: AuthorityOption = None,
    key_file: KeyFileOption = None,
    passphrase: PassphraseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Deny a case in review, as the holder of a required office, with a reason, signed."""
    _answer(case, actor, False, reason, authority, key_file, passphrase, json_output)


@app.command("withdraw")
def withdraw(
    case: CaseArgument,
    actor: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="Why the request is withdrawn.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Withdraw your own case before it is executed."""
    service = runtime().cases
    _print_case(service.withdraw(case, actor=actor, reason=reason, now=now()), json_output)


@app.command("condition-met")
def condition_met(
    case: CaseArgument,
    actor: ActorOption,
    condition: Annotated[
        str,
        typer.Option(
            "--condition", help="The condition's text, as the case shows it.", show_default=False
        ),
    ],
    evidence: Annotated[
        str, typer.Option("--evidence", help="What shows it is met.", show_default=False)
    ],
    json_output: JsonOption = False,
) -> None:
    """Record that a condition of an approved case is met; the last one clears the case."""
    service = runtime().cases
    view = service.condition_met(
        case, actor=actor, condition=condition, evidence=evidence, now=now()
    )
    _print_case(view, json_output)


@app.command("execute")
def execute(
    case: CaseArgument,
    actor: ActorOption,
    quantity: Annotated[
        int | None,
        typer.Option("--quantity", help="How many were used or delivered (default: all)."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Record that an approved (or cleared) case was carried out."""
    service = runtime().cases
    _print_case(service.execute(case, actor=actor, quantity=quantity, now=now()), json_output)


@app.command("overdue")
def overdue(as_user: ReaderOption = None, json_output: JsonOption = False) -> None:
    """Cases waiting on an approval past their SLA, oldest first: nothing waits silently;
    only those the user of ``--as`` may see."""
    found = runtime().cases.overdue(now(), actor=reader_id(as_user))
    at = now()
    if json_output:
        from clearance.service.cases import case_row

        print_json(Console(), [case_row(c, at) for c in found])
        return
    Console().print(_table(f"overdue: {len(found)}", found, at))
    Console().print(seen_as(as_user), highlight=False)


@app.command("rescreen")
def rescreen(
    actor: ActorOption, scenario: ScenarioOption = None, json_output: JsonOption = False
) -> None:
    """Judge open cases again under the policy in force today; record (never apply) changed outcomes."""
    found = runtime(scenario).cases.rescreen(actor=actor, now=now())
    rows = [
        {"number": c.number, "id": c.id, "was": was, "would_be": would}
        for c, was, would in found.changed
    ]
    failed = [{"number": c.number, "id": c.id, "problem": problem} for c, problem in found.failed]
    if json_output:
        print_json(Console(), rows + failed)
        return
    console = Console()
    console.print(
        f"re-screened: {len(rows)} open case(s) would now be decided differently"
        " (each finding is recorded on the ledger once; nothing is applied)",
        highlight=False,
    )
    for row in failed:
        console.print(
            f"case {row['number']} could not be re-screened: {row['problem']} (on its timeline)",
            highlight=False,
            markup=False,
        )
    if not rows:
        return
    table = Table()
    for column in ("#", "was", "would be"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["number"]), str(row["was"]), str(row["would_be"]))
    console.print(table)
