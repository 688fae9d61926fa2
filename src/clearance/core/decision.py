"""Outcomes, per-holder judgements and how they combine into one decision.

Each consent holder's policy gives a ``HolderJudgement``; ``combine`` folds
them: ``prohibited`` beats ``review_required`` beats ``permitted``, and the
approvals and conditions are the union. A prohibited decision lists no
approvals and no conditions: an approval would not help, so the decision never
says it would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from clearance.core.digest import canonical_json, sha256_hex
from clearance.core.holders import ConsentHolder
from clearance.core.stockpile import StockpileFacts
from clearance.core.waiting_periods import WaitingPeriod

__all__ = [
    "Decision",
    "HolderJudgement",
    "Outcome",
    "RecordedDecision",
    "RequiredApproval",
    "StoredDecision",
    "UnreadableDecision",
    "combine",
    "outcome_of",
]


class Outcome(StrEnum):
    """What a request may do, from most to least permissive."""

    PERMITTED = "permitted"
    REVIEW_REQUIRED = "review_required"
    PROHIBITED = "prohibited"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Outcome.PERMITTED: 0, Outcome.REVIEW_REQUIRED: 1, Outcome.PROHIBITED: 2}


@dataclass(frozen=True, slots=True, order=True)
class RequiredApproval:
    """An office whose holder must approve, and whether it may delegate that."""

    authority: str
    delegable: bool

    def as_dict(self) -> dict[str, object]:
        return {"authority": self.authority, "delegable": self.delegable}


@dataclass(frozen=True, slots=True)
class HolderJudgement:
    """One consent holder's answer under the bundle in force for it.

    ``reasons`` are the determining policy ids (``US/us-review-mechanism``);
    ``notes`` say in words what a policy id cannot (no bundle in force, an
    evaluation error that made the engine fail closed).
    """

    holder: ConsentHolder
    outcome: Outcome
    bundle: str | None
    bundle_effective_from: dt.date | None
    reasons: tuple[str, ...] = ()
    required_approvals: tuple[RequiredApproval, ...] = ()
    conditions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "party": self.holder.party,
            "outcome": self.outcome.value,
            "bundle": self.bundle,
            "bundle_effective_from": (
                self.bundle_effective_from.isoformat() if self.bundle_effective_from else None
            ),
            "paths": [path.as_dict() for path in self.holder.paths],
            "reasons": list(self.reasons),
            "required_approvals": [a.as_dict() for a in self.required_approvals],
            "conditions": list(self.conditions),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one request, with everything needed to trust and replay it."""

    decision_id: str
    outcome: Outcome
    request: Mapping[str, Any]
    request_digest: str
    judged_as_of: dt.date
    catalog_revision: str
    evaluated_at: dt.datetime
    judgements: tuple[HolderJudgement, ...]
    required_approvals: tuple[RequiredApproval, ...] = ()
    conditions: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    stockpile: StockpileFacts | None = None
    duration_us: int = field(default=0, compare=False)
    waiting_period: WaitingPeriod | None = None
    """A legislature's waiting period before execution (``core.waiting_periods``)."""

    @property
    def consent_holders(self) -> tuple[str, ...]:
        return tuple(j.holder.party for j in self.judgements)

    @property
    def bundles(self) -> dict[str, str | None]:
        return {j.holder.party: j.bundle for j in self.judgements}

    def as_dict(self) -> dict[str, Any]:
        """The documented JSON form (docs/formats.md); keys are a public contract.
        ``waiting_period`` is there only when there is one, so decisions without one keep
        the bytes (and digests) they always had."""
        record = {
            "decision_id": self.decision_id,
            "outcome": self.outcome.value,
            "consent_holders": list(self.consent_holders),
            "holder_paths": {
                j.holder.party: [p.text for p in j.holder.paths] for j in self.judgements
            },
            "required_approvals": [a.as_dict() for a in self.required_approvals],
            "conditions": list(self.conditions),
            "reasons": list(self.reasons),
            "bundles": self.bundles,
            "holders": [j.as_dict() for j in self.judgements],
            "stockpile": self.stockpile.as_dict() if self.stockpile else None,
            "request": dict(self.request),
            "request_digest": self.request_digest,
            "judged_as_of": self.judged_as_of.isoformat(),
            "catalog_revision": self.catalog_revision,
            "evaluated_at": self.evaluated_at.isoformat(),
            "duration_us": self.duration_us,
        }
        if self.waiting_period is not None:
            record["waiting_period"] = self.waiting_period.as_dict()
        return record


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """The decision a case keeps (``Decision.as_dict`` with its stockpile facts' nonce), read.

    The fields are what the use cases act on: the gates to answer, the conditions,
    the holders who may record one met, the bundles and stockpile facts to replay.
    ``record`` is the whole record as kept, read-only: it is a documented public
    format (docs/formats.md) shown as written, and it holds each holder's
    judgement and paths, which code shows but never interprets; rebuilding it from
    typed fields would be a second writer that every record ever kept must match.
    ``digest`` is the SHA-256 of its canonical JSON, which signed answers name; ``text``
    that canonical JSON, for a record about to be kept (``of``), so that it is encoded once
    for its digest, its stored text and the event that records it.
    """

    decision_id: str
    outcome: Outcome
    consent_holders: tuple[str, ...]
    required_approvals: tuple[RequiredApproval, ...]
    conditions: tuple[str, ...]
    reasons: tuple[str, ...]
    bundles: Mapping[str, str | None]
    stockpile: StockpileFacts | None
    record: Mapping[str, Any]
    digest: str
    waiting_period: WaitingPeriod | None = None
    text: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def read(
        cls, record: dict[str, Any], digest: str, *, text: str | None = None
    ) -> RecordedDecision:
        """The record's facts, checked; ``ValueError`` for a record that does not hold them
        (only one changed outside clearance does: ``audit verify`` names it). The record is
        taken over, not copied (replay reads a great many): the caller must not change it."""
        try:
            facts = record.get("stockpile")
            waiting = record.get("waiting_period")
            return cls(
                decision_id=str(record["decision_id"]),
                outcome=Outcome(record["outcome"]),
                consent_holders=tuple(map(str, record["consent_holders"])),
                required_approvals=tuple(
                    RequiredApproval(str(a["authority"]), bool(a["delegable"]))
                    for a in record["required_approvals"]
                ),
                conditions=tuple(map(str, record["conditions"])),
                reasons=tuple(map(str, record.get("reasons", ()))),
                bundles=MappingProxyType(record["bundles"]),
                stockpile=None if facts is None else StockpileFacts.from_dict(facts),
                record=MappingProxyType(record),
                digest=digest,
                waiting_period=None if waiting is None else WaitingPeriod.from_dict(waiting),
                text=text,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"the decision record lacks or misstates {exc}") from None

    @classmethod
    def of(cls, record: dict[str, Any]) -> RecordedDecision:
        """A record about to be kept, with its canonical JSON and that text's digest."""
        encoded = canonical_json(record)
        return cls.read(record, sha256_hex(encoded), text=encoded.decode())

    def as_dict(self) -> dict[str, Any]:
        """The record as kept (a new top-level dict; what it nests is the record's own)."""
        return dict(self.record)


