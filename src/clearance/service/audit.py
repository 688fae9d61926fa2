"""Auditing the ledger: verify the chain in the database, export it as JSON lines.

An export verifies on its own: each line carries ``seq``, ``case_id``,
``prev_hash``, ``body`` and ``hash``, and ``verify_export`` applies the same
rules (core/chain.py) as ``verify`` does to the database.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass
from typing import IO, Any

from clearance.core import signing
from clearance.core.chain import (
    GENESIS,
    ChainReport,
    ChainVerifier,
    Link,
    Segment,
    stitch,
    verify_chain,
)
from clearance.errors import InputError
from clearance.store.repository import Store

__all__ = ["SignatureCheck", "check_signatures", "export", "verify", "verify_export"]

Progress = Callable[[int], None]

PARALLEL_FROM = 200_000
"""Ledgers at least this long are verified by several processes at once."""


def _workers() -> int:
    if "fork" not in mp.get_all_start_methods():
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _check(
    store: Store,
    first: int,
    last: int,
    prev: str | None,
    counter: Any | None = None,
    *,
    read_from: int | None = None,
) -> Segment:
    """Check events ``first``..``last`` (reading from ``read_from`` to catch stray low numbers)."""
    verifier = ChainVerifier(first, last, prev)
    start = first if read_from is None else read_from
    with closing(store.ledger_messages(start, last)) as batches:
        for batch in batches:
            if not verifier.feed(batch):
                break
            if counter is not None:
                with counter.get_lock():
                    counter.value += len(batch)
    return verifier.segment()


_child: tuple[Store, Any] | None = None


def _start_child(store: Store, counter: Any) -> None:
    # A forked process must not use the connections its parent's pool holds.
    store.database.engine.dispose(close=False)
    global _child
    _child = (store, counter)


def _check_in_child(first: int, last: int, prev: str | None, read_from: int) -> Segment:
    assert _child is not None
    store, counter = _child
    return _check(store, first, last, prev, counter, read_from=read_from)


def verify(
    store: Store, progress: Progress | None = None, *, workers: int | None = None
) -> ChainReport:
    """Check the whole chain in the database; the report names the first bad event.

    Each link can be checked on its own (it stores the hash it links to), so a
    long ledger is cut into one run of sequence numbers per processor, checked
    in parallel, and the runs are joined by ``stitch``, which checks that each
    run starts from the hash the run before it ends on.
    """
    low, high = store.ledger_bounds()
    if high == 0:
        return ChainReport(0)
    count = _workers() if workers is None else workers
    if count < 2 or (high < PARALLEL_FROM and workers is None):
        segment = _check(store, 1, high, GENESIS, read_from=min(low, 1))
        if progress is not None:
            progress(segment.events)
        return stitch([segment])
    # The first run starts at 1 (or below, to catch a stray low number); the rest take
    # on trust the hash they link to, which stitch then checks.
    edges = [1 + (high * i) // count for i in range(count)] + [high + 1]
    context = mp.get_context("fork")
    counter = context.Value("q", 0)
    with ProcessPoolExecutor(
        count, mp_context=context, initializer=_start_child, initargs=(store, counter)
    ) as pool:
        futures = [
            pool.submit(
                _check_in_child,
                edges[i],
                edges[i + 1] - 1,
                GENESIS if i == 0 else None,
                min(low, 1) if i == 0 else edges[i],
            )
            for i in range(count)
        ]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.1)
            if progress is not None:
                progress(counter.value)
        return stitch(f.result() for f in futures)


def _line(link: Link) -> str:
    seq, case_id, prev_hash, body, digest = link
    item = {"seq": seq, "case_id": case_id, "prev_hash": prev_hash, "body": body, "hash": digest}
    return json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"


def export(store: Store, out: IO[str]) -> tuple[ChainReport, int]:
    """Write every event as one JSON line; the chain's report (the export is checked too) and
    the number of lines written, which past a break is more than the events verified."""
    written = 0

    def writing(links: Iterable[Link]) -> Iterator[Link]:
        nonlocal written
        for link in links:
            out.write(_line(link))
            written += 1
            yield link

    with closing(store.ledger_links()) as links:
        report = verify_chain(writing(links))
        for link in links:  # past a break, the rest is still exported for the auditor
            out.write(_line(link))
            written += 1
    return report, written


def verify_export(lines: Iterable[str], name: str) -> ChainReport:
    """Check an exported file without any database."""

    def links() -> Iterator[tuple[int, str | None, str, str, str]]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                yield (
                    int(item["seq"]),
                    item["case_id"],
                    str(item["prev_hash"]),
                    str(item["body"]),
                    str(item["hash"]),
                )
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                raise InputError(name, f"line {number} is not a ledger event") from None

    return verify_chain(links())


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """One signed answer on a case, checked offline."""

    authority: str
    actor: str
    verdict: str
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "authority": self.authority,
            "actor": self.actor,
            "verdict": self.verdict,
            "valid": self.valid,
            "problems": list(self.problems),
        }


def _held(user: dict[str, Any], authority: str, day: str) -> bool:
    return any(
        h.get("authority") == authority
        and str(h.get("from")) <= day
        and (h.get("to") is None or day <= str(h.get("to")))
        for h in user.get("holdings", [])
    )


def check_signatures(
    case: dict[str, Any], users: dict[str, dict[str, Any]] | None
) -> list[SignatureCheck]:
    """Check every signed answer of a case (as ``cases show --json`` writes it) offline.

    A signature must verify, and everything the record says of the answer
    (verdict, office, actor, delegation, reason, time) must be what was signed,
    for this case, this request and this decision, for an office the decision
    required. With ``users`` (as ``users list --json`` writes them) the key
    comes from that registry, not from the case file, and the office must
    have been held on the day by the actor (or by the holder they answered for).
    """
    decision = case.get("decision") or {}
    required = {a.get("authority") for a in decision.get("required_approvals", [])}
    expected = {
        "case_id": case.get("id"),
        "request_digest": case.get("request_digest"),
        "decision_id": decision.get("decision_id"),
    }
    checks = []
    for answer in case.get("approvals", []):
        problems: list[str] = []
        try:
            statement = json.loads(answer["statement"])
        except (KeyError, TypeError, json.JSONDecodeError):
            statement = None
        if not isinstance(statement, dict):
            checks.append(
                SignatureCheck(
                    str(answer.get("authority")),
                    str(answer.get("actor")),
                    str(answer.get("verdict")),
                    ("the signed statement is missing or not a JSON object",),
                )
            )
            continue
        actor = str(answer.get("actor"))
        user = None if users is None else users.get(actor)
        key = answer.get("public_key") if users is None else (user or {}).get("public_key")
        message = str(answer.get("statement", "")).encode("utf-8")
        if not key or not signing.verify(str(key), message, str(answer.get("signature", ""))):
            problems.append("signature does not verify against the actor's public key")
        problems += [
            f"signed {field} does not match the case"
            for field, value in expected.items()
            if statement.get(field) != value
        ]
        problems += [
            f"signed {field} does not match the record"
            for field in ("authority", "verdict", "actor", "on_behalf_of", "reason", "at")
            if statement.get(field) != answer.get(field)
        ]
        authority = str(statement.get("authority"))
        if authority not in required:
            problems.append(f"the decision did not require {authority}")
        if users is not None:
            holder_id = statement.get("on_behalf_of") or actor
            holder = users.get(str(holder_id))
            day = str(statement.get("at", ""))[:10]
            if holder is None or not _held(holder, authority, day):
                problems.append(f"{holder_id} did not hold {authority} on {day}")
        checks.append(SignatureCheck(authority, actor, str(answer.get("verdict")), tuple(problems)))
    return checks


def ledger_page(
    store: Store,
    *,
    max_level: int | None,
    case_id: str | None = None,
    type: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Events newest first, as readers see them: none of a case above their clearance."""
    with store.reading() as tx:
        events = tx.ledger_page(
            max_level=max_level, case_id=case_id, type=type, before=before, limit=limit
        )
    return [
        {"seq": e.seq, "case_id": e.case_id, "hash": e.hash, **json.loads(e.body)} for e in events
    ]
