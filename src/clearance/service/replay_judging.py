"""Replay's judging: stored cases decided again with a candidate bundle in place of its holder's.

Replay (service/replay.py) and a proposal's impact (service/proposal_impact.py)
both ask it. A transfer is judged on the stockpile facts its decision
recorded, so that the only difference is the policy; a decision that recorded
none lets the screener work them out from the pack's figures, as screening
does. Cases are read by the columns that class them (service/replay_keys.py)
and judged whole only where their class is new or their outcome changes. A
case whose request or decision no longer reads (changed in the database) is
named as not judged, with the reader's words, and the rest go on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
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
from clearance.policy.diff import read_bundle
from clearance.policy.engine import Screener
from clearance.policy.entities import zone_labels
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack
from clearance.service.replay_keys import OutcomeKeys
from clearance.service.replay_results import Change, Skipped
from clearance.store.compared_parts import ComparedParts
from clearance.store.stored_cases import KeyedCase, StoredCase, WholeCases

__all__ = ["Judged", "Rejudger", "judgeable", "load_candidate", "recorded_facts"]

Judged = tuple[int, list[Change], list[Skipped]]
"""What judging a batch or a range found: how many cases, those that change, those skipped."""


def _read_nothing(numbers: Collection[int]) -> dict[int, StoredCase]:
    """The ``WholeCases`` of a caller that hands only cases read whole: any case read by its
    columns alone is named as one that could not be read whole."""
    return {}


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


def recorded_facts(
    screener: Screener, request: AnyRequest, recorded: StockpileFacts | None
) -> StockpileFacts | None:
    """The stockpile facts the decision recorded, or, if none, what the screener works out."""
    if recorded is not None:
        return recorded
    return screener.stockpile_facts(request, request.date)


def judgeable(
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
                kept.append((stored, *judgeable(stored, self.screener)))
            except ClearanceError as exc:
                skipped.append(Skipped(stored.number, exc.message))
        judged = self.screener.judgements_of(
            [request for _, request, _ in kept],
            stockpile=[
                recorded_facts(self.screener, request, made.stockpile) for _, request, made in kept
            ],
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
