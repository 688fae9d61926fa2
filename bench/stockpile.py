"""The stockpile board and a past rating at scale, on SQLite and PostgreSQL.

    .venv/bin/python bench/stockpile.py                     # both databases
    .venv/bin/python bench/stockpile.py --database sqlite --systems 1000 --holders 20 \\
        --movements 1000000 --json

A generated pack holds ``--systems`` systems and ``--holders`` parties, each
party tracking every system (20,000 positions by default), and
``--movements`` movements are stored through the store's own ``add`` (so the
running totals are what a real history would leave). Then, for each database:

(a) the board: ``StockService.board`` (every position rated, worst first, rows made for the first page)
    and the rendering of its first page (50 rows) as the CLI draws it, p50
    and p95 over repeated calls (goal ≤ 200 ms); the reference is the one SQL
    statement the board needs (every row of ``stock_totals``), sent as text
    through the same engine;
(b) a past rating: ``StockService.position`` of a random position as of a
    random past date (the rating rebuilt from that position's movements up to
    the date, and its latest movements), p50 and p95 (goal ≤ 50 ms); the
    reference is the one range-sum statement it rests on, as text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cases import databases
from clearance.core.actors import ADMIN
from clearance.core.stockpile import Movement, MovementKind
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.service.anchoring import SystemKey
from clearance.service.stockpile import StockService
from clearance.store.db import open_database
from clearance.store.repository import Store
from common import emit, machine, median, percentile, table

START = dt.date(2022, 2, 24)
DAYS = 1400  # movements spread over nearly four years
KINDS = (
    (MovementKind.RECEIPT, 6),
    (MovementKind.COMMIT, 2),
    (MovementKind.RELEASE, 1),
    (MovementKind.TRANSFER_OUT, 1),
    (MovementKind.TRANSFER_IN, 1),
    (MovementKind.CONSUME, 1),
)


def _party(i: int) -> str:
    return f"p{i:02d}"


def write_pack(folder: Path, systems: int, holders: int) -> Path:
    """A pack with ``holders`` parties, ``systems`` systems and a position for every pair."""
    parties = [{"code": _party(i), "name": f"Party {i}"} for i in range(holders)]
    catalog = {
        "parties": parties,
        "authorities": [{"id": "p00.chief", "party": "p00", "title": "Chief"}],
        "systems": [
            {
                "id": f"sys-{j:04d}",
                "name": f"System {j}",
                "origin": _party(j % holders),
                "category": "benchmark",
                "range_km": 100,
            }
            for j in range(systems)
        ],
    }
    root = folder / "pack"
    (root / "bundles").mkdir(parents=True)
    (root / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    (root / "schema.cedarschema").write_text(
        (
            Path(__file__).resolve().parents[1] / "src/clearance/scenarios/seed/schema.cedarschema"
        ).read_text()
    )
    for i in range(holders):
        bundle = root / "bundles" / _party(i) / "2022-01-01"
        bundle.mkdir(parents=True)
        bundle.joinpath("bundle.yaml").write_text(
            f"holder: {_party(i)}\neffective_from: 2022-01-01\ntitle: Benchmark policy\n"
            "stockpile_thresholds: {green_percent: 120, yellow_percent: 100}\n"
        )
        bundle.joinpath("policies.cedar").write_text(
            '@id("allow")\npermit (principal, action, resource);\n'
        )
    rng = random.Random(7)
    positions = [
        {
            "holder": _party(i),
            "system": f"sys-{j:04d}",
            "on_hand": rng.randint(0, 5000),
            "requirement": rng.randint(0, 3000),
            "production_per_month": rng.randint(0, 50),
        }
        for i in range(holders)
        for j in range(systems)
    ]
    (root / "stockpile.yaml").write_text(
        yaml.safe_dump({"opened_on": START.isoformat(), "positions": positions})
    )
    return root


def load_movements(store: Store, screener: Screener, count: int) -> None:
    """``count`` movements, about the same number per position, in chunks of whole positions."""
    keys = [(p.holder, p.system) for p in screener.pack.stock.positions]
    per = max(1, count // len(keys))
    rng = random.Random(11)
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    chunk: list[Movement] = []
    made = 0
    for holder, system in keys:
        for _ in range(per):
            day = START + dt.timedelta(days=rng.randrange(DAYS))
            chunk.append(Movement(holder, system, rng.choice(kinds), rng.randint(1, 20), day))
        made += per
        if len(chunk) >= 50_000 or made >= count:
            with store.transaction() as tx:
                tx.stock.add(chunk, at=at, actor="bench")
            chunk = []
        if made >= count:
            break


def _timed(call: Any, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def _stats(times: list[float]) -> dict[str, float]:
    return {"p50_ms": round(median(times), 2), "p95_ms": round(percentile(times, 0.95), 2)}


def measure(url: str, pack: Path, movements: int, rounds: int) -> dict[str, Any]:
    from clearance.cli.render import rating_text

    database = open_database(url)
    database.migrate()
    key = SystemKey.create(Path(tempfile.mkdtemp(prefix="clearance-bench-")) / "system.key")
    store = Store(database, sealer=key)
    started = time.perf_counter()
    screener = Screener(load_pack(pack))
    pack_s = time.perf_counter() - started
    started = time.perf_counter()
    load_movements(store, screener, movements)
    load_s = time.perf_counter() - started
    service = StockService(store, screener)
    today = dt.date(2026, 11, 1)

    def board() -> None:
        rows = service.board(on=today, actor=ADMIN, limit=50).rows
        console = Console(file=io.StringIO(), width=120)
        from rich.table import Table

        shown = Table()
        for column in ("rating", "holder", "system", "available", "requirement"):
            shown.add_column(column)
        for row in rows:
            shown.add_row(
                rating_text(row.rating, meaning=False),
                row.position.holder,
                row.position.system,
                str(row.balance.available),
                str(row.position.requirement),
            )
        console.print(shown)

    def raw_board() -> None:
        with database.reader.connect() as connection:
            connection.execute(
                text("SELECT holder, system, on_hand, committed FROM stock_totals")
            ).all()

    rng = random.Random(3)
    keys = [(p.holder, p.system) for p in screener.pack.stock.positions]
    asked = [
        (*rng.choice(keys), START + dt.timedelta(days=rng.randrange(DAYS)))
        for _ in range(rounds * 10)
    ]
    past = iter(asked * 2)
    raw_past = iter(asked * 2)

    def position() -> None:
        holder, system, day = next(past)
        service.position(holder, system, on=today, actor=ADMIN, as_of=day)

    def raw_position() -> None:
        holder, system, day = next(raw_past)
        with database.reader.connect() as connection:
            connection.execute(
                text(
                    "SELECT SUM(quantity) FROM stock_movements"
                    " WHERE holder = :h AND system = :s AND day <= :d"
                ),
                {"h": holder, "s": system, "d": day},
            ).all()

    board()  # warm: caches, statement compilation
    result = {
        "positions": len(keys),
        "movements": movements,
        "pack_load_s": round(pack_s, 2),
        "movement_load_s": round(load_s, 1),
        "board": _stats(_timed(board, rounds)),
        "board_reference_sql": _stats(_timed(raw_board, rounds)),
        "past_rating": _stats(_timed(position, rounds * 10)),
        "past_rating_reference_sql": _stats(_timed(raw_position, rounds * 10)),
    }
    database.dispose()
    return result


def report(result: dict[str, Any]) -> str:
    rows = []
    for name, r in result["databases"].items():
        rows.append(
            [
                name,
                f"{r['board']['p50_ms']} / {r['board']['p95_ms']}",
                f"{r['board_reference_sql']['p50_ms']} / {r['board_reference_sql']['p95_ms']}",
                f"{r['past_rating']['p50_ms']} / {r['past_rating']['p95_ms']}",
                f"{r['past_rating_reference_sql']['p50_ms']} / {r['past_rating_reference_sql']['p95_ms']}",
                f"{r['movement_load_s']} s",
            ]
        )
    head = (
        f"{result['positions']:,} positions, {result['movements']:,} movements"
        f" (pack load {result['pack_load_s']} s)\n"
    )
    return head + table(
        [
            "database",
            "board p50 / p95 ms",
            "reference SQL",
            "past rating p50 / p95 ms",
            "reference SQL",
            "movements loaded in",
        ],
        rows,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--systems", type=int, default=1000)
    parser.add_argument("--holders", type=int, default=20)
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    which = args.database or ["sqlite", "postgresql"]
    with tempfile.TemporaryDirectory(prefix="clearance-stock-") as folder:
        pack = write_pack(Path(folder), args.systems, args.holders)
        results: dict[str, Any] = {}
        with databases(which) as urls:
            for name, url in urls:
                results[name] = measure(url, pack, args.movements, args.rounds)
    first = next(iter(results.values()))
    result = {
        "machine": machine(),
        "positions": first["positions"],
        "movements": first["movements"],
        "pack_load_s": first["pack_load_s"],
        "databases": results,
    }
    return emit(result, args.json, report)


if __name__ == "__main__":
    sys.exit(main())
