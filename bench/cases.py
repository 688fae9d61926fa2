"""Cases on a real database: submission, ledger verification, listing, on SQLite and PostgreSQL.

    .venv/bin/python bench/cases.py                    # both databases, default sizes
    .venv/bin/python bench/cases.py --json
    .venv/bin/python bench/cases.py --database sqlite --cases 2000 --events 100000 --listed 20000

For each database (SQLite in WAL mode in a temporary folder; PostgreSQL 15 as a
throwaway cluster started for the run, as the tests do) it measures:

(a) submit + screen: ``CaseService.submit`` of generated requests, one
    transaction each (case, conditions, two ledger events), in cases/s, one at
    a time and then from ``--threads`` threads at once (sharing commits); the
    reference is ``Screener.decide`` of the same requests with no database, so
    the ratio is what keeping the record costs;
(b) ``audit verify`` (``service.audit.verify``, one process per core) over a
    ledger of ``--events`` events, in events/s; the references are reading the
    same events and nothing else, and hashing their link messages, already in
    memory, with ``hashlib``, each in one process (the two floors of a
    one-process verifier of this chain);
(c) one page (50) of open cases, oldest first, with its total, with
    ``--listed`` cases in the database (``CaseService.page``): p50 and p95 over
    repeated calls; the reference is the same two SQL statements (page and
    total) sent as text through the same engine.

The ledger and the listed cases are bulk-loaded from real events and cases
made by (a), with fresh sequence numbers, ids and hashes, so that sizes are
realistic without spending the run on screening a million requests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.databases import postgres_cluster

from clearance.core.access import Level, Role
from clearance.core.chain import GENESIS, Scheme, link_hash
from clearance.core.signing import new_key_pair
from clearance.core.workflow import OPEN_STATES, CaseState
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.service import anchoring, audit
from clearance.service.anchoring import SystemKey
from clearance.service.cases import CaseService
from clearance.service.people import People
from clearance.store.db import Database, open_database
from clearance.store.models import Case, LedgerEvent
from clearance.store.repository import Store
from common import (
    emit,
    machine,
    median,
    percentile,
    request_mix,
    settle_after_bulk_load,
    table,
    tree_of,
)

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
PARTIES = ("UA", "GB", "US")
AUDITOR = "bench.auditor"
"""Who lists the cases in (c): an auditor cleared TOP SECRET sees every case."""
CHUNK = 10_000


@contextmanager
def databases(which: list[str]) -> Iterator[Iterator[tuple[str, str]]]:
    """(name, URL) of each database asked for; the PostgreSQL cluster lives for the run."""
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as folder:
        if "postgresql" not in which:
            yield iter([("sqlite", f"sqlite:///{folder}/bench.db")])
            return
        with postgres_cluster() as cluster:

            def urls() -> Iterator[tuple[str, str]]:
                for name in which:
                    yield (
                        name,
                        f"sqlite:///{folder}/bench.db"
                        if name == "sqlite"
                        else cluster.fresh_database(),
                    )

            yield urls()


def _users(store: Store, screener: Screener) -> None:
    people = People(store, screener.catalog)
    public, _ = new_key_pair("bench passphrase")
    for party in PARTIES:
        people.add_user(
            user_id=f"{party.lower()}.liaison",
            name=f"{party} liaison",
            party=party,
            public_key=public,
            actor="admin",
            now=T0,
        )
    people.add_user(
        user_id=AUDITOR,
        name="Bench auditor",
        party="US",
        public_key=public,
        actor="admin",
        now=T0,
        roles=(Role.AUDITOR,),
        clearance=Level.TOP_SECRET,
    )


def submit_rate(
    service: CaseService, screener: Screener, requests: list[dict[str, Any]], threads: int = 16
) -> dict[str, float]:
    """(a): cases/s through the service, and decisions/s of the same requests without it."""
    from clearance.core.request import parse_request

    parsed = [parse_request(r) for r in requests]
    start = time.perf_counter()
    for number, request in enumerate(parsed):
        screener.decide(request, decision_id=str(number), now=T0)
    reference = len(parsed) / (time.perf_counter() - start)
    start = time.perf_counter()
    for number, request in enumerate(requests):
        service.submit(
            request,
            actor=f"{request['requester'].lower()}.liaison",
            now=T0 + dt.timedelta(seconds=number),
            idempotency_key=f"bench-{number}",
        )
    rate = len(requests) / (time.perf_counter() - start)
    return {
        "cases_per_s": rate,
        "decide_per_s": reference,
        "ratio": rate / reference,
        "threaded_cases_per_s": _threaded_rate(service, requests, threads),
        "threads": threads,
    }


def _threaded_rate(service: CaseService, requests: list[dict[str, Any]], threads: int) -> float:
    """Cases/s of the same requests (new keys) submitted from ``threads`` threads at once:
    submissions that arrive together share a transaction and its commit."""
    import threading

    def submit(first: int) -> None:
        for number in range(first, len(requests), threads):
            request = requests[number]
            service.submit(
                request,
                actor=f"{request['requester'].lower()}.liaison",
                now=T0 + dt.timedelta(seconds=number),
                idempotency_key=f"bench-threaded-{number}",
            )

    workers = [threading.Thread(target=submit, args=(k,)) for k in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(requests) / (time.perf_counter() - start)


def _grow_ledger(database: Database, key: SystemKey, events: int) -> None:
    """Extend the ledger to ``events`` links by repeating its real bodies, each sealed, and
    checkpoint the head (so verification checks the chain and the anchors, as it does after
    a day's work; bench/ledger.py measures seals and the tables' facts)."""
    with database.engine.begin() as connection:
        rows = connection.execute(
            select(
                LedgerEvent.seq, LedgerEvent.case_id, LedgerEvent.body, LedgerEvent.hash
            ).order_by(LedgerEvent.seq)
        ).all()
        templates = [(r[1], r[2]) for r in rows]
        seq, prev = (int(rows[-1][0]), str(rows[-1][3])) if rows else (0, GENESIS)
        batch: list[dict[str, Any]] = []
        while seq < events:
            case_id, body = templates[seq % len(templates)]
            seq += 1
            digest = link_hash(seq, case_id, prev, body)
            batch.append(
                {
                    "seq": seq,
                    "case_id": case_id,
                    "type": json.loads(body)["type"],
                    "prev_hash": prev,
                    "body": body,
                    "hash": digest,
                    "scheme": Scheme.V2,
                    "seal": key.seal(seq, digest),
                }
            )
            prev = digest
            if len(batch) == CHUNK:
                connection.execute(insert(LedgerEvent), batch)
                batch = []
        if batch:
            connection.execute(insert(LedgerEvent), batch)
    anchoring.checkpoint(Store(database, sealer=key), now=T0, reason="bench")


def verify_rate(store: Store, events: int, rounds: int) -> dict[str, Any]:
    """(b): events/s of ``audit verify`` (chain and anchors); of reading the same events and
    nothing else, in one process; and of bare hashing of them, already in memory, in one
    process: the two floors a one-process verifier sits above."""
    rates, fetches, floors = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        report = audit.verify(store, tables=False)
        rates.append(report.events / (time.perf_counter() - start))
        if not report.ok or report.events != events:
            raise SystemExit(f"the bench ledger does not verify: {report}")
        start = time.perf_counter()
        for _batch in store.ledger_rows(1, events, audit.BATCH):
            pass
        fetches.append(events / (time.perf_counter() - start))
        rows = [row for batch in store.ledger_rows(1, events) for row in batch]
        start = time.perf_counter()
        for seq, _, _, _, prev, _, body, _ in rows:
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            hashlib.sha256(
                f"clearance-ledger/2\x1f{seq}\x1f{prev}\x1f{digest}".encode()
            ).hexdigest()
        floors.append(len(rows) / (time.perf_counter() - start))
        del rows
    return {
        "events": events,
        "events_per_s": median(rates),
        "fetch_floor_per_s": median(fetches),
        "hash_floor_per_s": median(floors),
        "ratio": median(rates) / median(floors),
    }


def _grow_cases(database: Database, total: int) -> None:
    """Copy real cases (new ids, numbers and ages) until there are ``total``; a fifth open."""
    with database.engine.begin() as connection:
        real = [dict(r._mapping) for r in connection.execute(select(Case)).all()]
        number = max(r["number"] for r in real)
        batch: list[dict[str, Any]] = []
        open_states = sorted(OPEN_STATES)
        closed = [s.value for s in CaseState if s.value not in OPEN_STATES]
        while number < total:
            number += 1
            row = dict(real[number % len(real)])
            created = T0 - dt.timedelta(minutes=number)
            state = (
                open_states[number % len(open_states)] if number % 5 == 0 else closed[number % 3]
            )
            row.update(
                id=str(uuid.uuid4()),
                number=number,
                idempotency_key=None,
                state=state,
                is_open=state in OPEN_STATES,
                created_at=created,
                state_since=created,
            )
            batch.append(row)
            if len(batch) == CHUNK:
                connection.execute(insert(Case), batch)
                batch = []
        if batch:
            connection.execute(insert(Case), batch)
    settle_after_bulk_load(database)


def list_latency(service: CaseService, database: Database, calls: int) -> dict[str, float]:
    """(c): one page of open cases with its total, through the service and as bare SQL."""
    states = sorted(OPEN_STATES)
    timings, bare = [], []
    page_sql = text("SELECT * FROM cases WHERE is_open = true ORDER BY created_at, number LIMIT 50")
    count_sql = text("SELECT count(*) FROM cases WHERE is_open = true")
    for _ in range(calls):
        start = time.perf_counter()
        found, total = service.page(actor=AUDITOR, states=states, limit=50, offset=0)
        timings.append(time.perf_counter() - start)
        with database.engine.connect() as connection:
            start = time.perf_counter()
            rows = connection.execute(page_sql).all()
            connection.execute(count_sql).scalar()
            bare.append(time.perf_counter() - start)
        if len(found) != 50 or len(rows) != 50 or total < 50:
            raise SystemExit("the bench database has too few open cases")
    timings.sort()
    bare.sort()
    return {
        "p50_ms": percentile(timings, 0.5) * 1e3,
        "p95_ms": percentile(timings, 0.95) * 1e3,
        "sql_p50_ms": percentile(bare, 0.5) * 1e3,
        "sql_p95_ms": percentile(bare, 0.95) * 1e3,
    }


def _fresh_store(url: str, screener: Screener) -> tuple[Database, SystemKey, Store, CaseService]:
    """A migrated database at ``url`` with a system key of its own and the demo users."""
    database = open_database(url)
    database.migrate()
    key = SystemKey.create(Path(tempfile.mkdtemp(prefix="clearance-bench-")) / "system.key")
    store = Store(database, sealer=key)
    _users(store, screener)
    return database, key, store, CaseService(store, screener, default_sla_days=14)


def run_one(url: str, args: argparse.Namespace, screener: Screener) -> dict[str, Any]:
    database, key, store, service = _fresh_store(url, screener)
    requests = request_mix([s.id for s in screener.catalog.systems], args.cases)
    result: dict[str, Any] = {"submit": submit_rate(service, screener, requests, args.threads)}
    _grow_ledger(database, key, args.events)
    result["verify"] = verify_rate(store, args.events, args.rounds)
    _grow_cases(database, args.listed)
    result["list"] = {"cases": args.listed, **list_latency(service, database, args.calls)}
    database.dispose()
    return result


def submit_only(url: str, args: argparse.Namespace, screener: Screener) -> dict[str, float]:
    """(a) alone, on a fresh database at ``url``."""
    database, _, _, service = _fresh_store(url, screener)
    requests = request_mix([s.id for s in screener.catalog.systems], args.cases)
    try:
        return submit_rate(service, screener, requests, args.threads)
    finally:
        database.dispose()


def _submit_in(src: Path, url: str, args: argparse.Namespace) -> dict[str, float]:
    """(a) by the code in ``src``, in a process of its own."""
    command = [sys.executable, __file__, "--url", url, "--cases", str(args.cases)]
    command += ["--threads", str(args.threads)]
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"measuring {src} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout)["submit"])


def compare(args: argparse.Namespace, which: list[str]) -> dict[str, Any]:
    """(a) by ``--before``'s code and by this tree's, alternating round by round on fresh
    databases, so that the machine's load falls on both alike; medians of the rounds."""
    now_src = Path(__file__).resolve().parents[1] / "src"
    sides: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tree_of(args.before) as before_src, _fresh(which) as fresh:
        for name in which:
            print(f"… {name}", file=sys.stderr)
            found = sides.setdefault(name, {"before": [], "now": []})
            for _ in range(args.rounds):
                found["before"].append(_submit_in(before_src, fresh(name), args))
                found["now"].append(_submit_in(now_src, fresh(name), args))
    keys = ("cases_per_s", "threaded_cases_per_s", "decide_per_s")
    return {
        "machine": machine(),
        "load_average": os.getloadavg(),
        "before": args.before,
        "cases": args.cases,
        "threads": args.threads,
        "databases": {
            name: {
                side: {
                    **{k: median([r[k] for r in rounds]) for k in keys},
                    "rounds": [{k: round(r[k], 1) for k in keys} for r in rounds],
                }
                for side, rounds in found.items()
            }
            for name, found in sides.items()
        },
    }


