"""``clearance stockpile``: the board of ratings, one position's history, a transfer's projection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from clearance.core.stockpile import Rating
from clearance.errors import InputError

from .context import now, reader_id, runtime
from .options import JsonOption, ScenarioOption, parse_date
from .render import RATING_STYLE, make_console, print_json, rating_text

if TYPE_CHECKING:
    from clearance.service.runtime import Runtime
    from clearance.service.stockpile import BoardRow, StockService

app = typer.Typer(
    help="Stockpile sufficiency: red / yellow / green now, as of a date, and after a transfer.",
    no_args_is_help=True,
)

HolderOption = Annotated[
    str, typer.Option("--holder", help="The party whose stock it is.", show_default=True)
]
SystemArgument = Annotated[str, typer.Argument(help="System id from the catalog.")]
WITHHELD = "(withheld)"
"""What a movement line of a case above the reader's clearance shows for its case."""


def _service(context: Runtime) -> StockService:
    return context.cases.stock


def _count(value: int) -> str:
    return f"{value:,}"


def _cover(row: BoardRow) -> str:
    return "—" if row.cover_percent is None else f"{row.cover_percent}%"


@app.command("board")
def board(
    holder: Annotated[
        list[str] | None,
        typer.Option(
            "--holder", help="Only these parties' stock (repeatable).", show_default=False
        ),
    ] = None,
    rating: Annotated[
        str | None,
        typer.Option(
            "--rating", help="Only this colour: red, yellow or green.", show_default=False
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Show at most this many rows (0: all).", min=0)
    ] = 50,
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """Every tracked position rated today, worst first (colour and words)."""
    wanted = None
    if rating is not None:
        try:
            wanted = Rating(rating)
        except ValueError:
            raise InputError("--rating", "must be red, yellow or green") from None
    today = now().date()
    result = _service(runtime(scenario)).board(
        on=today,
        actor=reader_id(None),
        holders=frozenset(holder) if holder else None,
        rating=wanted,
        limit=limit or None,
    )
    counts, shown = result.counts, result.rows
    if json_output:
        print_json(
            make_console(),
            {
                "as_of": today.isoformat(),
                "counts": counts,
                "positions": [r.as_dict() for r in shown],
            },
        )
        return
    table = Table(title=f"Stockpile board, {today.isoformat()} (worst first)")
    for column in (
        "rating",
        "holder",
        "system",
        "avail.",
        "req.",
        "cover",
        "on hand",
        "commit.",
        "prod/mo",
    ):
        table.add_column(
            column, justify="left" if column in ("rating", "holder", "system") else "right"
        )
    for row in shown:
        b, p = row.balance, row.position
        table.add_row(
            rating_text(row.rating, meaning=False),
            p.holder,
            p.system,
            _count(b.available),
            _count(p.requirement),
            _cover(row),
            _count(b.on_hand),
            _count(b.committed),
            _count(p.production_per_month),
        )
    console = make_console()
    console.print(table)
    summary = Text()
    for r in Rating:
        summary.append(f"{counts[r.value]} ", style="bold").append(rating_text(r)).append("   ")
    if len(shown) < result.total:
        summary.append(
            f"(showing {len(shown)} of {result.total}; --limit 0 shows all)", style="dim"
        )
    if any(row.position.illustrative for row in shown):
        summary.append("\nFigures marked illustrative in the pack are invented.", style="dim")
    console.print(summary)


@app.command("history")
def history(
    system: SystemArgument,
    holder: HolderOption = "US",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Rate as of this date (YYYY-MM-DD). Default: today.", show_default=False
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Show what this user may see: only the positions and movement details their"
            " party, roles and clearance allow. Default: everything (the local operator).",
            show_default=False,
        ),
    ] = None,
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """One position's rating as of a date, rebuilt from its movements, and those movements."""
    day = parse_date(as_of)
    context = runtime(scenario)
    # Whose view: a user's, as they are now, or the local operator's, which is everything.
    view = _service(context).position(
        holder, system, on=now().date(), actor=reader_id(as_user), as_of=day
    )
    if json_output:
        print_json(make_console(), {**view.as_dict(), "seen_as": as_user})
        return
    row, console = view.row, make_console()
    line = Text(f"{holder} {system} as of {view.on.isoformat()}: ")
    line.append(rating_text(row.rating))
    line.append(
        f"  available {_count(row.balance.available)} of {_count(row.position.requirement)}"
        f" required ({_cover(row)}); on hand {_count(row.balance.on_hand)},"
        f" committed {_count(row.balance.committed)}"
    )
    console.print(line, highlight=False)
    table = Table(title="movements recorded (newest first)")
    for column in ("day", "kind", "quantity", "on hand", "committed", "case", "by"):
        table.add_column(column)
    for m in view.movements:
        d_hand, d_committed = m.deltas
        table.add_row(
            m.on.isoformat(),
            m.kind.value,
            _count(m.quantity),
            f"{d_hand:+,}" if d_hand else "",
            f"{d_committed:+,}" if d_committed else "",
            WITHHELD if m.withheld else (m.case_id or "")[:8],
            "" if m.withheld else m.actor,
        )
    console.print(
        table if view.movements else Text("no movements recorded: the opening figures", style="dim")
    )
    if any(m.withheld for m in view.movements):
        console.print(
            f"{WITHHELD}: movements of cases above {as_user}'s clearance, summed per day and"
            " kind, without their cases, actors or times",
            style="dim",
            highlight=False,
        )
    seen = (
        f"as {as_user} sees it"
        if as_user is not None
        else "as the local operator sees it: every movement, whatever its case's classification"
        " (--as USER shows what a user sees)"
    )
    console.print(seen, style="dim", highlight=False)


BAR_WIDTH = 24


def _bar(value: int, top: int, width: int = BAR_WIDTH) -> str:
    filled = 0 if top <= 0 else max(0, min(width, round(width * value / top)))
    return "█" * filled + "·" * (width - filled)


@app.command("project")
def project_command(
    system: SystemArgument,
    transfer: Annotated[int, typer.Option("--transfer", help="How many to give (0: none).")],
    holder: HolderOption = "US",
    months: Annotated[int, typer.Option("--months", help="Months to project.")] = 24,
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """The rating now, after giving --transfer items, and month by month with production."""
    projection = _service(runtime(scenario)).project(
        holder, system, transfer=transfer, months=months, on=now().date(), actor=reader_id(None)
    )
    if json_output:
        print_json(make_console(), projection.as_dict())
        return
    facts, console = projection.facts, make_console()
    line = Text(f"{holder} {system}: now ")
    line.append(rating_text(facts.now))
    line.append(f" ({_count(facts.available)} available), after giving {_count(transfer)} ")
    line.append(rating_text(facts.after))
    line.append(f" ({_count(facts.available_after)})")
    console.print(line, highlight=False)
    recover = facts.months_to_recover
    console.print(
        "green again: "
        + (
            "now"
            if recover == 0
            else "never at this production rate"
            if recover is None
            else f"in {recover} months"
        ),
        highlight=False,
    )
    # A tenth of headroom, so the green-level mark falls inside the bar.
    top = max([p.available for p in projection.points] + [projection.points[0].green_level, 1])
    top += top // 10 + 1
    table = Table(
        title=f"month by month (requirement {_count(facts.requirement)}, green from {_count(projection.points[0].green_level)})"
    )
    for column in ("month", "date", "available", "rating", "available (| green level)"):
        table.add_column(column, justify="right" if column in ("month", "available") else "left")
    marker = round(BAR_WIDTH * projection.points[0].green_level / top)
    for point in projection.points:
        bar = _bar(point.available, top)
        bar = bar[:marker] + "|" + bar[marker + 1 :] if 0 <= marker < len(bar) else bar
        table.add_row(
            str(point.month),
            point.on.isoformat(),
            _count(point.available),
            rating_text(point.rating, meaning=False),
            Text(bar, style=RATING_STYLE[point.rating]),
        )
    console.print(table)
