"""``clearance serve``: the HTTP API and the web pages."""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from clearance.errors import InputError

from .context import now, runtime
from .render import make_console

_Address = tuple[Any, Any, int, str, Any]
"""What ``socket.getaddrinfo`` gives for one address."""


def _listen(host: str, port: int) -> list[socket.socket]:
    """Bind every address ``host`` stands for, once, for the server to listen on; refuse in
    one line an address it cannot have, before anything says it serves there.

    Bound here and handed to uvicorn, not probed and let go for uvicorn to bind again:
    nothing can take the port in between, and port 0 (any free port) names one port,
    shared by every address, that the line "serving on" can give. Each address is bound
    as asyncio would (address reuse on, IPv6 apart from IPv4).
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError("--host", f"'{host}' is not an address: {exc.strerror}") from None
    for _ in range(_TRIES if port == 0 else 1):
        try:
            return _bind_all(dict.fromkeys(found), host, port)
        except _PortTaken:
            continue  # port 0: the first address's free port was taken on another
    if port == 0:
        raise InputError("--port", f"no port was free on every address of {host}")
    raise InputError("--port", f"{port} is already in use on {host}")


_TRIES = 5
"""Tries at one free port for every address of a host, when asked for any (port 0)."""


class _PortTaken(Exception):
    """A port in use on one of the addresses."""


def _bind_all(found: Iterable[_Address], host: str, port: int) -> list[socket.socket]:
    """Every address bound and listening, or none (each closed) and why."""
    bound: list[socket.socket] = []
    try:
        for family, kind, protocol, _, address in found:
            try:
                listener = socket.socket(family, kind, protocol)
            except OSError:  # a family this system does not have: asyncio skips it too
                continue
            bound.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if len(bound) > 1:  # the port the first address got, when asked for any
                address = (address[0], bound[0].getsockname()[1], *address[2:])
            try:
                listener.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise _PortTaken from None
                if exc.errno == errno.EACCES:
                    raise InputError(
                        "--port", f"{port} needs privileges this process lacks"
                    ) from None
                problem = exc.strerror or str(exc)
                raise InputError("--host", f"cannot listen on {host}: {problem}") from None
            # Listening now: a connection made once "serving on" is printed waits in the
            # queue for the server instead of being refused.
            listener.listen(_BACKLOG)
    except BaseException:
        for listener in bound:
            listener.close()
        raise
    if not bound:
        raise InputError("--host", f"cannot listen on {host}: no address of it can be bound")
    return bound


_BACKLOG = 2048
"""uvicorn's own default backlog."""


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            "--port", min=0, max=65535, help="Port to listen on; 0 for any free one (printed)."
        ),
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
    listeners = _listen(host, port)
    for listener in listeners:
        listener.set_inheritable(workers > 1)  # worker processes share it, as uvicorn's own
    try:
        _serve_on(listeners, host, workers, demo)
    finally:
        for listener in listeners:
            listener.close()


def _serve_on(listeners: list[socket.socket], host: str, workers: int, demo: bool) -> None:
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

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
    context.pack  # noqa: B018 (a pack that does not load is refused here, once, not by each worker)
    context.database.dispose()
    port = listeners[0].getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    console.print(f"serving on http://{shown}:{port} (API docs at /docs)", highlight=False)
    config = uvicorn.Config(
        "clearance.web.main:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )
    if workers > 1:
        supervisor = Multiprocess(config, sockets=listeners)
        with contextlib.suppress(KeyboardInterrupt):
            supervisor.run()
        started = all(p.exitcode != STARTUP_FAILURE for p in supervisor.processes)
    else:
        server = uvicorn.Server(config)
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=listeners)
        started = server.started
    if not started:
        raise typer.Exit(STARTUP_FAILURE)
