"""Replay: the stored cases of a period judged again under a candidate bundle.

A policy author wants to know what a proposed bundle would have done to the
cases already decided, before it takes effect. Replay puts the candidate in
place of its holder's bundles on every date of the period (the other holders
keep the bundle in force on each case's date: the pack's, or a proposal
activated in the database, ``service.policy_in_force``), decides every
stored request of the period again (service/replay_judging.py), and reports
each case whose outcome would change, with the candidate's determining
policies beside the reasons on record.

The work fans out over processes (docs/operations.md on several workers). A forked
worker starts from the parent's loaded pack and candidate, parsed Cedar
included, since it inherits the parent's memory; parsed Cedar objects cannot
be pickled, so a worker that is spawned (where the system cannot fork) loads
them again from their folders. Each worker opens its own connection; the
parent reads only the lowest and highest case number of the period and how
many cases there are and hands out ranges of case numbers, a few in flight
per worker, so neither memory nor the parent limits how many cases there
are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from clearance.errors import ClearanceError, InputError
from clearance.policy.diff import Probe
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.service.collector import collector_paused
from clearance.service.policy_in_force import policy_in_force
from clearance.service.replay_judging import (
    Judged,
    Rejudger,
    judgeable,
    load_candidate,
    recorded_facts,
)
from clearance.service.replay_results import Change, ReplayReport, Skipped
from clearance.store.db import open_database
from clearance.store.repository import Store
from clearance.store.stored_cases import (
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
    "ReplayReport",
    "Skipped",
    "cases_in_period",
    "check_period",
    "default_workers",
    "judged_batches",
    "replay",
    "stored_probes",
]

Progress = Callable[[int], None]
Period = tuple[dt.date | None, dt.date | None]

BATCH = 500
"""Cases per batch: large enough that Cedar's per-call cost is shared, small enough to stream."""


def check_period(first: dt.date | None, last: dt.date | None) -> None:
    if first is not None and last is not None and first > last:
        raise InputError("option --from", f"{first} is after --to {last}")


_worker: tuple[Rejudger, Store] | None = None


def _start_worker(judge_with: Rejudger | tuple[str | None, str], url: str) -> None:
    """Keep the worker's rejudger and open its own connection: a forked worker is handed the
    parent's rejudger, a spawned one the pack's and the candidate's folders to load.

    The worker's cycle collector stays off for its life, which is this replay's
    (``service.collector``): a pass would walk every object a forked worker inherited, and so
    copy each page of them, which made each worker a third slower per case
    (docs/benchmarks.md)."""
    global _worker
    gc.disable()
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
) -> Generator[Judged, None, None]:
    """Results in range order, with at most two ranges per worker in flight (``_ranges``).

    The parent sends only ranges of case numbers; each worker reads its own rows through its
    own connection, so the parent is not the bottleneck. Each worker learns the classes of
    cases for itself: the parent used to judge the first range before it forked, so that
    the workers would start knowing its classes, but that range was then judged by one core
    while the other waited, which cost more than each worker learning them at once
    (docs/benchmarks.md). ``sources`` are the pack's and the candidate's folders, for
    workers that cannot inherit ``rejudger``.
    """
    ranges = _ranges(number_span(store, first=period[0], last=period[1]), workers, batch)
    if len(ranges) < 2:  # no work to share: not worth starting a pool
        for numbers in ranges:
            yield _judge_range(rejudger, store, numbers, period)
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
        for numbers in ranges:
            pending.append(pool.submit(_judge_in_worker, numbers, period))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def judged_batches(
    store: Store, rejudger: Rejudger, period: Period, batch: int = BATCH
) -> Generator[Judged, None, None]:
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
    # Paused from the pack's load on: the pack and the database layer's first query make
    # many long-lived objects, and the passes they set off walked them all (docs/benchmarks.md).
    # The workers stop even if ``progress`` raises; forked ones start with the collector off.
    with collector_paused():
        pack = policy_in_force(store, load_pack(pack_path))
        candidate = load_candidate(pack, folder)
        rejudger = Rejudger(pack, candidate)
        results: Generator[Judged, None, None]
        if workers > 1:
            results = _in_pool(store, workers, rejudger, (pack_path, folder), (first, last), batch)
        else:
            results = judged_batches(store, rejudger, (first, last), batch)
        examined, changes, skipped = 0, [], []
        with contextlib.closing(results):
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
                request, decision = judgeable(row, screener)
            except ClearanceError:
                continue
            facts = recorded_facts(screener, request, decision.stockpile)
            yield Probe("stored", f"case {row.number}", request, stockpile=facts)


def cases_in_period(store: Store, first: dt.date | None, last: dt.date | None) -> int:
    """How many stored cases a replay of the period will read (for a progress bar)."""
    return count_stored_cases(store, first=first, last=last)
