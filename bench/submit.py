"""Submitting a case through the web app: database round trips per submission, and cases/s.

    .venv/bin/python bench/submit.py                          # both databases
    .venv/bin/python bench/submit.py --database sqlite --cases 200 --rounds 5 --json
    .venv/bin/python bench/submit.py --show                   # and the statements sent
    .venv/bin/python bench/submit.py --before 95eff85         # that commit too, same run

``--before REF`` checks REF out into a temporary worktree and measures it in
the same run, on fresh databases of the same cluster, one database at a time
(before, then now), each in a process of its own importing its own tree.

For each database (SQLite in WAL mode in a temporary folder; PostgreSQL as a
throwaway cluster, as bench/cases.py and the tests start it) a real server is
opened with the real settings loader, migrated and given the demo users
(``service.demo``), and ``POST /api/v1/cases`` is sent through the real ASGI
application in process (httpx over ``ASGITransport``) with an API token of
``ua.liaison``, one request at a time.

Round trips are counted on the store's engine: every statement
(``before_cursor_execute``) and every COMMIT and ROLLBACK. They are grouped by
the transaction they ran in (from its ``begin`` to its end) and each group is
named by what it touched: the **credential lookup** (the transaction that reads
``api_tokens``), the **writing transaction** (the one that inserts into
``cases``), and **other** (any other transaction of the request). A driver's
own round trips are not seen by these events (PostgreSQL's BEGIN, which
psycopg sends before the first statement of a transaction, and the pool's
pre-ping on checkout), so the PostgreSQL numbers are a floor.

Each round submits ``--cases`` cases; the table gives the median over rounds of
the per-submission median of each count, and the median of the rounds' cases/s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.databases import postgres_cluster

from clearance.service.anchoring import prepare
from clearance.service.demo import seed_demo
from clearance.settings import load_settings
from clearance.web.app import create_app
from common import emit, machine, median, table

USER = "ua.liaison"
_MESSAGES = re.compile(r"\n(?=[FB]\t)")
_MESSAGE = re.compile(r"^F\t\d+\t(\w+)\t?(.*)$", re.S)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
KINDS = ("credential", "writing", "other")


def request_body(number: int) -> dict[str, Any]:
    """The seed story's request, with a different quantity and date each time."""
    return {
        "action": "employ",
        "requester": "UA",
        "system": "atacms",
        "quantity": 1 + number % 50,
        "target": {"territory": "RU"},
        "date": (dt.date(2025, 1, 1) + dt.timedelta(days=number % 300)).isoformat(),
    }


@dataclass
class Use:
    """One checkout of a connection from the pool, to its return."""

    sent: list[str] = field(default_factory=list)
    """What went to the database: PostgreSQL's protocol messages that wait for an answer
    (a Query, or a Sync closing a Parse/Bind/Execute), SQLite's statements run."""
    seen: int = 0
    """Statements SQLAlchemy's ``before_cursor_execute`` saw."""

    @property
    def kind(self) -> str:
        text = " ".join(self.sent).lower()
        if "insert into cases" in text:
            return "writing"
        if "api_tokens" in text:
            return "credential"
        return "other"


