"""What the benchmarks share: a reproducible request mix, statistics and reporting.

The mix covers every system of the catalog; requesters UA, GB and US;
employment in UA, RU and BY; transfers to UA and RU funded by the European
partners, the US, Germany or nobody; dates from 2022 to 2026 (so some fall
before any bundle is in force, some under each bundle of the history). The
same seed gives the same requests on every machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "BAD_LINES",
    "SEED",
    "iter_requests",
    "machine",
    "median",
    "peak_rss_mib",
    "percentile",
    "request_lines",
    "request_mix",
    "rss_mib",
    "settle_after_bulk_load",
    "table",
]

SEED = 20_250_828
REQUESTERS = ("UA", "GB", "US")
TERRITORIES = ("UA", "RU", "BY")
RECIPIENTS = ("UA", "RU")
FUNDING: tuple[str | None, ...] = ("european-partners", "US", "DE", None)
FIRST_DATE = dt.date(2022, 1, 1)
LAST_DATE = dt.date(2026, 12, 31)

# Lines a stream must survive: each gets an error record and the stream goes on.
BAD_LINES: tuple[bytes, ...] = (
    b"{not json",
    b"[1, 2, 3]",
    b'{"action": "employ", "requester": "UA", "system": "no-such-system", "quantity": 1,'
    b' "target": {"territory": "RU"}, "date": "2025-06-15"}',
    b'{"action": "transfer", "requester": "US", "recipient": "UA", "system": "eram",'
    b' "quantity": 10, "date": "2025-02-30"}',
    b'{"action": "employ", "requester": "UA", "system": "atacms",'
    b' "target": {"territory": "RU"}, "date": "2025-06-15"}',
    b'{"action": "launch", "requester": "UA", "system": "atacms", "quantity": 1,'
    b' "date": "2025-06-15"}',
)


def iter_requests(systems: Sequence[str], count: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """``count`` requests as users write them (JSON-ready dicts), half employ, half transfer."""
    rng = random.Random(seed)
    span = (LAST_DATE - FIRST_DATE).days
    for _ in range(count):
        date = (FIRST_DATE + dt.timedelta(days=rng.randint(0, span))).isoformat()
        if rng.random() < 0.5:
            yield {
                "action": "employ",
                "requester": rng.choice(REQUESTERS),
                "system": rng.choice(systems),
                "quantity": rng.randint(1, 50),
                "target": {"territory": rng.choice(TERRITORIES)},
                "date": date,
            }
            continue
        request: dict[str, Any] = {
            "action": "transfer",
            "requester": rng.choice(REQUESTERS),
            "recipient": rng.choice(RECIPIENTS),
            "system": rng.choice(systems),
            "quantity": rng.randint(1, 5_000),
            "date": date,
        }
        funding = rng.choice(FUNDING)
        if funding is not None:
            request["funding"] = funding
        yield request


def request_mix(systems: Sequence[str], count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """The first ``count`` requests of the mix, as a list."""
    return list(iter_requests(systems, count, seed))


def request_lines(
    systems: Sequence[str], count: int, *, bad_every: int = 0, seed: int = SEED
) -> Iterator[bytes]:
    """``count`` JSON lines (with newline), made one at a time; every ``bad_every``-th
    is one of ``BAD_LINES`` instead of a request."""
    requests = iter_requests(systems, count, seed)
    for number, request in enumerate(requests, start=1):
        if bad_every and number % bad_every == 0:
            yield BAD_LINES[(number // bad_every) % len(BAD_LINES)] + b"\n"
        else:
            yield json.dumps(request, separators=(",", ":")).encode() + b"\n"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of values already sorted ascending."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return float(sorted_values[rank - 1])


def _maxrss_mib(usage: resource.struct_rusage) -> float:
    # Linux reports kibibytes, macOS bytes.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return usage.ru_maxrss / scale


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far, in MiB."""
    return _maxrss_mib(resource.getrusage(who))


def rss_mib(usage: resource.struct_rusage) -> float:
    """Peak resident set size of one waited-for child (``os.wait4``), in MiB."""
    return _maxrss_mib(usage)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "cpus": usable,
        "cpu": _cpu_model(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "cedarpy": metadata.version("cedarpy"),
        "pydantic": metadata.version("pydantic"),
        "clearance": metadata.version("clearance"),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def emit(result: dict[str, Any], as_json: bool, report: Callable[[dict[str, Any]], str]) -> int:
    """Print a benchmark's results as JSON or as its readable report; the exit status."""
    if as_json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(report(result))
    return 0


@contextmanager
def tree_of(ref: str) -> Iterator[Path]:
    """The ``src`` folder of commit ``ref``, checked out into a temporary worktree for the
    block: what a ``--before REF`` measurement imports in a process of its own."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="clearance-bench-before-") as folder:
        tree = Path(folder) / "tree"
        git = ["git", "-C", str(root), "worktree"]
        subprocess.run([*git, "add", "--detach", str(tree), ref], check=True, capture_output=True)
        try:
            yield tree / "src"
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=False)


def settle_after_bulk_load(database: Any) -> None:
    """What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) does after a bulk load of
    cases: the planner's statistics, and on PostgreSQL the visibility map that lets a query
    read an index alone (``clearance.store.db.Database``)."""
    if database.is_sqlite:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        return
    with database.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("VACUUM ANALYZE cases")
