"""Replay of stored cases under a candidate bundle: cases/s on 1 and on 2 worker processes.

    .venv/bin/python bench/replay.py                   # SQLite, 100,000 cases, 3 repeats
    .venv/bin/python bench/replay.py --database postgresql --cases 20000 --json

The cases are the benchmark mix (bench/common.py), decided by
``Screener.decide_many`` as submission decides them and bulk-inserted as real
case rows (request, decision, state and the derived columns), so replay reads
what it reads in production; then ``ANALYZE`` (SQLite) or ``VACUUM ANALYZE``
(PostgreSQL), as autovacuum would after such a load, so that the planner
knows the table and PostgreSQL can read the replay index alone. Then, for
each repeat, it measures:

- the reference: raw ``cedarpy.is_authorized_batch`` on the very Cedar
  requests replay asks (the candidate in place of its holder's bundles, the
  other holders' bundles in force on each case's date, the stockpile facts
  each decision recorded), one batch per bundle, with the bundles' parsed
  handles, in cases/s; and Cedar's own authorization time (its metrics);
- ``service.replay.replay`` of every case under the US bundle of 2024-11-17,
  on 1 worker (in the reading process) and on 2 worker processes, in cases/s,
  each worker with its own memo (``policy.memo``) and its own outcome of
  each class of cases (``service.replay_keys``), whose hit rates on 1 worker
  are reported: once in this process (``replay_rate``), and once in a fresh
  process of its own, as the command runs it (``command_rate``: its pack's
  first load included, its workers forked from a heap of its size);
- the ceiling of that speed-up on this machine: two such commands on 1 worker
  each, one replaying the cases dated up to the middle date and one those
  after, started at the same instant in two processes that share nothing
  (``halves_rate``);
- the reading alone, twice: every case by the columns replay groups cases by
  (``keyed_cases``, its texts unread), what replay reads of every case now;
  and every case read whole (``stored_cases``: the request parsed, the
  decision's compared fields), as replay read every case before it grouped
  them, and still reads a case whose class is new or whose outcome changes.

It reports medians of the repeats, the ratios of replay to the reference and
of 2 workers to 1, and peak resident memory of the command's process and of
its largest worker.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cedarpy
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.databases import postgres_cluster

from clearance.core.case_keys import request_shape, stockpile_digest
from clearance.core.digest import canonical_json
from clearance.core.request import AnyRequest, parse_request
from clearance.core.signing import new_key_pair
from clearance.core.stockpile import StockpileFacts
from clearance.core.workflow import OPEN_STATES, state_after_screening
from clearance.policy.bundle import PolicyBundle
from clearance.policy.engine import Screener
from clearance.policy.entities import cedar_request, target_zones
from clearance.policy.pack import default_pack_path, load_pack
from clearance.service.anchoring import SystemKey
from clearance.service.people import People
from clearance.service.replay import judged_batches, replay
from clearance.service.replay_judging import Rejudger, load_candidate
from clearance.store.db import open_database
from clearance.store.models import Case
from clearance.store.repository import Store
from clearance.store.stored_cases import keyed_cases, stored_cases
from common import (
    emit,
    machine,
    median,
    request_mix,
    settle_after_bulk_load,
    table,
)

Batch = tuple[PolicyBundle, list[dict[str, Any]]]

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


def replay_batches(
    screener: Screener, requests: list[AnyRequest], facts: list[StockpileFacts | None]
) -> tuple[list[Batch], int]:
    """The Cedar requests replay asks of the rejudging screener (``Rejudger.screener``), one
    batch per bundle, and how many there are."""
    groups: dict[int, Batch] = {}
    count = 0
    for request, stock in zip(requests, facts, strict=True):
        zones = target_zones(screener.catalog, request, request.date)
        for holder in screener.holders(request.system):
            bundle = screener.history.bundle_in_force(holder.party, request.date)
            if bundle is not None:
                bases = (basis.value for basis in holder.bases)
                cedar = cedar_request(request, bases, (), stock, zones)
                groups.setdefault(id(bundle), (bundle, []))[1].append(cedar)
                count += 1
    return list(groups.values()), count


def raw_rate(batches: list[Batch], cases: int) -> float:
    """Cases/s of raw cedarpy over the batches (results dropped per batch)."""
    start = time.perf_counter()
    for bundle, cedar in batches:
        cedarpy.is_authorized_batch(cedar, bundle.policy_set, bundle.entities)
    return cases / (time.perf_counter() - start)


def cedar_authorize_us(batches: list[Batch]) -> float:
    """Cedar's own mean authorization time per evaluation (its metrics), in µs."""
    spent = [
        result.metrics.get("authz_duration_micros", 0)
        for bundle, cedar in batches
        for result in cedarpy.is_authorized_batch(cedar, bundle.policy_set, bundle.entities)
    ]
    return float(sum(spent)) / len(spent)


