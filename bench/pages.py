"""Server time of every web page with 100,000 cases in the database.

    .venv/bin/python bench/pages.py                     # SQLite, 100,000 cases, 30 calls a page
    .venv/bin/python bench/pages.py --database postgresql --json

The application runs in this process and each page is requested through
httpx's ASGI transport (no sockets), so the time measured is the server's:
routing, authentication, the database, rendering. The database holds the
demo users and cases, grown to ``--cases`` with copies of the real cases
(new ids, numbers and ages, a fifth of them open, levels spread over all
four); then ``ANALYZE`` / ``VACUUM ANALYZE``. Each page is timed as a reader
cleared TOP SECRET (sees everything) and as one cleared CONFIDENTIAL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cases import _grow_cases, databases
from clearance.core.access import Level, Role
from clearance.service.demo import DEMO_PASSWORD, seed_demo
from clearance.service.runtime import Runtime
from clearance.settings import load_settings
from clearance.store.models import Case, DecisionCount
from clearance.web.app import create_app
from common import emit, machine, percentile, table

PAGES = (
    "/dashboard",
    "/cases",
    "/cases?all=1",
    "/cases?all=1&q=atacms",
    "/cases/3",
    "/requests/new",
    "/catalog",
    "/catalog/storm-shadow",
    "/policy",
    "/policy/US",
    "/ledger",
)


def _recount_decisions(connection: Any) -> None:
    """The copied cases bypassed the repository: count their decisions as it would have."""
    found: Counter[tuple[str, str, int]] = Counter()
    rows = connection.execute(
        select(Case.decided_at, Case.decided_as, Case.classification).where(
            Case.decided_at.is_not(None)
        )
    )
    for decided_at, kind, level in rows:
        found[(f"{decided_at:%Y-%m}", kind, level)] += 1
    connection.execute(delete(DecisionCount))
    connection.execute(
        insert(DecisionCount),
        [{"month": m, "kind": k, "level": v, "count": n} for (m, k, v), n in found.items()],
    )


async def _time_pages(app: Any, user: str, calls: int) -> dict[str, dict[str, float]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        signed = await client.post(
            "/api/v1/session", json={"user": user, "password": DEMO_PASSWORD}
        )
        signed.raise_for_status()
        found: dict[str, dict[str, float]] = {}
        for page in PAGES:
            await client.get(page)  # warm-up: templates compiled, caches filled
            timings = []
            for _ in range(calls):
                start = time.perf_counter()
                answer = await client.get(page)
                timings.append(time.perf_counter() - start)
                if answer.status_code != 200:
                    raise SystemExit(f"{page} as {user}: {answer.status_code}")
            timings.sort()
            found[page] = {
                "p50_ms": percentile(timings, 0.5) * 1e3,
                "p95_ms": percentile(timings, 0.95) * 1e3,
            }
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="clearance-pages-") as folder,
        databases([args.database]) as urls,
    ):
        _, url = next(iter(urls))
        settings = load_settings({"CLEARANCE_DATA_DIR": folder, "CLEARANCE_DATABASE_URL": url})
        server = Runtime(settings)
        server.prepare()

        def write_key(user: str, pem: bytes) -> None:
            path = server.key_path(user)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pem)

        seed_demo(
            server.people, server.accounts, server.cases, write_key=write_key, now=server.now()
        )
        for reader, level in (
            ("us.reviewer", Level.TOP_SECRET),
            ("conf.reviewer", Level.CONFIDENTIAL),
        ):
            server.accounts.set_access(  # every page open to both readers
                reader,
                roles=(Role.REQUESTER, Role.REVIEWER, Role.AUDITOR),
                clearance=level,
                actor="admin",
                now=server.now(),
            )
        _grow_cases(server.database, args.cases)
        with server.database.engine.begin() as connection:
            connection.execute(
                text("UPDATE cases SET classification = number % 4 WHERE number > 4")
            )
            _recount_decisions(connection)
        app = create_app(server)
        result = {
            reader: asyncio.run(_time_pages(app, reader, args.calls))
            for reader in ("us.reviewer", "conf.reviewer")
        }
        server.database.dispose()
    return {
        "machine": machine(),
        "database": args.database,
        "cases": args.cases,
        "calls": args.calls,
        "pages": result,
    }


def report(result: dict[str, Any]) -> str:
    top, conf = result["pages"]["us.reviewer"], result["pages"]["conf.reviewer"]
    rows = [
        [
            page,
            f"{top[page]['p50_ms']:.1f}",
            f"{top[page]['p95_ms']:.1f}",
            f"{conf[page]['p50_ms']:.1f}",
            f"{conf[page]['p95_ms']:.1f}",
        ]
        for page in PAGES
    ]
    return "\n".join(
        [
            f"{result['cases']:,} cases, {result['database']}, {result['calls']} calls a page",
            table(
                ["page", "TOP SECRET p50", "p95 ms", "CONFIDENTIAL p50", "p95 ms"],
                rows,
            ),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    return emit(run(args), args.json, report)


if __name__ == "__main__":
    sys.exit(main())
