"""Auditing the ledger: the whole check against the chain alone, and what anchoring costs.

    .venv/bin/python bench/ledger.py                    # both databases, default sizes
    .venv/bin/python bench/ledger.py --database sqlite --cases 5000 --json

For each database (SQLite in WAL mode in a temporary folder; PostgreSQL 15 as a
throwaway cluster started for the run, as the tests do), a ledger is written
by the real services: ``--cases`` requests of the benchmark mix submitted
(each screened, with its events, stock moves and decision counts), and every
fourth case left in review answered by its office (approved or denied,
signed). Then, each ``--rounds`` times, in the same run:

- **chain**: ``audit.verify`` without the tables (the chain, its checkpoints
  and the seals after the last one), in events/s: the reference;
- **full**: ``audit.verify`` as ``clearance audit verify`` runs it, with the
  tables rebuilt from the events and compared row by row, in events/s, and
  its ratio to the chain alone;
- **all seals**: the full check with ``--all-seals``, every event's seal
  checked, in events/s;
- **checkpoint**: signing a checkpoint by hand (``audit checkpoint``), which
  checks the seals since the last one before it signs: p50 over the rounds,
  and the bare Ed25519 signature it ends with, in microseconds, in the same
  run; and what sealing adds to an append (one signature per event).

Reported as medians; the machine is a noisy two-core box.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cases import databases
from clearance.core.actors import ADMIN
from clearance.core.signing import new_key_pair, unlock
from clearance.core.workflow import CaseState
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.service import anchoring, audit
from clearance.service.anchoring import SystemKey, Witness
from clearance.service.cases import CaseService
from clearance.service.people import People
from clearance.store.db import open_database
from clearance.store.repository import Store
from common import emit, machine, median, percentile, request_mix, table

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
PASSPHRASE = "bench passphrase"


def _people(store: Store, screener: Screener) -> dict[str, Any]:
    """A liaison per requesting party, and a holder for every office of the catalog."""
    people = People(store, screener.catalog)
    signers = {}
    for party in ("UA", "GB", "US", "FR"):
        public, _ = new_key_pair(PASSPHRASE)
        people.add_user(
            user_id=f"{party.lower()}.liaison",
            name=f"{party} liaison",
            party=party,
            public_key=public,
            actor="admin",
            now=T0,
        )
    for number, authority in enumerate(screener.catalog.authorities):
        user = f"holder{number}"
        public, pem = new_key_pair(PASSPHRASE)
        people.add_user(
            user_id=user,
            name=authority.title,
            party=authority.party,
            public_key=public,
            actor="admin",
            now=T0,
        )
        people.grant(
            user_id=user,
            authority=authority.id,
            valid_from=dt.date(2020, 1, 1),
            valid_to=None,
            actor="admin",
            now=T0,
        )
        signers[authority.id] = (user, unlock(pem, PASSPHRASE))
    return signers


def build(store: Store, screener: Screener, cases: int) -> int:
    """Write the ledger through the services; how many events it holds."""
    signers = _people(store, screener)
    service = CaseService(store, screener, default_sla_days=14)
    requests = request_mix([s.id for s in screener.catalog.systems], cases)
    for number, request in enumerate(requests):
        now = T0 + dt.timedelta(minutes=number)
        actor = f"{request['requester'].lower()}.liaison"
        case, _ = service.submit(request, actor=actor, now=now)
        if case.state != CaseState.IN_REVIEW.value or number % 4:
            continue
        view = service.view(case.id, actor=ADMIN)
        for approval in view.decision["required_approvals"]:
            user, signer = signers[approval["authority"]]
            service.answer(
                case.id,
                actor=user,
                approve=number % 8 == 0,
                reason="bench",
                signer=signer,
                now=now,
                authority=approval["authority"],
            )
            if number % 8:
                break
    return store.ledger_bounds()[1]


def _rate(events: int, call: Any) -> float:
    start = time.perf_counter()
    report = call()
    elapsed = time.perf_counter() - start
    if not report.ok:
        raise SystemExit(f"the bench ledger does not verify: {report.findings[:3]}")
    return events / elapsed


def run_one(url: str, args: argparse.Namespace, screener: Screener) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="clearance-bench-"))
    database = open_database(url)
    database.migrate()
    key = SystemKey.create(folder / "system.key")
    store = Store(database, sealer=key, observers=[Witness(folder / "witness.json")])
    events = build(store, screener, args.cases)
    trusted = audit.TrustedKey(key.public_key, "bench")
    chain, full, all_seals, checkpoints = [], [], [], []
    for _ in range(args.rounds):
        chain.append(_rate(events, lambda: audit.verify(store, key=trusted, tables=False)))
        full.append(_rate(events, lambda: audit.verify(store, key=trusted)))
        all_seals.append(_rate(events, lambda: audit.verify(store, key=trusted, all_seals=True)))
        start = time.perf_counter()
        anchoring.checkpoint(store, now=T0, reason="bench")
        checkpoints.append(time.perf_counter() - start)
    message = b"x" * 120
    signs = []
    for _ in range(2_000):
        start = time.perf_counter()
        key.sign(message)
        signs.append(time.perf_counter() - start)
    signs.sort()
    database.dispose()
    return {
        "events": events,
        "chain_per_s": median(chain),
        "full_per_s": median(full),
        "full_ratio": median(full) / median(chain),
        "all_seals_per_s": median(all_seals),
        "checkpoint_p50_ms": percentile(sorted(checkpoints), 0.5) * 1e3,
        "sign_p50_us": percentile(signs, 0.5) * 1e6,
    }


def report(result: dict[str, Any]) -> str:
    rows = [
        [
            name,
            f"{r['events']:,}",
            f"{r['chain_per_s']:,.0f}",
            f"{r['full_per_s']:,.0f}",
            f"{r['full_ratio']:.2f}",
            f"{r['all_seals_per_s']:,.0f}",
            f"{r['checkpoint_p50_ms']:.1f}",
            f"{r['sign_p50_us']:.0f}",
        ]
        for name, r in result["databases"].items()
    ]
    return "\n".join(
        [
            f"{result['cases']:,} cases submitted through the services; medians of"
            f" {result['rounds']} rounds",
            table(
                [
                    "database",
                    "events",
                    "chain ev/s",
                    "full ev/s",
                    "full/chain",
                    "all seals ev/s",
                    "checkpoint ms",
                    "sign µs",
                ],
                rows,
            ),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cases", type=int, default=20_000, help="cases to submit")
    parser.add_argument("--rounds", type=int, default=3, help="verifications of the ledger")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    which = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    screener = Screener(load_pack())
    results: dict[str, Any] = {}
    with databases(which) as urls:
        for name, url in urls:
            print(f"… {name}", file=sys.stderr)
            results[name] = run_one(url, args, screener)
    result = {
        "machine": machine(),
        "cases": args.cases,
        "rounds": args.rounds,
        "databases": results,
    }
    return emit(result, args.json, report)


if __name__ == "__main__":
    raise SystemExit(main())
