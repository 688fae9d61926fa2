"""Options shared by several commands, declared once so their help reads the same."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from clearance.core.request import iso_date
from clearance.errors import InputError

ScenarioOption = Annotated[
    Path | None,
    typer.Option(
        "--scenario",
        envvar="CLEARANCE_SCENARIO",
        help="Scenario pack folder (catalog, bundles, golden cases). Default: the bundled seed pack.",
        show_default=False,
    ),
]
CaseArgument = Annotated[
    str, typer.Argument(help="Case number (e.g. 17) or id.", show_default=False)
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Write JSON for scripts instead of tables.")
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Judge by the bundles in force on this date (YYYY-MM-DD) instead of the request's date.",
        show_default=False,
    ),
]


def parse_date(value: str | None, option: str = "--as-of") -> dt.date | None:
    """A date option, refused in one line naming the option when it is not a calendar date."""
    if value is None:
        return None
    try:
        date = iso_date(value)
    except ValueError as exc:
        raise InputError(f"option {option}", str(exc)) from None
    assert isinstance(date, dt.date)
    return date
