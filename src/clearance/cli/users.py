"""``clearance users``: people, the offices they hold and when, and delegations."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from clearance.core.access import parse_level, parse_roles
from clearance.core.actors import ADMIN
from clearance.errors import NotFoundError
from clearance.service.people import registry

from .context import KeyFileOption, PassphraseOption, ask_secret, now, runtime
from .options import JsonOption, ScenarioOption, parse_date
from .render import make_console, print_json

app = typer.Typer(
    help="Users, the offices they hold over time, and delegations.", no_args_is_help=True
)

RoleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="A role: requester, reviewer, auditor or admin (repeatable). Default: requester.",
        show_default=False,
    ),
]
ClearanceOption = Annotated[
    str,
    typer.Option(
        "--clearance",
        help="Highest classification they may read: UNCLASSIFIED, CONFIDENTIAL, SECRET, TOP SECRET.",
    ),
]
AdminOption = Annotated[
    str,
    typer.Option("--by", help="Who records this: a user, or admin (the local administrator)."),
]


@app.command("add")
def add(
    user: Annotated[
        str,
        typer.Argument(help="User id, e.g. us.secdef.holder or ua.liaison.", show_default=False),
    ],
    name: Annotated[str, typer.Option("--name", help="The person's name.", show_default=False)],
    party: Annotated[
        str,
        typer.Option("--party", help="The party they act for (e.g. US, UA).", show_default=False),
    ],
    role: RoleOption = None,
    clearance: ClearanceOption = "UNCLASSIFIED",
    key_file: KeyFileOption = None,
    passphrase: PassphraseOption = None,
    by: AdminOption = ADMIN,
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a user with a new signing key; the private key is written encrypted with their passphrase."""
    roles = parse_roles(role or ["requester"], "--role")
    level = parse_level(clearance, "--clearance")
    context = runtime(scenario)
    if passphrase is None:
        passphrase = ask_secret(
            "passphrase for the new key",
            option="--passphrase",
            envvar="CLEARANCE_PASSPHRASE",
            confirm=True,
        )
    from clearance.core.signing import new_key_pair
    from clearance.service.keyfiles import write_key_file

    public_key, content = new_key_pair(passphrase)
    path = context.key_path(user, key_file)
    people = context.people
    people.check_new_user(user_id=user, party=party)
    write_key_file(path, content)
    try:
        record = people.add_user(
            user_id=user,
            name=name,
            party=party,
            public_key=public_key,
            actor=by,
            now=now(),
            roles=roles,
            clearance=level,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    data = {
        "id": record.id,
        "name": record.name,
        "party": record.party,
        "public_key": record.public_key,
        "roles": list(record.roles),
        "clearance": level.label,
        "key_file": str(path),
    }
    if json_output:
        print_json(make_console(), data)
    else:
        make_console().print(
            f"added {record.id} ({record.party}); key file {path}", highlight=False
        )


@app.command("list")
def list_users(json_output: JsonOption = False) -> None:
    """Users with their public keys and the offices they hold or held."""
    rows = registry(runtime().store)
    if json_output:
        print_json(make_console(), rows)
        return
    table = Table(title="users")
    for column in ("id", "name", "party", "offices", "public key"):
        table.add_column(column)
    for row in rows:
        holdings: list[dict[str, str | None]] = row["holdings"]
        offices = "\n".join(f"{h['authority']} {h['from']} → {h['to'] or 'now'}" for h in holdings)
        table.add_row(
            str(row["id"]),
            str(row["name"]),
            str(row["party"]),
            offices or "—",
            str(row["public_key"])[:16] + "…",
        )
    make_console().print(table)


@app.command("grant")
def grant(
    user: Annotated[str, typer.Argument(help="User id.", show_default=False)],
    authority: Annotated[str, typer.Argument(help="Office, e.g. us.secdef.", show_default=False)],
    valid_from: Annotated[
        str, typer.Option("--from", help="First day in office (YYYY-MM-DD).", show_default=False)
    ],
    valid_to: Annotated[
        str | None, typer.Option("--to", help="Last day in office (default: open).")
    ] = None,
    by: AdminOption = ADMIN,
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """USER takes office AUTHORITY from a date; the previous holder's term ends the day before."""
    start = parse_date(valid_from, "--from")
    assert start is not None
    holding = runtime(scenario).people.grant(
        user_id=user,
        authority=authority,
        valid_from=start,
        valid_to=parse_date(valid_to, "--to"),
        actor=by,
        now=now(),
    )
    data = {
        "user": holding.user_id,
        "authority": holding.authority,
        "from": holding.valid_from.isoformat(),
        "to": holding.valid_to.isoformat() if holding.valid_to else None,
    }
    if json_output:
        print_json(make_console(), data)
    else:
        make_console().print(
            f"{user} holds {authority} from {data['from']} to {data['to'] or 'further notice'}",
            highlight=False,
        )


@app.command("delegate")
def delegate(
    holder: Annotated[
        str, typer.Argument(help="The current holder of the office.", show_default=False)
    ],
    delegate_to: Annotated[str, typer.Argument(help="Who may act for it.", show_default=False)],
    authority: Annotated[str, typer.Argument(help="The office.", show_default=False)],
    valid_from: Annotated[
        str, typer.Option("--from", help="First day (YYYY-MM-DD).", show_default=False)
    ],
    valid_to: Annotated[
        str, typer.Option("--to", help="Last day (YYYY-MM-DD).", show_default=False)
    ],
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """Let DELEGATE act for AUTHORITY on delegable gates for a period; personal gates stay personal."""
    start, end = parse_date(valid_from, "--from"), parse_date(valid_to, "--to")
    assert start is not None
    assert end is not None
    record = runtime(scenario).people.delegate(
        holder_id=holder,
        delegate_id=delegate_to,
        authority=authority,
        valid_from=start,
        valid_to=end,
        now=now(),
    )
    data = {
        "authority": record.authority,
        "holder": record.holder_id,
        "delegate": record.delegate_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
    }
    if json_output:
        print_json(make_console(), data)
    else:
        make_console().print(
            f"{delegate_to} may act for {authority} (delegable gates only) from {start} to {end}",
            highlight=False,
        )


UserArgument = Annotated[str, typer.Argument(help="User id.", show_default=False)]


@app.command("access")
def access(
    user: UserArgument,
    role: RoleOption = None,
    clearance: Annotated[
        str | None,
        typer.Option(
            "--clearance",
            help="Highest classification they may read (default: unchanged).",
            show_default=False,
        ),
    ] = None,
    by: AdminOption = ADMIN,
    json_output: JsonOption = False,
) -> None:
    """Set USER's roles (--role, repeatable) and/or clearance; what is not given stays."""
    from clearance.core.access import Level, Role

    accounts = runtime().accounts
    current = accounts.user(user)
    if current is None:
        raise NotFoundError(f"unknown user '{user}'")
    roles = parse_roles(role, "--role") if role else tuple(Role(r) for r in current.user.roles)
    level = parse_level(clearance, "--clearance") if clearance else Level(current.clearance)
    accounts.set_access(user, roles=roles, clearance=level, actor=by, now=now())
    data = {"user": user, "roles": [r.value for r in roles], "clearance": level.label}
    if json_output:
        print_json(make_console(), data)
    else:
        make_console().print(
            f"{user}: {', '.join(data['roles'])}; cleared {level.label}", highlight=False
        )


@app.command("password")
def password(
    user: UserArgument,
    new_password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="CLEARANCE_NEW_PASSWORD",
            help="The new web sign-in password, at least 12 characters (asked for on a terminal"
            " when not given; without one, read as a line from stdin).",
            show_default=False,
        ),
    ] = None,
    by: AdminOption = ADMIN,
    json_output: JsonOption = False,
) -> None:
    """Set USER's password for signing in to the web pages and the API (stored as an argon2id hash).

    Every session of USER ends and every API token of theirs is revoked.
    """
    if new_password is None:
        new_password = ask_secret(
            "new password", option="--password", envvar="CLEARANCE_NEW_PASSWORD", confirm=True
        )
    runtime().accounts.set_password(user, new_password, actor=by, now=now())
    if json_output:
        print_json(make_console(), {"user": user, "password": "set"})
    else:
        make_console().print(f"password set for {user}", highlight=False)


@app.command("token")
def token(
    user: UserArgument,
    name: Annotated[str, typer.Option("--name", help="What the token is for.", show_default=False)],
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            min=1,
            help="Days the token lives (default and most: CLEARANCE_TOKEN_DAYS).",
            show_default=False,
        ),
    ] = None,
    by: AdminOption = ADMIN,
    json_output: JsonOption = False,
) -> None:
    """Issue an API token acting as USER: printed once, stored only hashed; it expires."""
    secret, record = runtime().accounts.issue_token(user, name, actor=by, now=now(), days=days)
    expires = record.expires_at.isoformat()
    data = {"id": record.id, "user": user, "name": name, "token": secret, "expires_at": expires}
    if json_output:
        print_json(make_console(), data)
    else:
        make_console().print(
            f"token {record.id} for {user} ({name}), expires {expires}:\n{secret}",
            highlight=False,
        )


@app.command("tokens")
def tokens(user: UserArgument, json_output: JsonOption = False) -> None:
    """USER's API tokens, newest first, with when each expires and whether it was revoked."""
    from clearance.service.accounts import token_row

    at = now()
    rows = [token_row(t, at) for t in runtime().accounts.tokens(user, actor=ADMIN)]
    if json_output:
        print_json(make_console(), rows)
        return
    table = Table(title=f"API tokens of {user}")
    for column in ("id", "name", "created", "expires", "state"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"], row["name"], row["created_at"][:19], row["expires_at"][:19], row["state"]
        )
    make_console().print(table)


@app.command("revoke-token")
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token's id.", show_default=False)],
    by: AdminOption = ADMIN,
    json_output: JsonOption = False,
) -> None:
    """Revoke an API token: refused from the next request on, on every server."""
    runtime().accounts.revoke_token(token_id, actor=by, now=now())
    if json_output:
        print_json(make_console(), {"id": token_id, "revoked": True})
    else:
        make_console().print(f"token {token_id} revoked", highlight=False)