def read_rate(store: Store, whole: bool) -> float:
    """Cases/s of reading every stored case, judging nothing: by its columns, or ``whole``."""
    start = time.perf_counter()
    rows = (
        stored_cases(store, batch=BATCH)
        if whole
        else keyed_cases(store, first=None, last=None, batch=BATCH)
    )
    count = sum(len(batch) for batch in rows)
    return count / (time.perf_counter() - start)


def store_cases(
    store: Store, screener: Screener, mix: list[dict[str, Any]]
) -> list[StockpileFacts | None]:
    """Decide every request once and insert it as a case row, as submission would write it;
    the stockpile facts each decision recorded, in order."""
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
    recorded: list[StockpileFacts | None] = []
    with database.engine.begin() as connection:
        for first in range(0, len(mix), CHUNK):
            chunk = [parse_request(r) for r in mix[first : first + CHUNK]]
            ids = [str(uuid.uuid4()) for _ in chunk]
            rows = []
            for decision in screener.decide_many(chunk, decision_ids=ids, now=T0):
                number += 1
                recorded.append(decision.stockpile)
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
                        "asked_on": facts["request"]["date"],
                        "quantity": facts["request"]["quantity"],
                        "request_shape": request_shape(facts["request"]),
                        "stockpile_digest": stockpile_digest(decision.stockpile),
                    }
                )
            connection.execute(insert(Case), rows)
    return recorded


_REPLAY_IN_A_FRESH_PROCESS = """
import datetime as dt, json, re, resource, sys, time
from pathlib import Path
from clearance.service.replay import replay
from clearance.store.db import open_database
from clearance.store.repository import Store
url, candidate, workers = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
first, last = (None if day == "-" else dt.date.fromisoformat(day) for day in sys.argv[4:6])
store = Store(open_database(url))
print("ready", flush=True)
sys.stdin.readline()
start = time.monotonic()
report = replay(store, None, candidate, first=first, last=last, workers=workers)
end = time.monotonic()
print(json.dumps({
    "start": start,
    "end": end,
    "examined": report.examined,
    "changed": len(report.changes),
    "rss": int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1]),
    "workers_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""
"""One replay, as ``clearance replay`` runs it, in a process of its own: it says it is
ready once its imports are done and starts when it reads a line, so that two can start at
the same instant; ``time.monotonic`` is one clock for every process on Linux."""


def replays_at_once(
    url: str, jobs: list[tuple[int, dt.date | None, dt.date | None]]
) -> tuple[list[dict[str, Any]], float]:
    """Replays run each in a fresh process, all started at the same instant once every one
    is ready: ``(workers, first, last)`` each. Their answers, and the seconds from the first
    start to the last end."""
    root = Path(__file__).resolve().parents[1]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _REPLAY_IN_A_FRESH_PROCESS, url, str(CANDIDATE), str(workers)]
            + ["-" if day is None else day.isoformat() for day in (first, last)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for workers, first, last in jobs
    ]
    for process in processes:
        if process.stdout is None or process.stdout.readline() != "ready\n":
            raise SystemExit("a replay did not start")
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    answers = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a replay ended with status {process.returncode}")
        answers.append(json.loads(out))
    return answers, max(a["end"] for a in answers) - min(a["start"] for a in answers)


def replay_rate(store: Store, workers: int) -> tuple[float, int, int]:
    """(cases/s, cases examined, cases changed) of one replay of every case, in this
    process: the pack loaded before (its first load, the library tables it reads, is paid
    once per process), the workers forked from this process's heap."""
    start = time.perf_counter()
    report = replay(store, None, CANDIDATE, first=None, last=None, workers=workers)
    return report.examined / (time.perf_counter() - start), report.examined, len(report.changes)


