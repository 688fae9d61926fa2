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
screener work them out from the pack's figures, as screening does.

The work fans out over processes (docs/operations.md on several workers). A forked
worker starts from the parent's loaded pack and candidate, parsed Cedar
included, since it inherits the parent's memory; parsed Cedar objects cannot
be pickled, so a worker that is spawned (where the system cannot fork) loads
them again from their folders. Each worker opens its own connection; the
parent reads only the case numbers of the period and hands out ranges of them,
a few in flight per worker, so neither memory nor the parent limits how many
cases there are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing as mp
import os
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.core.decision import outcome_of
from clearance.core.request import AnyRequest, StoredRequest, UnreadableRequest, check_against
from clearance.core.stockpile import StockpileFacts
from clearance.errors import ClearanceError, InputError
from clearance.policy.bundle import PolicyBundle
from clearance.policy.diff import Probe, read_bundle
from clearance.policy.engine import Screener
from clearance.policy.entities import zone_labels
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack, load_pack
from clearance.service.policy_in_force import policy_in_force
from clearance.store.db import open_database
from clearance.store.repository import Store
from clearance.store.stored_cases import (
    StoredCase,
    case_numbers,
    count_stored_cases,
    stored_cases,
    stored_cases_between,
)

__all__ = [
    "Change",
    "Rejudger",
    "ReplayReport",
    "Skipped",
    "cases_in_period",
    "check_period",
    "default_workers",
    "load_candidate",
    "replay",
    "stored_probes",
]

Progress = Callable[[int], None]
BATCH = 500
"""Cases per batch: large enough that Cedar's per-call cost is shared, small enough to stream."""


@dataclass(frozen=True, slots=True)
class Change:
    """One case the candidate would decide differently."""

    case_id: str
    number: int
    request: dict[str, Any]
    state: str
    was: str
    would_be: str
    was_reasons: tuple[str, ...]
    would_be_reasons: tuple[str, ...]
    """The candidate's determining policy ids (``US/us-strikes-in-russia-authorised``)."""
    notes: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    """The zones the target's region lay in on the request's date (``entities.zone_labels``)."""

    @property
    def kind(self) -> str:
        return f"{self.was} → {self.would_be}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "case_id": self.case_id,
            "request": self.request,
            "state": self.state,
            "was": self.was,
            "would_be": self.would_be,
            "kind": self.kind,
            "was_reasons": list(self.was_reasons),
            "would_be_reasons": list(self.would_be_reasons),
            "notes": list(self.notes),
            "zones": list(self.zones),
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """A stored case that cannot be judged against this pack (say, its system was removed)."""

    number: int
    problem: str


