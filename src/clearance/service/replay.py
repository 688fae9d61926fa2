"""Replay: the stored cases of a period judged again under a candidate bundle.

A policy author wants to know what a proposed bundle would have done to the
cases already decided, before it takes effect. Replay puts the candidate in
place of its holder's bundles on every date of the period (the other holders
keep the bundle in force on each case's date: the pack's, or a proposal
activated in the database, ``service.policy_in_force``), decides every
stored request of the period again, and reports each case whose outcome
would change, with the candidate's determining policies beside the reasons
on record.

A transfer is judged on the stockpile facts its decision recorded, so that
the only difference is the policy; a decision that recorded none lets the
screener work them out from the pack's figures, as screening does. Cases are
read by the columns that class them (service/replay_keys.py) and judged whole
only where their class is new or their outcome changes. A case whose request
or decision no longer reads (changed in the database) is named as not judged,
with the reader's words, and the rest go on.

The work fans out over processes (docs/operations.md on several workers). A forked
worker starts from the parent's loaded pack and candidate, parsed Cedar
included, since it inherits the parent's memory; parsed Cedar objects cannot
be pickled, so a worker that is spawned (where the system cannot fork) loads
them again from their folders. Each worker opens its own connection; the
parent reads only the lowest and highest case number of the period and how
many cases there are, judges the first range itself (so forked workers start
knowing its classes) and hands out the other ranges, a few in flight per
worker, so neither memory nor the parent limits how many cases there are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from clearance.core.decision import RecordedDecision, outcome_of
from clearance.core.events import PayloadError
from clearance.core.request import (
    AnyRequest,
    TransferRequest,
    UnreadableRequest,
    check_against,
)
from clearance.core.stockpile import StockpileFacts
from clearance.errors import ClearanceError, InputError
from clearance.policy.bundle import PolicyBundle
from clearance.policy.diff import Probe, read_bundle
from clearance.policy.engine import Screener
from clearance.policy.entities import zone_labels
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack, load_pack
from clearance.service.policy_in_force import policy_in_force
from clearance.service.replay_keys import OutcomeKeys
from clearance.service.replay_results import Change, ReplayReport, Skipped
from clearance.store.compared_parts import ComparedParts
from clearance.store.db import open_database
from clearance.store.repository import Store
from clearance.store.stored_cases import (
    KeyedCase,
    StoredCase,
    WholeCases,
    count_stored_cases,
    keyed_cases,
    keyed_cases_between,
    number_span,
    stored_cases,
    whole_reader,
)

__all__ = [
    "BATCH",
    "Change",
    "Rejudger",
    "ReplayReport",
    "Skipped",
    "cases_in_period",
    "check_period",
    "default_workers",
    "judged_batches",
    "load_candidate",
    "replay",
    "stored_probes",
]

Progress = Callable[[int], None]
Period = tuple[dt.date | None, dt.date | None]
Judged = tuple[int, list[Change], list[Skipped]]
"""What judging a batch or a range found: how many cases, those that change, those skipped."""


def _read_nothing(numbers: Collection[int]) -> dict[int, StoredCase]:
    """The ``WholeCases`` of a caller that hands only cases read whole: any case read by its
    columns alone is named as one that could not be read whole."""
    return {}


BATCH = 500
"""Cases per batch: large enough that Cedar's per-call cost is shared, small enough to stream."""


def check_period(first: dt.date | None, last: dt.date | None) -> None:
    if first is not None and last is not None and first > last:
        raise InputError("option --from", f"{first} is after --to {last}")


def load_candidate(pack: ScenarioPack, folder: Path) -> PolicyBundle:
    """Load a bundle folder against ``pack``; refuse one the pack's history cannot take."""
    bundle = read_bundle(pack, folder, "--bundle")
    if bundle.holder not in pack.history.holders:
        raise InputError(
            "--bundle",
            f"holder '{bundle.holder}' has no policy history in pack '{pack.name}'"
            f" (holders: {', '.join(pack.history.holders)})",
        )
    return bundle


class _WithCandidate(BundleHistory):
    """The pack's history, with the candidate in force for its holder on every date."""

    def __init__(self, history: BundleHistory, candidate: PolicyBundle) -> None:
        super().__init__(history)
        self._candidate = candidate

    def bundle_in_force(self, holder: str, on: dt.date) -> PolicyBundle | None:
        if holder == self._candidate.holder:
            return self._candidate
        return super().bundle_in_force(holder, on)


def _facts(
    screener: Screener, request: AnyRequest, recorded: StockpileFacts | None
) -> StockpileFacts | None:
    """The stockpile facts the decision recorded, or, if none, what the screener works out."""
    if recorded is not None:
        return recorded
    return screener.stockpile_facts(request, request.date)


