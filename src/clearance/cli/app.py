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

from . import audit, cases, catalog, policy, users
from .context import App, close_databases
from .demo import demo
from .options import JsonOption
from .render import print_json
from .replay import replay
from .screen import explain_command, screen
from .serve import serve

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
app.command("serve")(serve)
app.add_typer(catalog.app, name="catalog")
app.add_typer(policy.app, name="policy")
app.add_typer(users.app, name="users")
app.add_typer(cases.app, name="cases")
app.add_typer(audit.app, name="audit")
app.command("verify-decision")(audit.verify_decision)
app.command("replay")(replay)


@app.command("init")
def init(json_output: JsonOption = False) -> None:
    """Create or upgrade the database (CLEARANCE_DATABASE_URL, default SQLite in the data folder)."""
    context = App()
    context.database.migrate()
    url = context.database.engine.url.render_as_string(hide_password=True)
    if json_output:
        print_json(Console(), {"database": url, "data_dir": str(context.settings.data_dir)})
    else:
        Console().print(f"database ready: {url}", highlight=False)


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


def main(argv: list[str] | None = None) -> None:
    """Run one command (``argv``, default the process's arguments) and exit with its status."""
    try:
        app(args=argv, prog_name="clearance")
    except ClearanceError as exc:
        line = Text.assemble(("error: ", "bold red"), exc.message)
        Console(stderr=True).print(line, soft_wrap=True, highlight=False)
        sys.exit(exc.exit_code)
    finally:
        close_databases()
