"""``clearance report``: reports for oversight. ``report waiting``: how long each office takes
to answer, what waits now, and how it went month by month (``service.oversight``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .context import reader_id, runtime, seen_as
from .options import JsonOption
from .render import make_console, print_json

if TYPE_CHECKING:
    from clearance.service.oversight import OfficeFigures, WaitingReport

app = typer.Typer(
    help="Reports for oversight: how long each office takes to answer, and what waits now.",
    no_args_is_help=True,
)

ReaderOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Make the report as this user, counting only the cases they may see (they need"
        " the auditor role). Default: the local operator, who sees everything.",
        show_default=False,
    ),
]
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="First day of the answers and escalation steps counted (YYYY-MM-DD)."
        " Default: the earliest.",
        show_default=False,
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="Last day of the answers and escalation steps counted (YYYY-MM-DD)."
        " Default: the latest.",
        show_default=False,
    ),
]
HtmlOption = Annotated[
    Path | None,
    typer.Option(
        "--html",
        help="Also write a self-contained HTML report (the table and a chart per month) to"
        " this file.",
        show_default=False,
    ),
]

BAR = 24
"""The width of the longest bar of the months' chart, in characters."""


def days(value: float | None) -> str:
    """A number of working days as read: ``5``, ``12.5``; ``—`` for none."""
    return "—" if value is None else f"{value:g}"


def period_words(report: WaitingReport) -> str:
    """The period in words: ``answers from 2025-07-01 to 2025-07-31``, ``every answer``."""
    first, last = report.first, report.last
    if first is None and last is None:
        return "every answer"
    if last is None:
        return f"answers from {first} on"
    if first is None:
        return f"answers up to {last}"
    return f"answers from {first} to {last}"


def _office_row(office: OfficeFigures) -> list[str | Text]:
    longest = office.longest_waiting
    waiting = "—" if longest is None else f"case {longest.case_number}: {longest.days}"
    overdue = Text(str(office.overdue), style="bold red" if office.overdue else "dim")
    escalated = Text(str(office.escalated), style="bold yellow" if office.escalated else "dim")
    return [
        office.office,
        str(office.decided),
        days(office.median_days),
        days(office.p90_days),
        waiting,
        overdue,
        escalated,
    ]


def _bar(median: float | None, high: int | None, top: int) -> Text:
    """The median as a solid bar and the 90th percentile as its lighter extension."""
    if median is None or high is None or top == 0:
        return Text("")
    solid = round(BAR * median / top)
    return Text("█" * solid, style="cyan").append("░" * (round(BAR * high / top) - solid))


def _print(console: Console, report: WaitingReport, reader: str | None) -> None:
    table = Table(
        title=f"time to decision per office, in working days: {period_words(report)},"
        f" {seen_as(reader)}",
        title_justify="left",
        caption="p90: the 90th percentile (nearest rank); longest waiting and overdue: now",
        caption_justify="left",
    )
    table.add_column("office")
    for column in ("decided", "median", "p90", "longest waiting", "overdue", "escalated"):
        table.add_column(column, justify="right", no_wrap=True)
    for office in report.offices:
        table.add_row(*_office_row(office))
    console.print(table)
    if not report.offices:
        console.print("No office gates a case you may see.", highlight=False)
    if not report.months:
        return
    top = max(m.p90_days or 0 for m in report.months)
    months = Table(
        title="per month of the answer, every office (█ median, ░ up to p90)",
        title_justify="left",
    )
    months.add_column("month")
    for column in ("decided", "median", "p90"):
        months.add_column(column, justify="right")
    months.add_column("working days", no_wrap=True)
    for month in report.months:
        months.add_row(
            month.month,
            str(month.decided),
            days(month.median_days),
            days(month.p90_days),
            _bar(month.median_days, month.p90_days, top),
        )
    console.print(months)


@app.command("waiting")
def waiting(
    reader: ReaderOption = None,
    from_date: FromOption = None,
    to_date: ToOption = None,
    json_output: JsonOption = False,
    html_file: HtmlOption = None,
) -> None:
    """Per office: its answers in the period with the median and 90th-percentile working
    days they took, the gate that has waited longest now, its overdue gates now and the
    cases escalated in the period; per month, the same across offices. Counts only the
    cases the reader may see; reading it needs the auditor role."""
    from clearance.service.oversight import period

    from .report_html import write_html

    first, last = period(from_date, to_date)
    report = runtime().waiting_report(actor=reader_id(reader), first=first, last=last)
    if html_file is not None:
        write_html(report, html_file, seen=seen_as(reader))
    console = make_console()
    if json_output:
        print_json(console, report.as_dict())
        return
    _print(console, report, reader)