def _judgeable(
    stored: StoredCase, screener: Screener
) -> tuple[AnyRequest, ComparedParts | RecordedDecision]:
    """The stored request and decision, if the request can be judged by the pack and the
    decision read; a ``ClearanceError`` saying why if not."""
    request, decision = stored.request, stored.decision
    if isinstance(request, UnreadableRequest):
        raise ClearanceError(request.problem)
    if isinstance(decision, PayloadError):
        raise ClearanceError(str(decision))
    check_against(request, screener.catalog)
    return request, decision


class Rejudger:
    """Decides stored cases again with the candidate substituted; one per process.

    A case read by its columns (``KeyedCase``) whose class has been judged and whose
    outcome on record is the class's is not read further (service/replay_keys.py); every
    other case is read and judged whole."""

    def __init__(self, pack: ScenarioPack, candidate: PolicyBundle) -> None:
        history = _WithCandidate(pack.history, candidate)
        self.screener = Screener(dataclasses.replace(pack, history=history))
        self.holder = candidate.holder
        others = [b for b in pack.history if b.holder != candidate.holder]
        self.keys = OutcomeKeys([*others, candidate], pack.catalog)

    def judge(
        self, rows: Sequence[StoredCase | KeyedCase], whole: WholeCases = _read_nothing
    ) -> Judged:
        """``(examined, changes, skipped)`` for one batch of stored cases, in number order;
        ``whole`` reads those of the cases read by their columns that must be judged whole,
        in rounds (``OutcomeKeys.sift``): the first case of a class new to the batch is
        judged before the others of its class are looked at again."""
        changes: list[Change] = []
        skipped: list[Skipped] = []
        self._judge_whole([(row, None) for row in rows if isinstance(row, StoredCase)],
                          changes, skipped)  # fmt: skip
        waiting = [row for row in rows if isinstance(row, KeyedCase)]
        tried: set[object] = set()
        while waiting:
            now, waiting, tried = self.keys.sift(waiting, tried)
            found = whole([row.number for row in now])
            read: list[tuple[StoredCase, KeyedCase | None]] = []
            for row in now:
                stored = found.get(row.number)
                if stored is None:
                    skipped.append(Skipped(row.number, "it could not be read whole"))
                else:
                    read.append((stored, row))
            self._judge_whole(read, changes, skipped)
        changes.sort(key=lambda change: change.number)
        skipped.sort(key=lambda skip: skip.number)
        return len(rows), changes, skipped

    def _judge_whole(
        self,
        rows: list[tuple[StoredCase, KeyedCase | None]],
        changes: list[Change],
        skipped: list[Skipped],
    ) -> None:
        """Judge cases read whole; add those that change to ``changes``, those that cannot be
        judged to ``skipped``, and keep each keyed case's class outcome."""
        keyed_by_number = {stored.number: keyed for stored, keyed in rows if keyed is not None}
        kept: list[tuple[StoredCase, AnyRequest, ComparedParts | RecordedDecision]] = []
        for stored, _ in rows:
            try:
                kept.append((stored, *_judgeable(stored, self.screener)))
            except ClearanceError as exc:
                skipped.append(Skipped(stored.number, exc.message))
        judged = self.screener.judgements_of(
            [request for _, request, _ in kept],
            stockpile=[_facts(self.screener, request, made.stockpile) for _, request, made in kept],
        )
        pairs = zip(kept, judged, strict=True)  # pragma: no mutate
        for (row, request, recorded), judgements in pairs:
            outcome = outcome_of(judgements)
            keyed = keyed_by_number.get(row.number)
            if keyed is not None:
                self.keys.learn(keyed, isinstance(request, TransferRequest), outcome.value)
            if outcome == recorded.outcome:
                continue
            mine = [j for j in judgements if j.holder.party == self.holder]
            changes.append(
                Change(
                    case_id=row.id,
                    number=row.number,
                    request=request.as_dict(),
                    state=row.state,
                    was=recorded.outcome.value,
                    would_be=outcome.value,
                    was_reasons=recorded.reasons,
                    would_be_reasons=tuple(r for j in mine for r in j.reasons),
                    notes=tuple(n for j in mine for n in j.notes),
                    zones=zone_labels(self.screener.catalog, request),
                )
            )


_worker: tuple[Rejudger, Store] | None = None


def _start_worker(judge_with: Rejudger | tuple[str | None, str], url: str) -> None:
    """Keep the worker's rejudger and open its own connection: a forked worker is handed the
    parent's rejudger, a spawned one the pack's and the candidate's folders to load."""
    global _worker
    store = Store(open_database(url))
    if not isinstance(judge_with, Rejudger):
        pack_path, folder = judge_with
        pack = policy_in_force(store, load_pack(pack_path))
        judge_with = Rejudger(pack, load_candidate(pack, Path(folder)))
    _worker = (judge_with, store)


def _judge_range(
    rejudger: Rejudger, store: Store, numbers: tuple[int, int], period: Period
) -> Judged:
    """Read and judge the cases of the period numbered ``numbers`` (lowest, highest)."""
    first, last = period
    rows = keyed_cases_between(store, *numbers, first=first, last=last)
    with whole_reader(store) as whole:
        return rejudger.judge(rows, whole)