def command_rate(url: str, workers: int) -> dict[str, float]:
    """One replay of every case, timed in a process of its own, as ``clearance replay``
    runs it: from its pack's first load to the report (the interpreter's start and the
    imports left out), the workers forked from a heap of the command's size, not from this
    one's gigabyte (the mix, the reference's Cedar requests).

    ``rate`` (cases/s), ``examined``, ``changed``, and the peak RSS in MiB of the process
    (``rss``, its own high-water mark: ``ru_maxrss`` would count this process's heap,
    which the child had before it started the interpreter) and of its largest worker
    (``workers_rss``)."""
    (got,), seconds = replays_at_once(url, [(workers, None, None)])
    return {
        "rate": got["examined"] / seconds,
        "examined": got["examined"],
        "changed": got["changed"],
        "rss": got["rss"] / 1024,
        "workers_rss": got["workers_rss"] / 1024,
    }


def halves_rate(url: str, middle: dt.date, cases: int) -> float:
    """Cases/s of two replays on 1 worker each, as the command runs them, in two processes
    started at once: one of the cases dated up to ``middle``, one of those after. They
    share nothing, not even the pack's load, and each learns only the classes of its own
    dates (a class never spans a change of bundle or zone, service/replay_keys.py): in
    practice the most that two workers sharing nothing could gain on this machine."""
    halves = [(1, None, middle), (1, middle + dt.timedelta(days=1), None)]
    answers, seconds = replays_at_once(url, halves)
    if sum(a["examined"] for a in answers) != cases:
        raise SystemExit(f"the halves read {[a['examined'] for a in answers]}, not {cases}")
    return cases / seconds


