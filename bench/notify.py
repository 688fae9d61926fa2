"""Notifications: a dispatcher's throughput to a webhook receiver, and the delay from a ledger
event to its delivery at 100 events/s, on SQLite and PostgreSQL.

    .venv/bin/python bench/notify.py                       # both databases, 3 rounds
    .venv/bin/python bench/notify.py --database sqlite --notifications 1000 --rounds 5 --json

For each database (SQLite in WAL mode in a temporary folder; PostgreSQL as a
throwaway cluster started for the run, as the tests start it), a real runtime
(``service.runtime.Runtime``, the real settings loader) is migrated and given a
requester of Ukraine and the Secretary of Defense, who subscribes to ``waiting``
by webhook. The receiver is the tests' (tests/notify_support.py), in a process
of its own: an HTTP server on loopback that verifies every request with the
``standardwebhooks`` package and notes when it arrived. Each case submitted (the seed story's June 2025
ATACMS request, screened and put in review: two ledger events) queues one
notification for the Secretary, in the case's transaction.

(a) throughput: ``--notifications`` cases are submitted with no dispatcher
    running, then one dispatcher (``Dispatcher.drain``, rounds of 20) delivers
    them all: notifications/s, from its first round to the last delivery;
(b) delay: a dispatcher runs in a thread as in ``clearance serve`` (woken by
    its process's commits, and every second), while ``--submitters`` threads
    make notifying events at ``--rate`` a second between them for ``--seconds``:
    ``case`` events are cases submitted into review (a whole submission each:
    screening, the case, two events, the notification); ``policy`` events are
    ``bundle_activated`` events appended one per transaction (the lightest
    event that notifies: the Secretary subscribes to ``policy_activated`` too).
    The delay of each notification is from its event's time on the ledger
    (``at``, taken just before the event's transaction) to its arrival at the
    receiver: p50 and p99 per round.

Each round starts from a fresh database; the table gives the median of the
rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.databases import PostgresCluster, postgres_cluster
from tests.notify_support import Receiver, free_port

from clearance.core.actors import SYSTEM
from clearance.core.events import BundleActivated
from clearance.core.signing import new_key_pair
from clearance.service.anchoring import prepare
from clearance.service.runtime import Runtime
from clearance.settings import load_settings
from common import emit, machine, median, percentile, table

REQUEST = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}


class RemoteReceiver:
    """The tests' receiver (tests/notify_support.py) in a process of its own, so that it takes
    no time from the process measured: started at once, given the signing key once the
    subscription exists, and asked at the end when each delivery id first arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._process = subprocess.Popen(
            [sys.executable, __file__, "--receive", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        assert self._process.stdout.readline().strip() == "ready"

    def key(self, signing_key: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(signing_key + "\n")
        self._process.stdin.flush()

    def arrivals(self) -> dict[str, float]:
        """Stop it; when each delivery id first arrived (``time.time()``)."""
        out, _ = self._process.communicate(timeout=60)
        arrived: dict[str, float] = json.loads(out)
        return arrived


def _receive(port: int) -> int:
    """The receiver's process: listen, take the key from standard input, and at its end
    write the first arrival of each delivery id as JSON."""
    receiver = Receiver(port=port).start()
    print("ready", flush=True)
    receiver.secret = sys.stdin.readline().strip()
    sys.stdin.read()  # until the measuring process closes it
    receiver.stop()
    json.dump({hook_id: hook.at for hook_id, hook in receiver.unique.items()}, sys.stdout)
    return 0


@contextmanager
def _cluster(which: list[str]) -> Iterator[PostgresCluster | None]:
    """A throwaway PostgreSQL cluster when PostgreSQL is measured."""
    if "postgresql" not in which:
        yield None
        return
    with postgres_cluster() as cluster:
        yield cluster


def _installation(kind: str, cluster: PostgresCluster | None, receiver: RemoteReceiver) -> Runtime:
    folder = Path(tempfile.mkdtemp(prefix="clearance-bench-notify-"))
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'clearance.db'}"
    else:
        assert cluster is not None
        url = cluster.fresh_database()
    runtime = Runtime(
        load_settings(
            {
                "CLEARANCE_DATA_DIR": str(folder / "data"),
                "CLEARANCE_DATABASE_URL": url,
                "CLEARANCE_PUBLIC_URL": "https://clearance.example.gov",
                "CLEARANCE_NOTIFY_POLL_SECONDS": "1",
            }
        )
    )
    now = dt.datetime.now(dt.UTC)
    prepare(runtime.store, runtime.settings.system_key, now=now)
    public, _ = new_key_pair("a passphrase of a bench user")
    for user, party in (("ua.liaison", "UA"), ("secdef", "US")):
        runtime.people.add_user(
            user_id=user, name=user, party=party, public_key=public, actor="admin", now=now
        )
    runtime.people.grant(
        user_id="secdef",
        authority="us.secdef",
        valid_from=dt.date(2025, 1, 25),
        valid_to=None,
        actor="admin",
        now=now,
    )
    made = runtime.subscriptions.subscribe(
        actor="secdef", kinds=["waiting", "policy_activated"], webhook=receiver.url, now=now
    )
    assert made.signing_key is not None
    receiver.key(made.signing_key)
    return runtime


def _submit(runtime: Runtime) -> None:
    """A case into review: the seed story's request, screened, numbered, two events."""
    runtime.cases.submit(REQUEST, actor="ua.liaison", now=dt.datetime.now(dt.UTC))


def _activate(runtime: Runtime) -> None:
    """A policy bundle in force: one event in a transaction of its own, the lightest event
    that notifies (``policy_activated``, to every subscriber of the kind)."""
    now = dt.datetime.now(dt.UTC)
    with runtime.store.transaction() as tx:
        tx.append(BundleActivated("US", "bench", "sha256:0", now.date()), actor=SYSTEM, at=now)


EVENTS = {"case": _submit, "policy": _activate}


def _delivered(runtime: Runtime, count: int) -> bool:
    with runtime.store.reading() as tx:
        return tx.notifications.counts().get("delivered", 0) >= count


def throughput(runtime: Runtime, receiver: RemoteReceiver, count: int) -> dict[str, float]:
    for _ in range(count):
        _submit(runtime)
    dispatcher = runtime.dispatcher()
    start = time.perf_counter()
    tally = dispatcher.drain()
    elapsed = time.perf_counter() - start
    dispatcher.close()
    assert tally.delivered == count, tally
    assert len(receiver.arrivals()) == count
    return {"notifications": count, "seconds": elapsed, "per_second": count / elapsed}


def delay(
    runtime: Runtime,
    receiver: RemoteReceiver,
    event: str,
    rate: float,
    seconds: float,
    submitters: int,
) -> dict[str, float]:
    dispatcher = runtime.dispatcher()
    dispatcher.start()
    counts = [0] * submitters
    start = time.perf_counter()

    def submit(index: int) -> None:
        # Each submitter keeps its share of the rate, on its own schedule.
        while (elapsed := time.perf_counter() - start) < seconds:
            due = (counts[index] * submitters + index) / rate
            if elapsed < due:
                time.sleep(due - elapsed)
            EVENTS[event](runtime)
            counts[index] += 1

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(submitters)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = sum(counts)
        achieved = sent / (time.perf_counter() - start)
        deadline = time.monotonic() + 60
        while not _delivered(runtime, sent) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        dispatcher.stop()
    arrived = receiver.arrivals()
    with runtime.store.reading() as tx:
        rows = tx.notifications.deliveries(limit=sent + 10)
        times = {
            e.seq: e.event.at.timestamp()
            for e in tx.ledger.page(max_level=None, limit=4 * sent + 100)
        }
    delays = sorted(arrived[r.id] - times[r.event_seq] for r in rows if r.id in arrived)
    assert len(delays) == sent, (len(delays), sent)
    return {
        "events": sent,
        "rate": achieved,
        "p50_ms": percentile(delays, 0.50) * 1000,
        "p99_ms": percentile(delays, 0.99) * 1000,
        "max_ms": delays[-1] * 1000,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"machine": machine(), "databases": {}}
    with _cluster(args.database) as cluster:
        for kind in args.database:
            rounds: dict[str, list[dict[str, float]]] = {"throughput": []}
            rounds |= {f"delay_{event}": [] for event in args.event}
            for _ in range(args.rounds):
                for measure in rounds:
                    receiver = RemoteReceiver()
                    runtime = _installation(kind, cluster, receiver)
                    try:
                        if measure == "throughput":
                            found = throughput(runtime, receiver, args.notifications)
                        else:
                            event = measure.removeprefix("delay_")
                            found = delay(
                                runtime, receiver, event, args.rate, args.seconds, args.submitters
                            )
                        rounds[measure].append(found)
                    finally:
                        runtime.database.dispose()
            result["databases"][kind] = rounds
    return result


def report(result: dict[str, Any]) -> str:
    rows = []
    for kind, rounds in result["databases"].items():
        speed = [r["per_second"] for r in rounds["throughput"]]
        rows.append([kind, "throughput", f"{median(speed):,.0f}/s", "", "", ""])
        for measure, delays in rounds.items():
            if not measure.startswith("delay_"):
                continue
            rows.append(
                [
                    kind,
                    f"delay, {measure.removeprefix('delay_')} events",
                    f"{median([d['rate'] for d in delays]):,.1f}/s",
                    f"{median([d['p50_ms'] for d in delays]):,.1f} ms",
                    f"{median([d['p99_ms'] for d in delays]):,.1f} ms",
                    f"{median([d['max_ms'] for d in delays]):,.1f} ms",
                ]
            )
    lines = [
        table(["database", "measure", "rate", "p50", "p99", "max"], rows),
        "medians of the rounds; machine: "
        + ", ".join(f"{k} {v}" for k, v in result["machine"].items()),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        action="append",
        help="which database (repeatable; default both)",
    )
    parser.add_argument("--notifications", type=int, default=1000, help="for (a) (1000)")
    parser.add_argument("--rate", type=float, default=100.0, help="events/s for (b) (100)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of (b) (10)")
    parser.add_argument(
        "--submitters", type=int, default=2, help="threads making events in (b) (2)"
    )
    parser.add_argument(
        "--event",
        choices=sorted(EVENTS),
        action="append",
        help="the events of (b): case, policy (repeatable; default both)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each (3)")
    parser.add_argument("--json", action="store_true", help="every round's figures as JSON")
    parser.add_argument("--receive", type=int, help=argparse.SUPPRESS)  # the receiver's process
    args = parser.parse_args()
    if args.receive is not None:
        return _receive(args.receive)
    args.database = args.database or ["sqlite", "postgresql"]
    args.event = args.event or ["case", "policy"]
    threading.current_thread().name = "bench"
    return emit(run(args), args.json, report)


if __name__ == "__main__":
    sys.exit(main())