class RoundTrips:
    """What each connection sends between its checkout and its return to the pool.

    PostgreSQL: libpq's trace of the protocol (every message psycopg sends, BEGIN, COMMIT,
    the pool's pre-ping and statements sent on the driver's own cursor included); a round
    trip is a message the client then waits on. SQLite: ``sqlite3``'s trace callback, one
    line per statement run (no network; each is a call into the library)."""

    def __init__(self, engine: Any, folder: Path) -> None:
        self.lock = threading.Lock()
        self.sqlite = engine.dialect.name == "sqlite"
        self.folder = folder
        self.files: dict[int, tuple[Any, Any]] = {}
        self.lines: dict[int, list[str]] = {}
        self.prepared: dict[int, dict[str, str]] = {}
        self.pgconns: dict[int, Any] = {}
        self.open: dict[int, Use] = {}
        self.done: list[Use] = []
        event.listen(engine, "connect", self._connect)
        event.listen(engine.pool, "checkout", self._checkout)
        event.listen(engine.pool, "checkin", self._checkin)
        event.listen(engine, "before_cursor_execute", self._statement)

    def _connect(self, dbapi_connection: Any, record: Any) -> None:
        key = id(dbapi_connection)
        if self.sqlite:
            self.lines[key] = []
            dbapi_connection.set_trace_callback(self.lines[key].append)
            return
        from psycopg import pq

        path = self.folder / f"trace-{key}.txt"
        trace = open(path, "w")  # noqa: SIM115 (lives with the connection)
        self.files[key] = (trace, open(path))  # noqa: SIM115 (read from here, at its own offset)
        self.pgconns[key] = dbapi_connection.pgconn
        dbapi_connection.pgconn.trace(trace.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    def _checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        with self.lock:
            # Sent during the checkout itself: the pool's pre-ping (PostgreSQL).
            self.open[id(dbapi_connection)] = Use(sent=self._drain(id(dbapi_connection)))

    def _statement(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        with self.lock:
            use = self.open.get(id(connection.connection.dbapi_connection))
            if use is not None:
                use.seen += 1

    def _checkin(self, dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is None:
            return
        with self.lock:
            key = id(dbapi_connection)
            use = self.open.pop(key, None)
            sent = self._drain(key)
            if use is not None:
                use.sent = sent
                self.done.append(use)

    def _drain(self, key: int) -> list[str]:
        """What the connection sent since the last look."""
        if self.sqlite:
            lines = self.lines.get(key, [])
            sent, lines[:] = list(lines), []
            return sent
        if key not in self.files:
            return []
        trace, reader = self.files[key]
        from psycopg import pq

        pgconn = self.pgconns[key]
        pgconn.untrace()  # libpq buffers its trace: this flushes it
        text = reader.read()
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        return self._messages(key, text)

    def _messages(self, key: int, text: str) -> list[str]:
        """A round trip per Query, and per Sync closing a Parse/Bind/Execute run (named by
        the statement it ran: psycopg prepares a statement it runs often, and then only
        binds it by name)."""
        names = self.prepared.setdefault(key, {})
        sent, current = [], ""
        for line in _MESSAGES.split(text):  # a statement's text may span lines
            match = _MESSAGE.match(line)
            if match is None:
                continue
            kind, quoted = match.group(1), _QUOTED.findall(match.group(2))
            if kind == "Query":
                sent.append(quoted[0] if quoted else "")
            elif kind == "Parse" and len(quoted) >= 2:
                names[quoted[0]] = current = quoted[1]
            elif kind == "Bind" and len(quoted) >= 2 and quoted[1]:
                current = names.get(quoted[1], current)
            elif kind == "Sync":
                sent.append(current)
        return sent

    def take(self) -> list[Use]:
        with self.lock:
            taken, self.done = self.done, []
        return taken


def open_world(url: str, folder: Path) -> Any:
    """The process's services on ``url``: a ``Runtime``, or, in a tree from before there was
    one (``--before``), the web's ``Server``, which has the same attributes used here."""
    settings = load_settings(
        {"CLEARANCE_DATA_DIR": str(folder / "data"), "CLEARANCE_DATABASE_URL": url}
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        from clearance.service.runtime import Runtime
    except ImportError:
        from clearance.web.context import open_server  # type: ignore[import-not-found]

        server = open_server(settings)
    else:
        server = Runtime(settings)
    now = server.now()
    prepare(server.store, settings.system_key, now=now)

    def write_key(user: str, pem: bytes) -> None:
        path = server.key_path(user)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pem)

    seed_demo(server.people, server.accounts, server.cases, write_key=write_key, now=now)
    return server


async def submit_round(
    client: httpx.AsyncClient, counter: RoundTrips, start: int, cases: int
) -> tuple[float, list[dict[str, int]], list[Use]]:
    """One round: cases/s and, per submission, round trips by kind."""
    per_case: list[dict[str, int]] = []
    others: list[Use] = []
    first: list[Use] = []
    counter.take()
    elapsed = 0.0
    for number in range(start, start + cases):
        began = time.perf_counter()
        response = await client.post(
            "/api/v1/cases",
            json=request_body(number),
            headers={"Idempotency-Key": f"bench-{number}"},
        )
        elapsed += time.perf_counter() - began
        assert response.status_code == 201, response.text
        counts = Counter(dict.fromkeys(KINDS, 0))
        uses = counter.take()
        for use in uses:
            counts[use.kind] += len(use.sent)
            counts[f"{use.kind}_seen"] += use.seen
            if use.kind == "other":
                others.append(use)
        counts["checkouts"] = len(uses)
        per_case.append(dict(counts))
        if number == start:
            first[:] = uses
    others.append(Use(sent=["-- the first submission of the round:"]))
    others += [Use(sent=[f"[{u.kind}]", *u.sent]) for u in first]
    return cases / elapsed, per_case, others


def run_one(url: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="clearance-bench-submit-") as folder:
        server = open_world(url, Path(folder))
        try:
            token, _ = server.accounts.issue_token(USER, "bench", actor=USER, now=server.now())
            server.database.engine.dispose()  # new connections, traced from their start
            counter = RoundTrips(server.database.engine, Path(folder))
            app = create_app(server)
            transport = httpx.ASGITransport(app=app)

            async def rounds() -> dict[str, Any]:
                async with httpx.AsyncClient(
                    transport=transport,
                    base_url="http://bench",
                    headers={"Authorization": f"Bearer {token}"},
                ) as client:
                    await submit_round(client, counter, 0, min(20, args.cases))  # warm up
                    rates, counts, others = [], [], []
                    for index in range(args.rounds):
                        rate, per_case, other = await submit_round(
                            client, counter, (index + 1) * args.cases, args.cases
                        )
                        rates.append(rate)
                        counts.append(per_case)
                        others += other
                return {"rates": rates, "counts": counts, "others": others}

            measured = asyncio.run(rounds())
        finally:
            server.database.dispose()
    keys = [*KINDS, *(f"{k}_seen" for k in KINDS), "checkouts"]
    per_round = {
        key: [median([c.get(key, 0) for c in round_counts]) for round_counts in measured["counts"]]
        for key in keys
    }
    trips = {key: median(values) for key, values in per_round.items()}
    trips["total"] = sum(trips[k] for k in KINDS)
    every = [c for round_counts in measured["counts"] for c in round_counts]
    trips["other_mean"] = statistics.fmean(c.get("other", 0) for c in every)
    trips["seen"] = sum(trips[f"{k}_seen"] for k in KINDS)
    other_statements = Counter(" | ".join(_short(s) for s in u.sent) for u in measured["others"])
    runs = args.rounds * args.cases
    return {
        "cases_per_s": median(measured["rates"]),
        "cases_per_s_rounds": [round(r, 1) for r in measured["rates"]],
        "round_trips": trips,
        "other_transactions": [
            {"statements": text, "per_submission": n / runs}
            for text, n in other_statements.most_common()
        ],
    }


def _short(statement: str) -> str:
    words = " ".join(statement.split())
    return words if len(words) <= 60 else words[:57] + "..."


def report(result: dict[str, Any]) -> str:
    rows = []
    for name, r in result["databases"].items():
        t = r["round_trips"]
        rows.append(
            [
                name,
                f"{t['credential']:g}",
                f"{t['writing']:g}",
                f"{t['other']:g} ({t['other_mean']:.2f})",
                f"{t['total']:g}",
                f"{t['seen']:g}",
                f"{t['checkouts']:g}",
                f"{r['cases_per_s']:,.0f}",
            ]
        )
    lines = [
        f"POST /api/v1/cases, {result['cases']} cases x {result['rounds']} rounds, medians",
        "",
        table(
            [
                "database",
                "credential",
                "writing",
                "other (mean)",
                "total",
                "seen",
                "checkouts",
                "cases/s",
            ],
            rows,
        ),
    ]
    if result["show"]:
        for name, r in result["databases"].items():
            lines += ["", f"{name}: other transactions (statements; per submission)"]
            for other in r["other_transactions"][:20]:
                lines.append(f"  {other['per_submission']:.3f}  {other['statements']}")
    return "\n".join(lines)


ROOT = Path(__file__).resolve().parent.parent


def measure_before(ref: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """``run_one`` on ``url`` by the code of ``ref``, in a process of its own."""
    with tempfile.TemporaryDirectory(prefix="clearance-bench-before-") as folder:
        tree = Path(folder) / "tree"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(tree), ref], check=True, capture_output=True)
        try:
            command = [sys.executable, __file__, "--url", url, "--json"]
            command += ["--cases", str(args.cases), "--rounds", str(args.rounds)]
            env = {**os.environ, "PYTHONPATH": str(tree / "src")}
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"measuring {ref} failed:\n{done.stderr}")
            return dict(json.loads(done.stdout)["databases"]["url"])
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=False)