@contextmanager
def _fresh(which: list[str]) -> Iterator[Callable[[str], str]]:
    """A fresh database of the kind named each time the function given is called."""
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as folder, ExitStack() as stack:
        cluster = stack.enter_context(postgres_cluster()) if "postgresql" in which else None
        made = count(1)

        def fresh(name: str) -> str:
            if name == "sqlite":
                return f"sqlite:///{folder}/bench-{next(made)}.db"
            assert cluster is not None
            return str(cluster.fresh_database())

        yield fresh


def compared(result: dict[str, Any]) -> str:
    rows = []
    for name, sides in result["databases"].items():
        for side in ("before", "now"):
            r = sides[side]
            label = name if side == "now" else f"{name}, {result['before']}"
            rows.append(
                [
                    label,
                    f"{r['cases_per_s']:,.0f}",
                    f"{r['threaded_cases_per_s']:,.0f}",
                    f"{r['decide_per_s']:,.0f}",
                ]
            )
    load = ", ".join(f"{x:.1f}" for x in result["load_average"])
    return "\n".join(
        [
            f"(a) {result['cases']:,} cases, one at a time and from {result['threads']} threads;"
            f" medians of rounds; load average {load}",
            table(["database", "cases/s", "cases/s (threads)", "decide/s (no db)"], rows),
        ]
    )


