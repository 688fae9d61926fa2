"""``clearance replay``: what a candidate bundle would have changed in the stored cases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from clearance.core.decision import Outcome
from clearance.core.request import describe_request

from .context import runtime
from .options import JsonOption, ScenarioOption, parse_date
from .render import make_console, outcome_text, print_json, progress_bar

BundleOption = Annotated[
    Path,
    typer.Option(
        "--bundle",
        help="The candidate bundle folder (bundle.yaml and *.cedar) of a holder of the pack.",
        show_default=False,
    ),
]
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from", help="First request date to replay (YYYY-MM-DD). Default: the earliest."
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", help="Last request date to replay (YYYY-MM-DD). Default: the latest."),
]
CsvOption = Annotated[
    Path | None, typer.Option("--csv", help="Also write the changes as CSV to this file.")
]
HtmlOption = Annotated[
    Path | None,
    typer.Option("--html", help="Also write a self-contained HTML report to this file."),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="Processes that judge cases. Default: one per core.",
        show_default=False,
    ),
]


def _outcome(value: str) -> Text:
    try:
        return outcome_text(Outcome(value))
    except ValueError:
        return Text(value)


def replay(
    bundle: BundleOption,
    from_date: FromOption = None,
    to_date: ToOption = None,
    json_output: JsonOption = False,
    csv_file: CsvOption = None,
    html_file: HtmlOption = None,
    workers: WorkersOption = None,
    scenario: ScenarioOption = None,
) -> None:
    """Judge the stored cases of a period again with a candidate bundle in place of its
    holder's policy; list every case whose outcome would change, and why."""
    from clearance.service.replay import cases_in_period, check_period, default_workers
    from clearance.service.replay import replay as run

    from .replay_report import write_csv, write_html

    first, last = parse_date(from_date, "--from"), parse_date(to_date, "--to")
    check_period(first, last)
    context = runtime(scenario)
    pack_path = scenario or context.settings.scenario
    progress = progress_bar("replaying")
    with progress:
        total = cases_in_period(context.store, first, last) if not progress.disable else None
        task = progress.add_task("replay", total=total)
        report = run(
            context.store,
            pack_path,
            bundle,
            first=first,
            last=last,
            workers=workers or default_workers(),
            progress=lambda n: progress.advance(task, n),
        )
    if csv_file is not None:
        write_csv(report, csv_file)
    if html_file is not None:
        write_html(report, html_file)
    console = make_console()
    if json_output:
        print_json(console, report.as_dict())
        return
    candidate = report.candidate
    table = Table(
        title=f"replay under {candidate.holder} '{candidate.title}' ({candidate.folder}):"
        f" {len(report.changes)} of {report.examined} cases would change"
    )
    for column in ("#", "request", "was", "would be", "policies: on record → candidate"):
        table.add_column(column)
    for c in report.changes:
        was = _outcome(c.was)
        was.append(f"\n{c.state}", style="dim")
        table.add_row(
            str(c.number),
            describe_request(c.request),
            was,
            _outcome(c.would_be),
            f"{', '.join(c.was_reasons) or '—'}\n→ "
            f"{', '.join(c.would_be_reasons) or '; '.join(c.notes) or '—'}",
        )
    console.print(table)
    for kind, count in report.by_kind.items():
        console.print(f"{count:>6}  {kind}", highlight=False)
    for zone, count in report.by_zone.items():
        console.print(f"{count:>6}  in zone {zone}", highlight=False)
    for s in report.skipped:
        console.print(
            Text.assemble((f"case {s.number} not judged:", "yellow"), f" {s.problem}"),
            highlight=False,
        )
