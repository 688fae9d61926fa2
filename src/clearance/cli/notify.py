"""``clearance notify``: subscriptions, the dispatcher, and the notifications given up on."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from clearance.errors import InputError

from .context import ActorOption, ReaderOption, now, reader_id, runtime
from .options import JsonOption
from .render import make_console, print_json

app = typer.Typer(
    help="Notifications by e-mail and webhook: subscriptions, delivery, dead letters.",
    no_args_is_help=True,
)

KINDS = "waiting, decided, condition_due, question, escalation or policy_activated"


@app.command("run")
def run(
    once: Annotated[
        bool,
        typer.Option("--once", help="Deliver what is due now, then stop (for a timer)."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Deliver notifications: take due ones from the outbox, send them, retry with back-off,
    dead-letter after CLEARANCE_NOTIFY_MAX_ATTEMPTS. Runs until stopped (SIGINT or SIGTERM)
    unless --once; `clearance serve` runs one too (CLEARANCE_NOTIFY_POLL_SECONDS)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("clearance")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    dispatcher = runtime().dispatcher()
    try:
        if once:
            tally = dispatcher.drain()
        else:
            signal.signal(signal.SIGTERM, lambda *_: dispatcher.halt())
            make_console(stderr=True).print(
                f"delivering notifications as {dispatcher.worker}", highlight=False
            )
            try:
                tally = dispatcher.run()
            except KeyboardInterrupt:
                dispatcher.halt()
                tally = None
    finally:
        dispatcher.close()
    if tally is None:
        return
    if json_output:
        print_json(make_console(), {**tally.as_dict(), "errors": tally.errors})
        return
    make_console().print(
        f"taken {tally.taken}: delivered {tally.delivered}, to retry {tally.retrying},"
        f" dead {tally.dead}, dropped {tally.dropped}, given back {tally.released}",
        highlight=False,
    )


def _subscription_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("id", "who", "kinds", "channel", "address", "since"):
        table.add_column(column)
    for row in rows:
        who = row["user"] or f"{row['office']} (office, {row['clearance']})"
        ended = f", ended {row['ended_at'][:10]}" if row["ended_at"] else ""
        table.add_row(
            row["id"],
            Text(who),
            ", ".join(row["kinds"]),
            row["channel"],
            Text(row["address"]),
            row["created_at"][:10] + ended,
        )
    return table


@app.command("subscribe")
def subscribe(
    actor: ActorOption,
    kind: Annotated[
        list[str],
        typer.Option("--kind", help=f"A kind of event: {KINDS} (repeatable).", show_default=False),
    ],
    email: Annotated[
        str | None,
        typer.Option("--email", help="Send to this e-mail address.", show_default=False),
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook",
            help="POST to this https:// URL (http:// only to this machine), signed as"
            " Standard Webhooks; it must accept a connection now.",
            show_default=False,
        ),
    ] = None,
    office: Annotated[
        str | None,
        typer.Option(
            "--office",
            help="Subscribe an office's shared address instead of the user (admins).",
            show_default=False,
        ),
    ] = None,
    clearance: Annotated[
        str | None,
        typer.Option(
            "--clearance",
            help="With --office: the highest level of case its address may be told of.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Subscribe the user of --as (or, for an admin, an office) to kinds of event, by e-mail
    or webhook. A webhook's signing key is shown once here (`notify signing-key` shows it again)."""
    from clearance.service.subscriptions import subscription_row

    try:
        made = runtime().subscriptions.subscribe(
            actor=actor,
            kinds=kind,
            email=email,
            webhook=webhook,
            office=office,
            clearance=clearance,
            now=now(),
        )
    except InputError as exc:
        if exc.where != "kinds":
            raise
        raise InputError("--kind", exc.problem) from None
    data = {**subscription_row(made.subscription), "signing_key": made.signing_key}
    if json_output:
        print_json(make_console(), data)
        return
    console = make_console()
    console.print(
        f"subscription {data['id']}: {', '.join(data['kinds'])} by {data['channel']}"
        f" to {data['address']}",
        highlight=False,
        soft_wrap=True,
    )
    if made.signing_key is not None:
        console.print(f"signing key: {made.signing_key}", highlight=False, soft_wrap=True)


@app.command("subscriptions")
def subscriptions(
    actor: ReaderOption = None,
    ended: Annotated[bool, typer.Option("--ended", help="Ended ones too.")] = False,
    json_output: JsonOption = False,
) -> None:
    """The subscriptions of the user of --as; an admin's (or the local operator's): every
    user's and office's."""
    from clearance.service.subscriptions import subscription_row

    found = runtime().subscriptions.listed(actor=reader_id(actor), ended=ended)
    rows = [subscription_row(r) for r in found]
    if json_output:
        print_json(make_console(), rows)
        return
    make_console().print(_subscription_table(rows, f"subscriptions: {len(rows)}"))


@app.command("unsubscribe")
def unsubscribe(
    subscription: Annotated[str, typer.Argument(help="The subscription's id.", show_default=False)],
    actor: ActorOption,
    json_output: JsonOption = False,
) -> None:
    """End a subscription (the user's own; an admin's: any): nothing more is sent for it."""
    from clearance.service.subscriptions import subscription_row

    ended = runtime().subscriptions.end(subscription, actor=actor, now=now())
    if json_output:
        print_json(make_console(), subscription_row(ended))
        return
    make_console().print(f"subscription {ended.id} ended", highlight=False)


@app.command("signing-key")
def signing_key(
    subscription: Annotated[
        str, typer.Argument(help="The webhook subscription's id.", show_default=False)
    ],
    actor: ActorOption,
) -> None:
    """The signing key of a webhook subscription, for its receiver to verify signatures with."""
    print(runtime().subscriptions.signing_key(subscription, actor=actor))


@app.command("dead")
def dead(actor: ReaderOption = None, json_output: JsonOption = False) -> None:
    """Notifications given up on after CLEARANCE_NOTIFY_MAX_ATTEMPTS (admins; those about cases
    they may see), newest first, each with its last error."""
    from clearance.service.subscriptions import delivery_row

    found = runtime().subscriptions.dead(actor=reader_id(actor))
    rows = [delivery_row(d.record, d.level) for d in found]
    if json_output:
        print_json(make_console(), rows)
        return
    table = Table(title=f"dead letters: {len(rows)}", title_justify="left")
    for column in ("id", "kind", "about", "to", "attempts", "last error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            row["kind"],
            row["about"],
            Text(f"{row['channel']} {row['address']}"),
            str(row["attempts"]),
            Text(row["last_error"] or ""),
        )
    make_console().print(table)


@app.command("retry")
def retry(
    delivery: Annotated[str, typer.Argument(help="The notification's id.", show_default=False)],
    actor: ReaderOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make a dead notification due again (admins): the next dispatcher round sends it."""
    from clearance.service.subscriptions import delivery_row

    retried = runtime().subscriptions.retry(delivery, actor=reader_id(actor), now=now())
    row = delivery_row(retried.record, retried.level)
    if json_output:
        print_json(make_console(), row)
        return
    make_console().print(f"notification {row['id']} is due again", highlight=False)