def memo_of_one_replay(store: Store) -> dict[str, Any]:
    """The judgement memo's counts after one replay on 1 worker (a ``Rejudger`` over every
    batch); replay makes no verdicts, so that is its only memo."""
    pack = load_pack()
    rejudger = Rejudger(pack, load_candidate(pack, CANDIDATE))
    for _ in judged_batches(store, rejudger, (None, None), BATCH):
        pass
    return {
        **rejudger.screener.judgements.stats().as_dict(),
        "classes": rejudger.keys.stats().as_dict(),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    screener = Screener(load_pack())
    mix = request_mix([s.id for s in screener.catalog.systems], args.cases)
    parsed = [parse_request(r) for r in mix]
    rates: dict[str, list[float]] = {
        "raw": [],
        "read": [],
        "read_whole": [],
        "replay_1": [],
        "replay_2": [],
        "command_1": [],
        "command_2": [],
        "halves": [],
    }
    dates = sorted(request.date for request in parsed)
    middle = dates[len(dates) // 2]
    changed = 0
    rss = workers_rss = 0.0
    with database_url(args.database) as url:
        database = open_database(url)
        database.migrate()
        key = SystemKey.create(Path(tempfile.mkdtemp(prefix="clearance-bench-")) / "system.key")
        store = Store(database, sealer=key)
        start = time.perf_counter()
        facts = store_cases(store, screener, mix)
        stored_s = time.perf_counter() - start
        settle_after_bulk_load(database)
        pack = load_pack()
        rejudging = Rejudger(pack, load_candidate(pack, CANDIDATE)).screener
        batches, evaluations = replay_batches(rejudging, parsed, facts)
        authorize_us = cedar_authorize_us(batches)
        memo = memo_of_one_replay(store)
        # The mix, the parsed requests and the reference's Cedar requests stay alive for
        # the whole run; the command's process holds none of them. Frozen, the collector's
        # full passes do not scan them during replay on 1 worker (nor in forked workers).
        gc.freeze()
        for _ in range(args.repeats):
            rates["raw"].append(raw_rate(batches, args.cases))
            rates["read"].append(read_rate(store, whole=False))
            rates["read_whole"].append(read_rate(store, whole=True))
            for workers in (1, 2):
                rate, examined, changed = replay_rate(store, workers)
                timed = command_rate(url, workers)
                for read_now in (examined, timed["examined"]):
                    if read_now != args.cases:
                        raise SystemExit(f"replay read {read_now} cases, not {args.cases}")
                rates[f"replay_{workers}"].append(rate)
                rates[f"command_{workers}"].append(timed["rate"])
                rss = max(rss, timed["rss"])
                workers_rss = max(workers_rss, timed["workers_rss"])
            rates["halves"].append(halves_rate(url, middle, args.cases))
        database.dispose()
    one, two, raw, read = (median(rates[k]) for k in ("replay_1", "replay_2", "raw", "read"))
    per_case_authorize = authorize_us * evaluations / args.cases

    def per_round(measure: str, by: str = "raw") -> float:
        """The median over rounds of ``measure`` ÷ ``by`` (raw cedarpy) in the same round."""
        return median([r / c for r, c in zip(rates[measure], rates[by], strict=True)])

    return {
        "machine": machine(),
        "database": args.database,
        "cases": args.cases,
        "repeats": args.repeats,
        "changed": changed,
        "store_s": stored_s,
        "evaluations": evaluations,
        "rounds": rates,
        "raw_per_s": raw,
        "read_per_s": read,
        "read_whole_per_s": median(rates["read_whole"]),
        "replay_1_per_s": one,
        "replay_2_per_s": two,
        "speedup_2": two / one,
        "command_1_per_s": median(rates["command_1"]),
        "command_2_per_s": median(rates["command_2"]),
        "command_speedup_2": median(rates["command_2"]) / median(rates["command_1"]),
        "command_speedup_2_rounds": per_round("command_2", by="command_1"),
        "halves_per_s": median(rates["halves"]),
        "halves_speedup_rounds": per_round("halves", by="command_1"),
        "halves_middle": middle.isoformat(),
        "ratio_1_to_raw": per_round("replay_1"),
        "ratio_2_to_raw": per_round("replay_2"),
        "command_ratio_1_to_raw": per_round("command_1"),
        "command_ratio_2_to_raw": per_round("command_2"),
        "cedar_authorize_us_per_evaluation": authorize_us,
        "cedar_authorize_limit_per_s": 1e6 / per_case_authorize,
        "memo": memo,
        "peak_rss_mib": rss,
        "peak_worker_rss_mib": workers_rss,
    }


def _hits(stats: dict[str, float]) -> str:
    return f"{stats['hits']:,} hits, {stats['misses']:,} misses ({100 * stats['hit_rate']:.0f}%)"


def report(r: dict[str, Any]) -> str:
    memo = r["memo"]
    return "\n".join(
        [
            f"{r['cases']:,} stored cases on {r['database']} (inserted in {r['store_s']:.0f} s);"
            f" {r['changed']:,} would change; medians of {r['repeats']} repeats",
            f"Cedar evaluations of the reference: {r['evaluations']:,}; Cedar's own"
            f" authorization {r['cedar_authorize_us_per_evaluation']:.1f} µs each (mean)",
            f"judgement memo of one replay on 1 worker: {_hits(memo)}",
            f"classes of cases in one replay on 1 worker: {_hits(memo['classes'])}",
            table(
                ["measure", "value"],
                [
                    ["raw cedarpy, same Cedar requests (cases/s)", f"{r['raw_per_s']:,.0f}"],
                    ["reading the cases by their columns (cases/s)", f"{r['read_per_s']:,.0f}"],
                    ["reading the cases whole (cases/s)", f"{r['read_whole_per_s']:,.0f}"],
                    ["replay, 1 worker (cases/s)", f"{r['replay_1_per_s']:,.0f}"],
                    ["replay, 2 workers (cases/s)", f"{r['replay_2_per_s']:,.0f}"],
                    ["speed-up of 2 workers", f"{r['speedup_2']:.2f}×"],
                    ["replay on 1 worker / raw cedarpy", f"{r['ratio_1_to_raw']:.2f}"],
                    ["replay on 2 workers / raw cedarpy", f"{r['ratio_2_to_raw']:.2f}"],
                    ["as the command, 1 worker (cases/s)", f"{r['command_1_per_s']:,.0f}"],
                    ["as the command, 2 workers (cases/s)", f"{r['command_2_per_s']:,.0f}"],
                    ["as the command, speed-up of 2 workers", f"{r['command_speedup_2']:.2f}×"],
                    [
                        "  the same, median of each round's ratio",
                        f"{r['command_speedup_2_rounds']:.2f}×",
                    ],
                    [
                        "two commands at once on halves of the dates (cases/s)",
                        f"{r['halves_per_s']:,.0f}",
                    ],
                    [
                        "  their speed-up over 1 worker: the ceiling (each round's ratio)",
                        f"{r['halves_speedup_rounds']:.2f}×",
                    ],
                    ["as the command, 1 worker / raw", f"{r['command_ratio_1_to_raw']:.2f}"],
                    ["as the command, 2 workers / raw", f"{r['command_ratio_2_to_raw']:.2f}"],
                    [
                        "Cedar's own authorization alone (cases/s, the limit)",
                        f"{r['cedar_authorize_limit_per_s']:,.0f}",
                    ],
                    ["peak RSS, the command's process (MiB)", f"{r['peak_rss_mib']:.0f}"],
                    ["peak RSS, its largest worker (MiB)", f"{r['peak_worker_rss_mib']:.0f}"],
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
