"""``clearance cases import`` of a file of requests: cases/s, on SQLite and PostgreSQL.

    .venv/bin/python bench/importing.py                          # 10,000 lines, both databases
    .venv/bin/python bench/importing.py --database sqlite --lines 2000 --rounds 3
    .venv/bin/python bench/importing.py --before 1aff138         # that commit too, same run

Each round makes a fresh database (a SQLite file in WAL mode, or a database of
a throwaway PostgreSQL cluster, as the tests start it), sets it up with the
real command (``clearance init``, ``clearance users add ua.liaison``), writes
``--lines`` requests of the bench's mix made by Ukraine (one JSON object a line,
each with an idempotency key) and times ``clearance cases import FILE --as
ua.liaison --json`` as a process: reading and screening every line, then
writing them in transactions of ``--batch`` (each one durable commit), start-up
included (the JSON answer is checked: every line submitted). ``--before REF`` runs REF's code the same way, round by round
alternating with this tree's, so that the machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.databases import postgres_cluster

from clearance.policy.pack import load_pack
from common import emit, iter_requests, machine, median, table, tree_of

SRC = Path(__file__).resolve().parents[1] / "src"


def ukraine_lines(count: int) -> str:
    """``count`` requests of the mix made by Ukraine, as JSON lines with keys."""
    systems = [s.id for s in load_pack().catalog.systems]
    made = (r for r in iter_requests(systems, count * 20) if r["requester"] == "UA")
    lines = []
    for number, request in zip(range(count), made, strict=False):
        line = {"request": request, "idempotency_key": f"import-{number}"}
        lines.append(json.dumps(line, separators=(",", ":")))
    if len(lines) < count:
        raise SystemExit("the mix has too few requests by Ukraine")
    return "\n".join(lines) + "\n"


def import_once(src: Path, url: str, file: Path, batch: int) -> float:
    """Cases/s of one import by the code in ``src`` into a fresh database at ``url``."""
    with tempfile.TemporaryDirectory(prefix="clearance-bench-import-") as folder:
        env = {
            **os.environ,
            "PYTHONPATH": str(src),
            "CLEARANCE_DATA_DIR": str(Path(folder) / "data"),
            "CLEARANCE_DATABASE_URL": url,
            "CLEARANCE_PASSPHRASE": "bench passphrase",
        }

        def clearance(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "clearance", *args],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise SystemExit(f"clearance {' '.join(args)} failed:\n{done.stderr}")
            return done.stdout

        clearance("init")
        clearance("users", "add", "ua.liaison", "--name", "Liaison", "--party", "UA")
        start = time.perf_counter()
        out = clearance(
            "cases", "import", str(file), "--as", "ua.liaison", "--batch", str(batch), "--json"
        )
        elapsed = time.perf_counter() - start
    done = json.loads(out)
    lines = sum(1 for _ in file.open())
    if done.get("submitted") != lines:
        raise SystemExit(f"the import did not submit every line: {done}")
    return lines / elapsed


@contextmanager
def _fresh(which: str) -> Iterator[Any]:
    """A fresh database URL of the kind asked for, each time the function given is called."""
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as folder, ExitStack() as stack:
        cluster = stack.enter_context(postgres_cluster()) if which == "postgresql" else None
        count = 0

        def fresh() -> str:
            nonlocal count
            count += 1
            if cluster is None:
                return f"sqlite:///{folder}/import-{count}.db"
            return str(cluster.fresh_database())

        yield fresh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="cases per transaction")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", metavar="REF", help="measure this commit too, same run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    which = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="clearance-bench-lines-") as folder, ExitStack() as st:
        file = Path(folder) / "requests.jsonl"
        file.write_text(ukraine_lines(args.lines))
        before = st.enter_context(tree_of(args.before)) if args.before else None
        for name in which:
            print(f"… {name}", file=sys.stderr)
            with _fresh(name) as fresh:
                rates: dict[str, list[float]] = {"now": [], "before": []}
                for _ in range(args.rounds):
                    if before is not None:
                        rates["before"].append(import_once(before, fresh(), file, args.batch))
                    rates["now"].append(import_once(SRC, fresh(), file, args.batch))
            for side, found in rates.items():
                if found:
                    label = name if side == "now" else f"{name}, {args.before}"
                    results[label] = {
                        "cases_per_s": median(found),
                        "rounds": [round(r, 1) for r in found],
                    }
    result = {
        "benchmark": "import",
        "lines": args.lines,
        "batch": args.batch,
        "machine": machine(),
        "load_average": os.getloadavg(),
        "databases": results,
    }
    return emit(result, args.json, report)


def report(result: dict[str, Any]) -> str:
    rows = [
        [name, f"{r['cases_per_s']:,.0f}", ", ".join(f"{x:,.0f}" for x in r["rounds"])]
        for name, r in result["databases"].items()
    ]
    load = ", ".join(f"{x:.1f}" for x in result["load_average"])
    return "\n".join(
        [
            f"clearance cases import: {result['lines']:,} lines, batches of {result['batch']};"
            f" load average {load}",
            table(["database", "cases/s (median)", "rounds"], rows),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
