"""``clearance serve``: the HTTP API and the web pages."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from .context import now, runtime


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

    context = runtime(create=demo)
    console = Console(stderr=True)
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
