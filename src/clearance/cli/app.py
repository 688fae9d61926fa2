"""The ``clearance`` command: one Typer app, every error a single line.

Input errors (``ClearanceError``) print one line to stderr and exit with their
status (2); nothing else is caught, so a bug still shows its traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from clearance import __version__
from clearance.errors import ClearanceError

from . import catalog, policy
from .demo import demo
from .screen import explain_command, screen

app = typer.Typer(
    name="clearance",
    help="Review controlled weapon-system requests: who must consent, by which policy, and why.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("screen")(screen)
app.command("explain")(explain_command)
app.command("demo")(demo)
app.add_typer(catalog.app, name="catalog")
app.add_typer(policy.app, name="policy")


def _version(value: bool) -> None:
    if value:
        print(f"clearance {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Review controlled weapon-system requests: who must consent, by which policy, and why."""


def main() -> None:
    try:
        app()
    except ClearanceError as exc:
        line = Text.assemble(("error: ", "bold red"), exc.message)
        Console(stderr=True).print(line, soft_wrap=True, highlight=False)
        sys.exit(exc.exit_code)
