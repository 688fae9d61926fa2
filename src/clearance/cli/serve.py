"""``clearance serve``: the HTTP API and the web pages."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer

from clearance.errors import InputError

from .context import now, runtime
from .render import make_console


def _check_address(host: str, port: int) -> None:
    """Refuse in one line an address the server could not listen on, before anything says
    it serves there: uvicorn would find out only after that, and say it in its own words.

    Each address ``host`` stands for is bound as the server will bind it (address reuse
    on, IPv6 apart from IPv4), then let go at once.
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError("--host", f"'{host}' is not an address: {exc.strerror}") from None
    for family, kind, protocol, _, address in found:
        try:
            probe = socket.socket(family, kind, protocol)
        except OSError:  # a family this system does not have: the server skips it too
            continue
        with probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise InputError("--port", f"{port} is already in use on {host}") from None
                problem = exc.strerror or str(exc)
                raise InputError("--host", f"cannot listen on {host}: {problem}") from None


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Worker processes (each a full server).")
    ] = 1,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Set up the database and, if it has no users, demo users and cases."
        ),
    ] = False,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /docs) and the web pages."""
    import uvicorn

    _check_address(host, port)
    context = runtime(create=demo)
    console = make_console(stderr=True)
    if demo:
        from clearance.service.anchoring import prepare
        from clearance.service.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
        from clearance.service.keyfiles import write_key_file

        prepare(context.store, context.settings.system_key, now=now())
        added = seed_demo(
            context.people,
            context.accounts,
            context.cases,
            write_key=lambda user, key: write_key_file(context.key_path(user, None), key),
            now=now(),
        )
        if added:
            names = ", ".join(u.id for u in DEMO_USERS)
            console.print(f"demo users: {names}; password and key passphrase: {DEMO_PASSWORD}")
    context.database.dispose()
    console.print(f"serving on http://{host}:{port} (API docs at /docs)", highlight=False)
    uvicorn.run(
        "clearance.web.main:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )
