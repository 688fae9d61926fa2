"""Auditing the ledger in the database: the chain, its anchors, its seals, the tables' facts.

``verify`` checks, in this order, and reports every kind of problem it finds
with the first event it concerns:

1. **the chain** (``core.chain``): sequence, links, hashes, and every column
   bound to its event; and no row of the ledger's table beside the chain;
2. **the anchors** (``core.anchors``): every checkpoint in the database, the
   witness file beside it and any checkpoint given by the auditor must carry
   the system's signature and be held by the chain: a ledger cut short or
   rewritten is caught here, and located between the last anchor that holds
   and the first that does not;
3. **the seals** of every event after the last checkpoint that holds (all of
   them with ``all_seals``): an event appended or rewritten without the
   system key is caught here, at that event. The witness does not end this
   sweep: it is written after every commit, over whatever ledger the system
   extended, so it vouches for its own event only;
4. **the tables** (``service.state_check``): every fact the tables hold must be
   the one the ledger's events say;
5. **the file** (``store.integrity``): on SQLite, every index must still match
   its table, since some reads (replay's, the dashboard's) read an index alone.

A long ledger's chain is checked by several processes at once, each over its
own run of sequence numbers; ``stitch`` joins the runs.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearance.core.anchors import Anchor, Checkpoint, check_anchors, seal_valid
from clearance.core.chain import GENESIS, ChainReport, ChainVerifier, Scheme, Segment, stitch
from clearance.service.anchoring import (
    WITNESS_FILE,
    Witness,
    installation_key,
    registered_keys,
)
from clearance.service.findings import Finding
from clearance.service.read_ahead import read_ahead
from clearance.service.state_check import check_tables
from clearance.store.integrity import file_problems
from clearance.store.repository import Store

__all__ = [
    "AuditReport",
    "Finding",
    "TrustedKey",
    "anchors_from",
    "judge",
    "seal_findings",
    "verify",
    "verify_installation",
]

Progress = Callable[[int], None]

PARALLEL_FROM = 200_000
"""Ledgers at least this long have their chain checked by several processes at once."""

BATCH = 10_000
"""Events read at a time: a batch is hashed while the next is read (``read_ahead``), so about
three are held at once per process, a few megabytes."""


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """The system public key seals and checkpoints are checked against, and where it came from
    (in words: "the system key file", "--public-key", "the ledger itself", …)."""

    public_key: str
    source: str
    independent: bool = True
    """False when the key comes from the record being checked, so the check shows only that
    the record is consistent with itself."""


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What ``verify`` (and ``ledger_files.verify_export``) found."""

    events: int
    head: str = GENESIS
    findings: tuple[Finding, ...] = ()
    key: TrustedKey | None = None
    anchored_to: int = 0
    """The sequence number of the last anchor the chain holds (0: none)."""
    checkpoints: int = 0
    seals: int = 0
    rows: int = 0
    """How many table rows were checked against the ledger's facts."""
    unverifiable: int = 0
    redacted: int = 0
    """How many events of an export carry no body (redacted for its reader)."""
    chain_events: int = field(default=0)
    """How many events the chain check passed before its first problem (all, when whole)."""
    file_checked: bool = False
    """Whether the database checked its own file, every index against its table
    (store/integrity.py): SQLite does; PostgreSQL and an export do not."""

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad(self) -> int | None:
        located = [f.seq for f in self.findings if f.seq is not None]
        return min(located) if located else None

    @property
    def problem(self) -> str:
        return self.findings[0].problem if self.findings else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head": self.head,
            "first_bad_seq": self.first_bad,
            "problem": self.problem,
            "problems": [f.as_dict() for f in self.findings],
            "anchored_to": self.anchored_to,
            "checkpoints_checked": self.checkpoints,
            "seals_checked": self.seals,
            "rows_checked": self.rows,
            "file_checked": self.file_checked,
            "unverifiable": self.unverifiable,
            "redacted": self.redacted,
            "system_key": None if self.key is None else self.key.public_key,
            "system_key_source": None if self.key is None else self.key.source,
        }


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
    watch: Collection[int],
    counter: Any | None = None,
    *,
    read_from: int | None = None,
) -> Segment:
    """Check events ``first``..``last`` (reading from ``read_from`` to catch stray low numbers),
    the next batch read while this one is hashed (``read_ahead``)."""
    verifier = ChainVerifier(first, last, prev, watch, whole=True)  # pragma: no mutate
    start = first if read_from is None else read_from
    with closing(read_ahead(store.ledger_rows(start, last, BATCH))) as batches:  # pragma: no mutate
        for batch in batches:
            if not verifier.feed(batch):
                break
            if counter is not None:
                with counter.get_lock():
                    counter.value += len(batch)
    return verifier.segment()


_child: tuple[Store, Any, frozenset[int]] | None = None


def _start_child(store: Store, counter: Any, watch: frozenset[int]) -> None:
    # A forked process must not use the connections its parent's pool holds.
    store.database.engine.dispose(close=False)  # pragma: no mutate
    global _child
    _child = (store, counter, watch)


def _check_in_child(first: int, last: int, prev: str | None, read_from: int) -> Segment:
    assert _child is not None
    store, counter, watch = _child
    return _check(
        store,
        first,
        last,
        prev,  # pragma: no mutate
        watch,
        counter,
        read_from=read_from,
    )


def _chain(
    store: Store, watch: frozenset[int], progress: Progress | None, workers: int | None
) -> ChainReport:
    low, high = store.ledger_bounds()
    if high == 0:
        return ChainReport(0)
    count = _workers() if workers is None else workers
    if count < 2 or (high < PARALLEL_FROM and workers is None):
        segment = _check(store, 1, high, GENESIS, watch, read_from=min(low, 1))  # pragma: no mutate
        if progress is not None:
            progress(segment.events)
        return stitch([segment])
    # The first run starts at 1 (or below, to catch a stray low number); the rest take
    # on trust the hash they link to, which stitch then checks.
    edges = [1 + (high * i) // count for i in range(count)] + [high + 1]
    context = mp.get_context("fork")  # pragma: no mutate
    counter = context.Value("q", 0)  # pragma: no mutate
    with ProcessPoolExecutor(
        count, mp_context=context, initializer=_start_child, initargs=(store, counter, watch)
    ) as pool:
        futures = [
            pool.submit(
                _check_in_child,
                edges[i],
                edges[i + 1] - 1,
                GENESIS if i == 0 else None,
                min(low, 1) if i == 0 else edges[i],  # pragma: no mutate
            )
            for i in range(count)
        ]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.1)  # pragma: no mutate
            if progress is not None:
                progress(counter.value)
        return stitch(f.result() for f in futures)


def anchors_from(
    checkpoints: Iterable[tuple[Checkpoint, str]],
    key: TrustedKey | None,
    witness: Witness | None = None,
) -> tuple[list[Anchor], list[Finding]]:
    """The checkpoints (``str``: where each was found, in words) and the witness that carry
    the system's signature, as anchors; a finding for each that does not, or for the lack of
    a key to check them with."""
    if key is None:
        return [], [Finding(None, "no system key to check seals and checkpoints against")]
    anchors, findings = [], []
    for checkpoint, where in checkpoints:
        why = checkpoint.problem(key.public_key)
        if why is None:
            anchors.append(checkpoint.anchor(where))
        else:
            seq = checkpoint.seq if isinstance(checkpoint.seq, int) else None
            findings.append(Finding(seq, f"the checkpoint of {checkpoint.at} ({where}): {why}"))
    found = None if witness is None else witness.anchor(key.public_key)
    if isinstance(found, str):
        findings.append(Finding(None, found))
    elif found is not None:
        anchors.append(found)
    return anchors, findings


def judge(
    chain: ChainReport,
    anchors: list[Anchor],
    findings: list[Finding],
    key: TrustedKey | None,
    seals: Callable[[int], Iterable[tuple[int, int, str, str | None]]],
    *,
    all_seals: bool,
) -> AuditReport:
    """What a checked chain, its anchors and its seals add up to, for the database and an
    export alike: ``seals(start)`` gives the events' seals from sequence number ``start``, the
    first event no checkpoint that holds vouches for."""
    if not chain.ok:
        return AuditReport(
            chain.events,
            chain.head,
            (Finding(chain.first_bad, chain.problem), *findings),
            key,
            chain_events=chain.events,
        )
    held, broken = check_anchors(chain.events, chain.seen, anchors)
    if broken is not None:
        findings = [*findings, Finding(*broken)]
    checked = 0
    if key is not None:
        checked, bad = seal_findings(seals(1 if all_seals else held + 1), key.public_key)
        findings = [*findings, *bad]
    return AuditReport(
        chain.events,
        chain.head,
        tuple(findings),
        key,
        anchored_to=held,
        checkpoints=len(anchors),
        seals=checked,
        unverifiable=chain.unverifiable,
        chain_events=chain.events,
    )


def seal_findings(
    seals: Iterable[tuple[int, int, str, str | None]], public_key: str
) -> tuple[int, list[Finding]]:
    """Check ``(seq, scheme, hash, seal)`` of events no anchor vouches for: how many were
    checked, and a finding for the first that is not sealed by the system (with how many more)."""
    checked, bad = 0, []
    for seq, scheme, hash_, seal in seals:
        checked += 1
        if scheme == Scheme.V1:
            bad.append((seq, f"event {seq} carries no seal and no checkpoint vouches for it"))
        elif not seal_valid(public_key, seq, hash_, seal):
            bad.append(
                (
                    seq,
                    f"event {seq} is not sealed by the system key: it was written or changed"
                    " outside clearance",
                )
            )
    if not bad:
        return checked, []
    more = f" (and {len(bad) - 1} later events alike)" if len(bad) > 1 else ""
    return checked, [Finding(bad[0][0], bad[0][1] + more)]


def _stored_seals(
    store: Store, first: int, last: int
) -> Iterable[tuple[int, int, str, str | None]]:
    for batch in store.ledger_seals(first, last):
        for seq, hash_, seal in batch:
            yield int(seq), Scheme.V1 if seal is None else Scheme.V2, str(hash_), seal


_EDITED = "an index or a table was changed in the file or in its schema, outside clearance"


def verify(
    store: Store,
    *,
    key: TrustedKey | None = None,
    witness: Witness | None = None,
    given: Sequence[tuple[Checkpoint, str]] = (),
    progress: Progress | None = None,
    workers: int | None = None,
    all_seals: bool = False,
    tables: bool = True,
) -> AuditReport:
    """Check the ledger in the database (module docstring); ``given``: checkpoints the auditor
    holds, with where each came from. Without ``key``, the installation's own key file is
    trusted, or failing that the last system key recorded on the ledger, and the report then
    says the check is not independent."""
    if key is None and (own := installation_key(store)) is not None:
        key = TrustedKey(own, "the installation's system key file")
    if key is None and (known := registered_keys(store)):
        key = TrustedKey(known[-1], "the ledger itself", independent=False)
    with store.reading() as tx:
        stored = [(s.checkpoint, "in the database") for s in tx.checkpoints.all()]
    anchors, findings = anchors_from([*stored, *given], key, witness)
    chain = _chain(store, frozenset(a.seq for a in anchors), progress, workers)
    if chain.ok and (rows := store.ledger_count()) != chain.events:
        findings.append(
            Finding(
                None,
                f"the ledger holds {rows - chain.events} row(s) that are not events of the chain"
                f" (their sequence numbers are not 1 to {chain.events}): written outside clearance",
            )
        )
    report = judge(
        chain,
        anchors,
        findings,
        key,
        lambda start: _stored_seals(store, start, chain.events),
        all_seals=all_seals,
    )
    if not tables or not chain.ok:  # tables off only to measure the rest (bench/ledger.py)
        return report
    rows, table_findings = check_tables(store, chain.events)
    found = file_problems(store)
    file_findings = [
        Finding(None, f"the database file fails SQLite's integrity check: {problem} ({_EDITED})")
        for problem in found or ()
    ]
    return dataclasses.replace(
        report,
        findings=(*report.findings, *table_findings, *file_findings),
        rows=rows,
        file_checked=found is not None,
    )


def verify_installation(
    store: Store, data_dir: Path, *, key: TrustedKey | None = None, **options: Any
) -> AuditReport:
    """The installation checking its own ledger, with the witness kept in its data folder."""
    return verify(store, key=key, witness=Witness(data_dir / WITNESS_FILE), **options)