def report(result: dict[str, Any]) -> str:
    rows = []
    for name, r in result["databases"].items():
        s, v, li = r["submit"], r["verify"], r["list"]
        rows.append(
            [
                name,
                f"{s['cases_per_s']:,.0f}",
                f"{s['threaded_cases_per_s']:,.0f}",
                f"{s['decide_per_s']:,.0f}",
                f"{v['events_per_s']:,.0f}",
                f"{v['fetch_floor_per_s']:,.0f}",
                f"{v['hash_floor_per_s']:,.0f}",
                f"{li['p50_ms']:.1f}",
                f"{li['p95_ms']:.1f}",
                f"{li['sql_p95_ms']:.1f}",
            ]
        )
    sizes = result["sizes"]
    return "\n".join(
        [
            f"{sizes['cases']:,} submitted cases; {sizes['events']:,} ledger events;"
            f" {sizes['listed']:,} cases listed ({sizes['calls']} page calls)",
            table(
                [
                    "database",
                    "cases/s",
                    "cases/s (threads)",
                    "decide/s (no db)",
                    "verify ev/s",
                    "read only/s",
                    "sha256 floor/s",
                    "page p50 ms",
                    "page p95 ms",
                    "bare SQL p95 ms",
                ],
                rows,
            ),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cases", type=int, default=10_000, help="cases to submit (a)")
    parser.add_argument("--threads", type=int, default=16, help="submitting threads (a)")
    parser.add_argument("--events", type=int, default=1_000_000, help="ledger size for (b)")
    parser.add_argument("--rounds", type=int, default=3, help="verifications of the ledger")
    parser.add_argument("--listed", type=int, default=100_000, help="cases in the database (c)")
    parser.add_argument("--calls", type=int, default=200, help="page calls (c)")
    parser.add_argument(
        "--before", metavar="REF", help="(a) only, by REF's code too, round by round, same run"
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)  # (a) once on this database
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    which = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    screener = Screener(load_pack())
    if args.url:
        return emit({"submit": submit_only(args.url, args, screener)}, True, str)
    if args.before:
        return emit(compare(args, which), args.json, compared)
    results: dict[str, Any] = {}
    with databases(which) as urls:
        for name, url in urls:
            print(f"… {name}", file=sys.stderr)
            results[name] = run_one(url, args, screener)
    result = {
        "machine": machine(),
        "sizes": {
            "cases": args.cases,
            "events": args.events,
            "listed": args.listed,
            "calls": args.calls,
        },
        "databases": results,
    }
    return emit(result, args.json, report)


if __name__ == "__main__":
    sys.exit(main())
