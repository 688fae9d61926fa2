"""Replay of stored cases under a candidate bundle: cases/s on 1 and on 2 worker processes.

    .venv/bin/python bench/replay.py                   # SQLite, 100,000 cases, 3 repeats
    .venv/bin/python bench/replay.py --database postgresql --cases 20000 --json

The cases are the benchmark mix (bench/common.py), decided by
``Screener.decide_many`` as submission decides them and bulk-inserted as real
case rows (request, decision, state and the derived columns), so replay reads
what it reads in production. Then, for each repeat, it measures:

- the reference: ``Screener.decide_many`` of the same requests with no
  database, in batches of 500 (replay's batch size), in decisions/s;
- ``service.replay.replay`` of every case under the US bundle of 2024-11-17,
  on 1 worker (in the reading process) and on 2 worker processes, in cases/s.

It reports medians of the repeats, the speed-up of 2 workers over 1, the
ratio of replay on 1 worker to the reference, and peak resident memory of the
reading process and of the largest worker.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.databases import postgres_cluster

from clearance.core.digest import canonical_json
from clearance.core.request import parse_request
from clearance.core.signing import new_key_pair
from clearance.core.workflow import OPEN_STATES, state_after_screening
from clearance.policy.engine import Screener
from clearance.policy.pack import default_pack_path, load_pack
from clearance.service.anchoring import SystemKey
from clearance.service.people import People
from clearance.service.replay import replay
from clearance.store.db import open_database
from clearance.store.models import Case
from clearance.store.repository import Store
from common import emit, machine, median, peak_rss_mib, request_mix, rss_mib, table

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
CANDIDATE = default_pack_path() / "bundles" / "US" / "2024-11-17"
BATCH = 500
CHUNK = 10_000
PARTIES = ("UA", "GB", "US")


@contextmanager
def database_url(which: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as folder:
        if which == "sqlite":
            yield f"sqlite:///{folder}/bench.db"
            return
        with postgres_cluster() as cluster:
            yield cluster.fresh_database()


def decide_rate(screener: Screener, requests: list[Any]) -> float:
    """Decisions/s of ``decide_many`` over the requests, in replay's batches."""
    start = time.perf_counter()
    for first in range(0, len(requests), BATCH):
        chunk = requests[first : first + BATCH]
        screener.decide_many(chunk, decision_ids=[str(i) for i in range(len(chunk))], now=T0)
    return len(requests) / (time.perf_counter() - start)


def store_cases(store: Store, screener: Screener, mix: list[dict[str, Any]]) -> None:
    """Decide every request once and insert it as a case row, as submission would write it."""
    database = store.database
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
    number = 0
    with database.engine.begin() as connection:
        for first in range(0, len(mix), CHUNK):
            chunk = [parse_request(r) for r in mix[first : first + CHUNK]]
            ids = [str(uuid.uuid4()) for _ in chunk]
            rows = []
            for decision in screener.decide_many(chunk, decision_ids=ids, now=T0):
                number += 1
                facts = decision.as_dict()
                state = state_after_screening(decision.outcome.value, bool(decision.conditions))
                created = T0 + dt.timedelta(seconds=number)
                decided = state.value not in OPEN_STATES
                rows.append(
                    {
                        "id": decision.decision_id,
                        "number": number,
                        "idempotency_key": None,
                        "submitted_by": f"{facts['request']['requester'].lower()}.liaison",
                        "request": canonical_json(facts["request"]).decode(),
                        "request_digest": decision.request_digest,
                        "decision": canonical_json(facts).decode(),
                        "outcome": decision.outcome.value,
                        "state": state.value,
                        "is_open": not decided,
                        "classification": 0,
                        "system": facts["request"]["system"],
                        "requester": facts["request"]["requester"],
                        "decided_at": created if decided else None,
                        "decided_as": state.value if decided else None,
                        "due_at": created + dt.timedelta(days=14)
                        if state.value == "in_review"
                        else None,
                        "sla_days": 14,
                        "version": 1,
                        "created_at": created,
                        "state_since": created,
                    }
                )
            connection.execute(insert(Case), rows)


def replay_rate(store: Store, workers: int) -> tuple[float, int, int]:
    """(cases/s, cases examined, cases changed) of one replay of every case."""
    start = time.perf_counter()
    report = replay(store, None, CANDIDATE, first=None, last=None, now=T0, workers=workers)
    return report.examined / (time.perf_counter() - start), report.examined, len(report.changes)


def run(args: argparse.Namespace) -> dict[str, Any]:
    screener = Screener(load_pack())
    mix = request_mix([s.id for s in screener.catalog.systems], args.cases)
    parsed = [parse_request(r) for r in mix]
    rates: dict[str, list[float]] = {"decide": [], "replay_1": [], "replay_2": []}
    changed = 0
    with database_url(args.database) as url:
        database = open_database(url)
        database.migrate()
        key = SystemKey.create(Path(tempfile.mkdtemp(prefix="clearance-bench-")) / "system.key")
        store = Store(database, sealer=key)
        start = time.perf_counter()
        store_cases(store, screener, mix)
        stored_s = time.perf_counter() - start
        for _ in range(args.repeats):
            rates["decide"].append(decide_rate(screener, parsed))
            for workers in (1, 2):
                rate, examined, changed = replay_rate(store, workers)
                if examined != args.cases:
                    raise SystemExit(f"replay read {examined} cases, not {args.cases}")
                rates[f"replay_{workers}"].append(rate)
        database.dispose()
    one, two, decide = (median(rates[k]) for k in ("replay_1", "replay_2", "decide"))
    return {
        "machine": machine(),
        "database": args.database,
        "cases": args.cases,
        "repeats": args.repeats,
        "changed": changed,
        "store_s": stored_s,
        "decide_per_s": decide,
        "replay_1_per_s": one,
        "replay_2_per_s": two,
        "speedup_2": two / one,
        "ratio_1_to_decide": one / decide,
        "peak_rss_mib": peak_rss_mib(),
        "peak_worker_rss_mib": rss_mib(resource.getrusage(resource.RUSAGE_CHILDREN)),
    }


def report(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"{r['cases']:,} stored cases on {r['database']} (inserted in {r['store_s']:.0f} s);"
            f" {r['changed']:,} would change; medians of {r['repeats']} repeats",
            table(
                ["measure", "value"],
                [
                    ["decide_many, no database (decisions/s)", f"{r['decide_per_s']:,.0f}"],
                    ["replay, 1 worker (cases/s)", f"{r['replay_1_per_s']:,.0f}"],
                    ["replay, 2 workers (cases/s)", f"{r['replay_2_per_s']:,.0f}"],
                    ["speed-up of 2 workers", f"{r['speedup_2']:.2f}×"],
                    ["replay on 1 worker / decide_many", f"{r['ratio_1_to_decide']:.2f}"],
                    ["peak RSS, reading process (MiB)", f"{r['peak_rss_mib']:.0f}"],
                    ["peak RSS, largest worker (MiB)", f"{r['peak_worker_rss_mib']:.0f}"],
                ],
            ),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    return emit(run(args), args.json, report)


if __name__ == "__main__":
    sys.exit(main())