def _judge_in_worker(numbers: tuple[int, int], period: Period) -> Judged:
    """Read and judge one range of case numbers: the worker reads its own rows."""
    assert _worker is not None
    return _judge_range(*_worker, numbers, period)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _ranges(span: tuple[int, int, int] | None, workers: int, batch: int) -> list[tuple[int, int]]:
    """Ranges of case numbers to hand to workers, from the lowest and highest number of the
    period's cases and how many there are (None: there are none): about eight per worker,
    so each pays its query and its hand-over a few times only, each of at least ``batch``
    cases where the numbers run on without gaps, at most twenty batches' worth of numbers
    where they do."""
    if span is None:
        return []
    low, high, count = span
    size = min(max(batch, -(-count // (8 * workers))), 20 * batch)
    width = -(-(high - low + 1) // -(-count // size))
    return [(start, min(start + width - 1, high)) for start in range(low, high + 1, width)]


def _in_pool(
    store: Store,
    workers: int,
    rejudger: Rejudger,
    sources: tuple[Path | None, Path],
    period: Period,
    batch: int,
) -> Iterator[Judged]:
    """Results in range order, with at most two ranges per worker in flight (``_ranges``).

    The parent judges the first range itself, before any worker is forked, so that every
    worker starts knowing the outcome of the classes of cases that range held (the most
    common ones) instead of each judging them whole again. Then it sends only ranges of
    case numbers; each worker reads its own rows through its own connection, so the parent
    is not the bottleneck. ``sources`` are the pack's and the candidate's folders, for
    workers that cannot inherit ``rejudger``.
    """
    ranges = _ranges(number_span(store, first=period[0], last=period[1]), workers, batch)
    for numbers in ranges[:1]:
        yield _judge_range(rejudger, store, numbers, period)
    if len(ranges) < 2:
        return
    judge_with: Rejudger | tuple[str | None, str]
    if "fork" in mp.get_all_start_methods():
        method, judge_with = "fork", rejudger
    else:
        pack_path, folder = sources
        method, judge_with = "spawn", (None if pack_path is None else str(pack_path), str(folder))
    url = store.database.engine.url.render_as_string(hide_password=False)  # pragma: no mutate
    args = (judge_with, url)
    with ProcessPoolExecutor(
        workers, mp_context=mp.get_context(method), initializer=_start_worker, initargs=args
    ) as pool:
        pending: deque[Future[Judged]] = deque()
        for numbers in ranges[1:]:
            pending.append(pool.submit(_judge_in_worker, numbers, period))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def judged_batches(
    store: Store, rejudger: Rejudger, period: Period, batch: int = BATCH
) -> Iterator[Judged]:
    """``Rejudger.judge``'s answer for each batch of the period's cases, in this process."""
    first, last = period
    with whole_reader(store) as whole:
        for rows in keyed_cases(store, first=first, last=last, batch=batch):
            yield rejudger.judge(rows, whole)


def replay(
    store: Store,
    pack_path: Path | None,
    folder: Path,
    *,
    first: dt.date | None,
    last: dt.date | None,
    workers: int = 1,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> ReplayReport:
    """Judge every stored case dated ``first``..``last`` again under the bundle in ``folder``.

    Bad input is refused before any case is read: a period that ends before it
    begins, a folder that is not a valid bundle of a holder the pack knows.
    """
    check_period(first, last)
    pack = policy_in_force(store, load_pack(pack_path))
    candidate = load_candidate(pack, folder)
    rejudger = Rejudger(pack, candidate)
    if workers > 1:
        results = _in_pool(store, workers, rejudger, (pack_path, folder), (first, last), batch)
    else:
        results = judged_batches(store, rejudger, (first, last), batch)
    examined, changes, skipped = 0, [], []
    for count, changed, passed_over in results:
        examined += count
        changes.extend(changed)
        skipped.extend(passed_over)
        if progress is not None:
            progress(count)
    return ReplayReport(candidate, first, last, examined, tuple(changes), tuple(skipped))


def stored_probes(store: Store, screener: Screener) -> Iterator[Probe]:
    """Every stored case as a request to compare bundles on, with the stockpile facts it saw;
    a case the pack can no longer judge is left out."""
    for rows in stored_cases(store, batch=BATCH):  # pragma: no mutate
        for row in rows:
            try:
                request, decision = _judgeable(row, screener)
            except ClearanceError:
                continue
            facts = _facts(screener, request, decision.stockpile)
            yield Probe("stored", f"case {row.number}", request, stockpile=facts)


def cases_in_period(store: Store, first: dt.date | None, last: dt.date | None) -> int:
    """How many stored cases a replay of the period will read (for a progress bar)."""
    return count_stored_cases(store, first=first, last=last)
