"""The ``clearance`` command: one Typer app, every error a single line.

Input errors (``ClearanceError``) print one line to stderr and exit with their
status (2); nothing else is caught, so a bug still shows its traceback.

Each command's module is imported only when that command runs: the whole
app imports every command's module, and with them every service and the web
framework, which ``clearance screen`` never uses, and Typer reads every
command's signature (together, a tenth of a second of start-up; see
docs/benchmarks.md, ``bench/stream.py``). ``main`` builds an app of
the one command named (``_app``), registered exactly as in the whole app
(``whole_app``), so its options, help and errors are the same; with no
command named, or one it does not know, it builds the whole app, whose
help lists every command and whose errors name the unknown one.
"""

from __future__ import annotations

import functools
import importlib
import sys
from concurrent.futures.process import BrokenProcessPool
from typing import Annotated

import typer
import typer.main
from rich.text import Text

# Typer carries its own copy of Click; its usage errors are these classes.
from typer._click.core import Command
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from clearance import __version__
from clearance.errors import ClearanceError, InputError

from .context import close_databases, now, runtime
from .options import JsonOption
from .render import make_console, one_line, print_json

__all__ = ["COMMANDS", "main", "whole_app"]

COMMANDS: dict[str, str] = {
    "screen": "screen:screen",
    "explain": "screen:explain_command",
    "demo": "demo:demo",
    "serve": "serve:serve",
    "catalog": "catalog:app",
    "policy": "policy:app",
    "users": "users:app",
    "cases": "cases:app",
    "audit": "audit:app",
    "stockpile": "stockpile:app",
    "report": "report:app",
    "notify": "notify:app",
    "verify-decision": "audit:verify_decision",
    "replay": "replay:replay",
    "inbox": "inbox:inbox",
    "init": "app:init",
}
"""Every command, in the order the whole app registers them (``clearance --help`` lists the
commands, then the groups of subcommands): its name, and the module of ``clearance.cli``
and the name in it of its function, or of its Typer app of subcommands."""


def init(json_output: JsonOption = False) -> None:
    """Create or upgrade the database (CLEARANCE_DATABASE_URL, default SQLite in the data folder)."""
    from clearance.service.anchoring import prepare

    context = runtime(create=True)
    key = prepare(context.store, context.settings.system_key, now=now())
    url = context.database.engine.url.render_as_string(hide_password=True)
    if json_output:
        print_json(
            make_console(),
            {
                "database": url,
                "data_dir": str(context.settings.data_dir),
                "system_public_key": key.public_key,
            },
        )
    else:
        make_console().print(f"database ready: {url}", highlight=False)
        make_console().print(f"system key: {key.public_key}", highlight=False)


def _version(value: bool) -> None:
    if value:
        print(f"clearance {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Review controlled weapon-system requests: who must consent, by which policy, and why."""


@functools.cache
def _app(names: tuple[str, ...]) -> typer.Typer:
    """The app of the commands ``names``, each module imported here and not before."""
    app = typer.Typer(
        name="clearance",
        help="Review controlled weapon-system requests: who must consent, by which policy, and why.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for name in names:
        module, attribute = COMMANDS[name].split(":")
        target = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)
    app.callback()(_root)
    return app


def whole_app() -> typer.Typer:
    """The app of every command (its help, the docs and the tests walk it)."""
    return _app(tuple(COMMANDS))


@functools.cache
def _command(name: str | None) -> Command:
    """The Click command Typer makes of the app of ``name`` (None: the whole app), made once a
    process. Typer makes it again at every call, reading every command's signature (40 ms); a
    process that runs many commands (the tests run thousands in theirs) would pay that each
    time."""
    return typer.main.get_command(whole_app() if name is None else _app((name,)))


_WORKER_DIED = (
    "a worker process ended before its work was done (killed, or out of memory);"
    " the output ends early and may end in the middle of a record"
)
"""A worker of ``--workers N`` (``screen``, ``replay``) that dies breaks the pool: the
command stops there, and says so in one line rather than a traceback."""


def _fail(message: str, code: int) -> None:
    line = Text.assemble(("error: ", "bold red"), one_line(message))
    make_console(stderr=True).print(line, soft_wrap=True, highlight=False)
    sys.exit(code)


def _in_flags(exc: InputError, args: list[str]) -> str:
    """The service names a field as a form or request does (``months``); on the command
    line the user typed it as an option (``--months``), so the error says that."""
    flag = "--" + exc.where.replace("_", "-")
    if any(arg == flag or arg.startswith(flag + "=") for arg in args):
        return f"{flag}: {exc.problem}"
    return exc.message


def main(argv: list[str] | None = None) -> None:
    """Run one command (``argv``, default the process's arguments) and exit with its status.

    Usage mistakes (a word where a number goes, an unknown option) are one
    line too, naming the option, instead of Click's boxed usage text.
    """
    args = sys.argv[1:] if argv is None else argv
    named = args[0] if args and args[0] in COMMANDS else None
    try:
        code = _command(named)(args=args, prog_name="clearance", standalone_mode=False)
    except InputError as exc:
        _fail(_in_flags(exc, args), exc.exit_code)
    except ClearanceError as exc:
        _fail(exc.message, exc.exit_code)
    except NoArgsIsHelpError as exc:
        make_console().print(exc.ctx.get_help() if exc.ctx else "", highlight=False)
        sys.exit(2)
    except UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(exc.format_message().replace("\n", " ") + hint, exc.exit_code)
    except BrokenProcessPool:
        _fail(_WORKER_DIED, 1)
    except typer.Abort:
        _fail("aborted", 1)
    finally:
        close_databases()
    sys.exit(code if isinstance(code, int) else 0)