def _union(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def merge_approvals(approvals: Iterable[RequiredApproval]) -> tuple[RequiredApproval, ...]:
    """One entry per office; if any gate says the office may not delegate, it may not."""
    delegable: dict[str, bool] = {}
    for approval in approvals:
        delegable[approval.authority] = (
            delegable.get(approval.authority, True) and approval.delegable
        )
    return tuple(RequiredApproval(a, d) for a, d in sorted(delegable.items()))


def outcome_of(judgements: Iterable[HolderJudgement]) -> Outcome:
    """The outcome of the most severe judgement (``combine``'s outcome, alone)."""
    return max((j.outcome for j in judgements), key=lambda o: o.severity, default=Outcome.PERMITTED)


def combine(
    judgements: Iterable[HolderJudgement],
) -> tuple[Outcome, tuple[RequiredApproval, ...], tuple[str, ...], tuple[str, ...]]:
    """Fold holders' judgements into (outcome, approvals, conditions, reasons).

    With no consent holder at all nothing restricts the request; in practice
    the origin is always a holder, so this does not arise from a valid catalog.
    """
    judgements = tuple(judgements)
    outcome = outcome_of(judgements)
    deciding = [j for j in judgements if j.outcome is outcome]
    reasons = _union(r for j in deciding for r in j.reasons)
    if outcome is Outcome.PROHIBITED:
        return outcome, (), (), reasons
    approvals = merge_approvals(a for j in judgements for a in j.required_approvals)
    conditions = _union(c for j in judgements for c in j.conditions)
    return outcome, approvals, conditions, reasons


@dataclass(frozen=True, slots=True)
class UnreadableDecision:
    """A case's stored decision that no longer reads as one, and why (``problem``).

    Only a change made outside clearance leaves one (``audit verify`` names it). The case
    is still listed with what its columns say; whatever needs the decision itself (its
    gates, its clocks, its page) refuses in the reader's words instead of guessing.
    """

    problem: str


StoredDecision = RecordedDecision | UnreadableDecision
"""A case's decision as the store hands it up: read, or kept with why it does not read."""
