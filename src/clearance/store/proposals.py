"""Policy bundle proposals: the store side (reached through ``Transaction.proposals``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearance.store.models import BundleProposal
from clearance.store.records import aware

__all__ = ["ProposalRecord", "ProposalTables"]


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    id: str
    number: int
    holder: str
    effective_from: dt.date
    title: str
    revision: str
    files: str
    tests: str
    tests_passed: bool
    state: str
    proposed_by: str
    proposed_at: dt.datetime
    activated_by: str | None = None
    authority: str | None = None
    activated_at: dt.datetime | None = None
    statement: str | None = None
    signature: str | None = None


def _record(row: BundleProposal) -> ProposalRecord:
    return ProposalRecord(
        row.id,
        row.number,
        row.holder,
        row.effective_from,
        row.title,
        row.revision,
        row.files,
        row.tests,
        row.tests_passed,
        row.state,
        row.proposed_by,
        aware(row.proposed_at),
        row.activated_by,
        row.authority,
        None if row.activated_at is None else aware(row.activated_at),
        row.statement,
        row.signature,
    )


class ProposalTables:
    """Proposal queries inside one transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def next_number(self) -> int:
        highest = self._session.scalar(select(func.max(BundleProposal.number)))
        return int(highest or 0) + 1

    def add(self, record: ProposalRecord) -> None:
        self._session.add(
            BundleProposal(
                id=record.id,
                number=record.number,
                holder=record.holder,
                effective_from=record.effective_from,
                title=record.title,
                revision=record.revision,
                files=record.files,
                tests=record.tests,
                tests_passed=record.tests_passed,
                state=record.state,
                proposed_by=record.proposed_by,
                proposed_at=record.proposed_at,
            )
        )
        self._session.flush()

    def get(self, number: int, *, lock: bool = False) -> ProposalRecord | None:
        query = select(BundleProposal).where(BundleProposal.number == number)
        if lock:
            query = query.with_for_update()
        row = self._session.scalar(query.execution_options(populate_existing=True))
        return None if row is None else _record(row)

    def all(self, *, state: str | None = None) -> list[ProposalRecord]:
        query = select(BundleProposal).order_by(BundleProposal.number)
        if state is not None:
            query = query.where(BundleProposal.state == state)
        return [_record(r) for r in self._session.scalars(query)]

    def activated_marker(self) -> tuple[int, int]:
        """(how many, highest number) of activated proposals: changes when one is activated."""
        count, highest = self._session.execute(
            select(func.count(), func.max(BundleProposal.number)).where(
                BundleProposal.state == "activated"
            )
        ).one()
        return int(count), int(highest or 0)

    def activate(
        self,
        number: int,
        *,
        actor: str,
        authority: str,
        at: dt.datetime,
        statement: str,
        signature: str,
    ) -> ProposalRecord:
        row = self._session.scalar(select(BundleProposal).where(BundleProposal.number == number))
        assert row is not None
        row.state = "activated"
        row.activated_by = actor
        row.authority = authority
        row.activated_at = at
        row.statement = statement
        row.signature = signature
        self._session.flush()
        return _record(row)
