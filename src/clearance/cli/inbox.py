"""``clearance inbox``: what waits for a user, oldest first, with how long and how overdue."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from .context import ActorOption, now, runtime
from .options import JsonOption
from .render import make_console, print_json

_KINDS = {
    "decide": "decide",
    "answer_question": "answer the question",
    "record_condition": "record a condition",
    "activate": "activate policy",
}


def inbox(actor: ActorOption, json_output: JsonOption = False) -> None:
    """Everything waiting for the user of --as: gates of cases for an office they hold or
    answer for today, questions asked of and conditions of their own cases, proposals
    only they may activate."""
    at = now()
    items = [item.as_dict(at) for item in runtime().inbox(actor=actor)]
    if json_output:
        print_json(make_console(), items)
        return
    table = Table(title=f"waiting for {actor}: {len(items)}", title_justify="left")
    for column in ("what", "case", "office", "waiting (days)", "overdue (days)"):
        table.add_column(column)
    for item in items:
        overdue = item["overdue_days"]
        late = Text(f"{overdue:g}", style="bold red") if overdue else Text("—", style="dim")
        case = "" if item["case_number"] is None else f"{item['case_number']}"
        if item["proposal"] is not None:
            case = f"proposal {item['proposal']}"
        office = item["office"] or ""
        if item["on_behalf_of"]:
            office += f" (for {item['on_behalf_of']})"
        table.add_row(
            Text(f"{_KINDS[item['kind']]}: {item['title']}"),
            case,
            office,
            f"{item['waiting_days']:g}",
            late,
        )
    make_console().print(table)
