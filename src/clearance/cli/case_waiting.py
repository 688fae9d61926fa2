"""``clearance cases ask | reply | overdue | escalate | expire``: the commands about waiting
and time. A question stops a case's review clocks until its requester answers; overdue cases
are listed; escalation steps whose day has come are recorded; approvals past their lifetime
expire."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from .case_output import case_table, print_case
from .context import ActorOption, ReaderOption, now, reader_id, runtime, seen_as
from .options import CaseArgument, JsonOption
from .render import make_console, print_json

__all__ = ["ask", "escalate", "expire", "overdue", "reply"]


def ask(
    case: CaseArgument,
    actor: ActorOption,
    question: Annotated[
        str,
        typer.Option("--question", help="What the requester is asked.", show_default=False),
    ],
    json_output: JsonOption = False,
) -> None:
    """Ask the requester of a case in review for information; its review clocks stop until
    the answer comes (a reviewer, or a holder of an office still to answer)."""
    service = runtime().cases
    print_case(service.ask(case, actor=actor, question=question, now=now()), json_output)


def reply(
    case: CaseArgument,
    actor: ActorOption,
    answer: Annotated[
        str, typer.Option("--answer", help="Your answer to the question.", show_default=False)
    ],
    json_output: JsonOption = False,
) -> None:
    """Answer the question asked of your case: it goes back into review, due later by as
    many days as its clocks were stopped."""
    service = runtime().cases
    print_case(service.reply(case, actor=actor, answer=answer, now=now()), json_output)


def overdue(as_user: ReaderOption = None, json_output: JsonOption = False) -> None:
    """Cases waiting on an approval past their SLA, oldest first: nothing waits silently;
    only those the user of ``--as`` may see."""
    found = runtime().cases.overdue(now(), actor=reader_id(as_user))
    at = now()
    if json_output:
        from clearance.service.cases import case_row

        print_json(make_console(), [case_row(c, at) for c in found])
        return
    make_console().print(case_table(f"overdue: {len(found)}", found, at))
    make_console().print(seen_as(as_user), highlight=False)


def escalate(actor: ActorOption, json_output: JsonOption = False) -> None:
    """Record the escalation steps whose day has come on cases in review (each once; a
    running `clearance serve` does this by itself every few minutes)."""
    made = runtime().cases.escalate(actor=actor, now=now())
    rows = [
        {
            "number": m.case.number,
            "id": m.case.id,
            "office": m.step.office,
            "step": m.step.step,
            "after": m.step.after,
            "count": m.step.count,
            "tell": m.step.tell,
        }
        for m in made
    ]
    if json_output:
        print_json(make_console(), rows)
        return
    console = make_console()
    console.print(f"escalated: {len(rows)} step(s) recorded", highlight=False)
    if rows:
        table = Table()
        for column in ("#", "office", "step", "after", "told"):
            table.add_column(column)
        for m in made:
            step = m.step
            after = f"{step.after} {step.count.replace('_', ' ')}"
            table.add_row(str(m.case.number), step.office, str(step.step), after, step.tell)
        console.print(table)


def expire(actor: ActorOption, json_output: JsonOption = False) -> None:
    """Expire the approved cases not executed within their approval's lifetime (each once;
    a running `clearance serve` does this by itself every few minutes)."""
    made = runtime().cases.expire(actor=actor, now=now())
    if json_output:
        print_json(make_console(), [{"number": c.number, "id": c.id} for c in made])
        return
    console = make_console()
    console.print(f"expired: {len(made)} case(s) whose approval lapsed", highlight=False)
    for case in made:
        console.print(f"  case {case.number}", highlight=False)