def _urls(which: list[str], folder: str) -> Any:
    """A fresh database of each kind each time it is asked for."""
    count = 0

    def fresh(name: str, cluster: Any) -> str:
        nonlocal count
        count += 1
        return (
            f"sqlite:///{folder}/bench-{count}.db" if name == "sqlite" else cluster.fresh_database()
        )

    return fresh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cases", type=int, default=200, help="submissions per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", metavar="REF", help="measure this commit too, same run")
    parser.add_argument("--url", help=argparse.SUPPRESS)  # one database, for --before
    parser.add_argument("--show", action="store_true", help="list the other transactions")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    which = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results: dict[str, Any] = {}
    if args.url:
        results["url"] = run_one(args.url, args)
    else:
        with tempfile.TemporaryDirectory(prefix="clearance-bench-") as folder:
            fresh = _urls(which, folder)
            cluster_needed = "postgresql" in which
            with postgres_cluster() if cluster_needed else _no_cluster() as cluster:
                for name in which:
                    if args.before:
                        before = measure_before(args.before, fresh(name, cluster), args)
                        results[f"{name}, {args.before}"] = before
                    results[name] = run_one(fresh(name, cluster), args)
    result = {
        "benchmark": "submit",
        "cases": args.cases,
        "rounds": args.rounds,
        "show": args.show,
        "machine": machine(),
        "databases": results,
    }
    return emit(result, args.json, report)


@contextmanager
def _no_cluster() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    raise SystemExit(main())
