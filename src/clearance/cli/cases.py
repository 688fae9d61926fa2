"""``clearance cases``: submit requests as cases and take them through review to a decision."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from clearance.core.access import parse_level
from clearance.core.workflow import OPEN_STATES, CaseState
from clearance.errors import InputError, OutcomeUnknown

from .case_output import case_table, print_case
from .case_waiting import ask, escalate, expire, overdue, reply
from .cases_import import import_cases
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
from .options import CaseArgument, JsonOption, ScenarioOption
from .render import make_console, print_json
from .screen import read_request_file

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="Cases: submit, review, approve or deny with a signature, and follow to the end.",
    no_args_is_help=True,
)


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
    print_case(view, json_output)
    if not created and not json_output:
        make_console(stderr=True).print(
            f"(case {view.case.number} already existed for this idempotency key)"
        )


app.command("import")(import_cases)


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
            make_console(),
            {
                "total": total,
                "page": page,
                "cases": [case_row(c, at) for c in found],
                "seen_as": as_user,
            },
        )
        return
    make_console().print(case_table(f"cases: {len(found)} of {total}, page {page}", found, at))
    make_console().print(seen_as(as_user), highlight=False)


@app.command("show")
def show(case: CaseArgument, as_user: ReaderOption = None, json_output: JsonOption = False) -> None:
    """A case: request, decision, approvals with signatures, conditions, timeline, time in each
    state; not found to the user of ``--as`` if they may not see it."""
    print_case(runtime().cases.view(case, actor=reader_id(as_user)), json_output)
    if not json_output:
        make_console().print(seen_as(as_user), highlight=False)


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
    print_case(view, json_output)


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


@app.command("waive")
def waive(
    case: CaseArgument,
    actor: ActorOption,
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="The emergency (required; recorded and signed).", show_default=False
        ),
    ],
    key_file: KeyFileOption = None,
    passphrase: PassphraseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Waive a case's legislative waiting period, as the holder of the office the policy
    names, personally, stating the emergency; signed with your key."""
    context = runtime()
    key = signer(context, actor, key_file, passphrase)
    view = context.cases.waive(case, actor=actor, reason=reason, signer=key, now=now())
    print_case(view, json_output)


@app.command("withdraw")
def withdraw(
    case: CaseArgument,
    actor: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="Why the request is withdrawn.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Withdraw your own case before it is executed."""
    service = runtime().cases
    print_case(service.withdraw(case, actor=actor, reason=reason, now=now()), json_output)


app.command("ask")(ask)
app.command("reply")(reply)


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
    print_case(view, json_output)


@app.command("execute")
def execute(
    case: CaseArgument,
    actor: ActorOption,
    quantity: Annotated[
        int | None,
        typer.Option(
            "--quantity",
            help="How many were used or delivered by this draw (default: all that remain).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Record a draw on an approved case, judged under the policy in force today; refused
    while a legislature's waiting period runs, unless it was waived."""
    service = runtime().cases
    print_case(service.execute(case, actor=actor, quantity=quantity, now=now()), json_output)


app.command("overdue")(overdue)
app.command("escalate")(escalate)
app.command("expire")(expire)


@app.command("rescreen")
def rescreen(
    actor: ActorOption, scenario: ScenarioOption = None, json_output: JsonOption = False
) -> None:
    """Judge open cases again under the policy in force today; record (never apply) changed
    outcomes; suspend approved cases it no longer permits."""
    found = runtime(scenario).cases.rescreen(actor=actor, now=now())
    rows = [
        {"number": c.number, "id": c.id, "was": was, "would_be": would}
        for c, was, would in found.changed
    ]
    failed = [{"number": c.number, "id": c.id, "problem": problem} for c, problem in found.failed]
    suspended = [
        {"number": c.number, "id": c.id, "suspended_for": list(offices)}
        for c, offices in found.suspended
    ]
    if json_output:
        print_json(make_console(), rows + failed + suspended)
        return
    console = make_console()
    console.print(
        f"re-screened: {len(rows)} open case(s) would now be decided differently"
        " (each finding is recorded on the ledger once; nothing is applied)",
        highlight=False,
    )
    for case, offices in found.suspended:
        waits = ", ".join(offices) or "no office (prohibited)"
        console.print(
            f"case {case.number} suspended: the policy in force does not permit it;"
            f" it waits for {waits} (on its timeline)",
            highlight=False,
            markup=False,
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
