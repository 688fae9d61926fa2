"""What the commands share: the runtime (``service.runtime``), options, the acting user's key."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clearance.core.actors import ADMIN
from clearance.errors import InputError, SignatureError, StoreError
from clearance.policy.pack import ScenarioPack, load_pack
from clearance.settings import load_settings

from .json_input import unreadable

if TYPE_CHECKING:  # the database stack is imported by the commands that use it, not by all
    from clearance.core.signing import Signer
    from clearance.service.databases import Database
    from clearance.service.runtime import Runtime

ActorOption = Annotated[
    str,
    typer.Option(
        "--as", help="The user who acts (their key signs what they decide).", show_default=False
    ),
]
ReaderOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="See what this user sees on the web and through the API (default: the local"
        " operator, who sees everything).",
        show_default=False,
    ),
]
PassphraseOption = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        envvar="CLEARANCE_PASSPHRASE",
        help="Passphrase of the acting user's key (asked for on a terminal when not given;"
        " without one, read as a line from stdin).",
        show_default=False,
    ),
]
KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="The acting user's key file. Default: <data dir>/keys/<user>.key.",
        show_default=False,
    ),
]


def reader_id(user: str | None) -> str:
    """Whom a read is made as: the user named by ``--as``, or the local operator."""
    return ADMIN if user is None else user


def seen_as(user: str | None) -> str:
    """Whose view a command shows, said in its output (the operator's is everything)."""
    if user is None:
        return "as the local operator sees it: everything (--as USER shows what a user sees)"
    return f"as {user} sees it"


_opened: list[Database] = []


def close_databases() -> None:
    """Close the pools a command opened when it ends, not when the process does."""
    while _opened:
        _opened.pop().dispose()


def screening_pack(scenario: Path | None) -> ScenarioPack:
    """The pack to screen by: with the proposals activated in the database, when there is one.

    Screening needs no database, but where one holds activated policy,
    screening without it would answer by an older policy than cases do. A
    database that is not there, or not set up, means the pack alone.
    """
    from clearance.service.databases import Store, existing_database
    from clearance.service.policy_in_force import policy_in_force

    pack = load_pack(scenario)
    database = existing_database(load_settings().database_url)
    if database is None:
        return pack
    _opened.append(database)
    try:
        return policy_in_force(Store(database), pack)
    except StoreError:
        return pack


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def runtime(scenario: Path | None = None, *, create: bool = False) -> Runtime:
    """The settings, store and services of this command (``service.runtime``), closed when
    the command ends. Only the commands that set a database up (``init``, ``serve --demo``)
    ``create`` one; any other refuses before ``clearance init`` and leaves nothing behind."""
    from clearance.service.runtime import Runtime

    opened = Runtime(load_settings(), scenario=scenario, create=create)
    _opened.append(opened.database)
    return opened


def ask_secret(what: str, *, option: str, envvar: str, confirm: bool = False) -> str:
    """A secret given by neither ``option`` nor ``envvar``: asked for, hidden, when standard
    input is a terminal; otherwise its first line. Python's ``getpass`` would read that
    line too, but would first warn that the secret may be echoed, which a pipe never is."""
    if sys.stdin is not None and sys.stdin.isatty():
        answer: str = typer.prompt(what, hide_input=True, confirmation_prompt=confirm)
        return answer
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise InputError(
            option, f"not given: pass {option}, set {envvar}, or give it as a line on stdin"
        )
    return line.removesuffix("\n").removesuffix("\r")


def signer(context: Runtime, user: str, key_file: Path | None, passphrase: str | None) -> Signer:
    """The acting user's key, unlocked with ``passphrase`` (asked for when not given)."""
    from clearance.service.keyfiles import open_key_file

    path = context.key_path(user, key_file)
    try:
        exists = path.exists()
    except OSError as exc:  # a name too long for the file system, say
        raise unreadable(path, exc) from None
    if not exists:
        raise SignatureError(f"no key file for {user} at {path}")
    if passphrase is None:
        passphrase = ask_secret(
            f"passphrase for {user}", option="--passphrase", envvar="CLEARANCE_PASSPHRASE"
        )
    return open_key_file(path, passphrase, missing=f"no key file for {user} at {path}")
