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
        help="Scenario pack folder (catalog, bundles, golden cases). Default: the bundled seed pack.",
        show_default=False,
    ),
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


def parse_as_of(value: str | None) -> dt.date | None:
    """The ``--as-of`` date, refused in one line when it is not a calendar date."""
    if value is None:
        return None
    try:
        date = iso_date(value)
    except ValueError as exc:
        raise InputError("option --as-of", str(exc)) from None
    assert isinstance(date, dt.date)
    return date