@dataclass(frozen=True, slots=True)
class ReplayReport:
    candidate: PolicyBundle
    first: dt.date | None
    last: dt.date | None
    examined: int
    changes: tuple[Change, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def by_kind(self) -> dict[str, int]:
        """How many cases change in each way, most frequent first."""
        return dict(Counter(c.kind for c in self.changes).most_common())

    @property
    def by_zone(self) -> dict[str, int]:
        """How many changed cases target each zone (a case in two zones counts in both);
        cases without a target region are not counted."""
        return dict(Counter(z for c in self.changes for z in c.zones).most_common())

    def as_dict(self) -> dict[str, Any]:
        bundle = self.candidate
        return {
            "bundle": {
                "holder": bundle.holder,
                "folder": bundle.folder,
                "title": bundle.title,
                "effective_from": bundle.effective_from.isoformat(),
                "revision": bundle.revision,
            },
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
            "examined": self.examined,
            "changed": len(self.changes),
            "by_kind": self.by_kind,
            "by_zone": self.by_zone,
            "changes": [c.as_dict() for c in self.changes],
            "skipped": [{"number": s.number, "problem": s.problem} for s in self.skipped],
        }


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


def _judgeable(request: StoredRequest, screener: Screener) -> AnyRequest:
    """The stored request, if the pack can judge it; a ``ClearanceError`` saying why if not."""
    if isinstance(request, UnreadableRequest):
        raise ClearanceError(request.problem)
    check_against(request, screener.catalog)
    return request


class Rejudger:
    """Decides stored cases again with the candidate substituted; one per process."""

    def __init__(self, pack: ScenarioPack, candidate: PolicyBundle) -> None:
        history = _WithCandidate(pack.history, candidate)
        self.screener = Screener(dataclasses.replace(pack, history=history))
        self.holder = candidate.holder

    def judge(self, rows: list[StoredCase]) -> tuple[int, list[Change], list[Skipped]]:
        """``(examined, changes, skipped)`` for one batch of stored cases."""
        kept: list[tuple[StoredCase, AnyRequest]] = []
        skipped: list[Skipped] = []
        for row in rows:
            try:
                kept.append((row, _judgeable(row.request, self.screener)))
            except ClearanceError as exc:
                skipped.append(Skipped(row.number, exc.message))
        judged = self.screener.judgements_of(
            [request for _, request in kept],
            stockpile=[
                _facts(self.screener, request, row.decision.stockpile) for row, request in kept
            ],
        )
        changes: list[Change] = []
        for (row, request), judgements in zip(kept, judged, strict=True):  # pragma: no mutate
            recorded = row.decision
            outcome = outcome_of(judgements)
            if outcome == recorded.outcome:
                continue
            mine = [j for j in judgements if j.holder.party == self.holder]
            changes.append(
                Change(
                    case_id=row.id,
                    number=row.number,
                    request=request.as_dict(),
                    state=row.state.value,
                    was=recorded.outcome.value,
                    would_be=outcome.value,
                    was_reasons=recorded.reasons,
                    would_be_reasons=tuple(r for j in mine for r in j.reasons),
                    notes=tuple(n for j in mine for n in j.notes),
                    zones=zone_labels(self.screener.catalog, request),
                )
            )
        return len(rows), changes, skipped


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


def _judge_in_worker(
    low: int, high: int, first: dt.date | None, last: dt.date | None
) -> tuple[int, list[Change], list[Skipped]]:
    """Read and judge one range of case numbers: the worker reads its own rows."""
    assert _worker is not None
    rejudger, store = _worker
    return rejudger.judge(stored_cases_between(store, low, high, first=first, last=last))


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _ranges(numbers: list[int], size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, len(numbers), size):
        chunk = numbers[start : start + size]
        yield chunk[0], chunk[-1]


def _in_pool(
    store: Store,
    workers: int,
    rejudger: Rejudger,
    sources: tuple[Path | None, Path],
    period: tuple[dt.date | None, dt.date | None],
    batch: int,
) -> Iterator[tuple[int, list[Change], list[Skipped]]]:
    """Results in range order, with at most two ranges per worker in flight.

    The parent sends only ranges of case numbers; each worker reads its own
    rows through its own connection, so the parent is not the bottleneck.
    ``sources`` are the pack's and the candidate's folders, for workers that
    cannot inherit ``rejudger``.
    """
    first, last = period
    numbers = case_numbers(store, first=first, last=last)
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
        pending: deque[Future[tuple[int, list[Change], list[Skipped]]]] = deque()
        for low, high in _ranges(numbers, batch):
            pending.append(pool.submit(_judge_in_worker, low, high, first, last))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


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
        results = map(rejudger.judge, stored_cases(store, first=first, last=last, batch=batch))
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
    for rows in stored_cases(store, first=None, last=None, batch=BATCH):  # pragma: no mutate
        for row in rows:
            try:
                request = _judgeable(row.request, screener)
            except ClearanceError:
                continue
            facts = _facts(screener, request, row.decision.stockpile)
            yield Probe("stored", f"case {row.number}", request, stockpile=facts)


def cases_in_period(store: Store, first: dt.date | None, last: dt.date | None) -> int:
    """How many stored cases a replay of the period will read (for a progress bar)."""
    return count_stored_cases(store, first=first, last=last)
