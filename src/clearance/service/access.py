"""The one door: who may see and do what, for the web pages, the API and the command line.

Every rule of access is here, so that each interface asks the same question
and gets the same answer: a principal (a user as they stand in the database
on the day, or the local operator), an action named in ``Action``, and the
resource it is about. ``may(actor, action, resource)`` says yes or no;
``refusal`` says why not, in the words the caller shows. The use cases
resolve the principal inside their own transaction (``principal``), so a
change of roles, clearance or offices takes effect on the next request.

A resource the actor may not see is "not found" in the words of one that
does not exist: those words belong to the use case that looked it up (it
knows the reference it was given), so ``may`` answers for seeing and the use
case raises ``NotFoundError``. Everything else refused is ``PermissionDenied``
with the rule's words, which never name anything above the reader's clearance.
The rules in prose are docs/access.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.errors import ClearanceError, NotFoundError, PermissionDenied
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord, DelegationRecord, UserRecord

__all__ = [
    "OPERATOR",
    "Action",
    "CaseQuestion",
    "CaseScope",
    "Principal",
    "Submission",
    "check",
    "delegations_in_force",
    "held_offices",
    "holds",
    "may",
    "offices_in",
    "principal",
    "refusal",
    "submitter",
    "today",
]


class Action(StrEnum):
    """What a principal may be asked to be allowed, by name (the resource each is about)."""

    CASE_VIEW = "case.view"  # a CaseRecord: its level and, for a requester alone, its submitter
    CASE_SUBMIT = "case.submit"  # a Submission (or None): the requester role, party, level
    CASE_ANSWER = "case.answer"  # a CaseRecord: never one's own (the office is the gate's rule)
    CASE_WITHDRAW = "case.withdraw"  # a CaseRecord: its submitter only
    CASE_ASK = "case.ask"  # a CaseQuestion: a reviewer, or a holder of an open gate
    CASE_REPLY = "case.reply"  # a CaseRecord: its submitter only
    CASE_MEET_CONDITION = "case.meet_condition"  # a CaseRecord: the requester or a holder
    CASE_EXECUTE = "case.execute"  # a CaseRecord: the requesting party only
    CASES_COUNT_ALL = "cases.count_all"  # nothing: a count over every case at every level
    PROPOSAL_VIEW = "proposal.view"  # a party: the proposal's holder
    STOCK_VIEW = "stock.view"  # a party: whose stock figures
    LEDGER_READ = "ledger.read"  # nothing: the auditor role
    LEDGER_VERIFY = "ledger.verify"  # nothing: an auditor cleared TOP SECRET
    REPORT_VIEW = "report.view"  # nothing: the auditor role (the report counts what they see)
    TOKENS_MANAGE = "tokens.manage"  # a user id: whose API tokens
    SUBSCRIPTIONS_MANAGE = "subscriptions.manage"  # a user id: whose subscriptions
    NOTIFICATIONS_ADMIN = "notifications.admin"  # nothing: offices' subscriptions, dead letters


@dataclass(frozen=True, slots=True)
class Principal:
    """Who acts or reads: a user as the database holds them on the day, or the local
    operator (``user`` None: the command line run on the server, which sees everything).

    ``offices`` are the offices the user holds that day or answers for as a delegate.
    """

    user: UserRecord | None
    offices: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return ADMIN if self.user is None else self.user.id

    @property
    def clearance(self) -> Level:
        return Level.TOP_SECRET if self.user is None else Level(self.user.clearance)

    def has(self, role: Role) -> bool:
        """The role, or the admin role, which gives every other; the operator has them all."""
        if self.user is None:
            return True
        return role.value in self.user.roles or Role.ADMIN.value in self.user.roles

    @property
    def sees_every_case(self) -> bool:
        """Reviewers, auditors, admins and office holders see every case up to their
        clearance; a requester alone sees the cases they submitted."""
        return self.has(Role.REVIEWER) or self.has(Role.AUDITOR) or bool(self.offices)

    @property
    def sees_every_party(self) -> bool:
        """Reviewers, auditors and admins see every party's stock; holding an office does
        not widen this."""
        return self.has(Role.REVIEWER) or self.has(Role.AUDITOR)


OPERATOR = Principal(None)
"""The local operator: whoever runs the command line on the server, without ``--as``."""


@dataclass(frozen=True, slots=True)
class CaseScope:
    """The filters of the cases a principal may see, for lists, counts and summaries:
    ``max_level`` (None: every level) and ``submitted_by`` (None: anyone's)."""

    max_level: int | None
    submitted_by: str | None

    @classmethod
    def of(cls, actor: Principal) -> CaseScope:
        if actor.user is None:
            return cls(None, None)
        return cls(actor.user.clearance, None if actor.sees_every_case else actor.user.id)


@dataclass(frozen=True, slots=True)
class Submission:
    """A case about to be submitted: for whom (the requesting party) and at which level."""

    requester: str
    classification: int


@dataclass(frozen=True, slots=True)
class CaseQuestion:
    """A question about to be asked of a case's requester, for ``office`` (an open gate the
    asker holds or answers for; None when they hold none)."""

    case: CaseRecord
    office: str | None


def holds(tx: Transaction, user_id: str, authority: str, day: dt.date) -> bool:
    """Whether ``user_id``'s term in ``authority`` covers ``day``."""
    return any(h.covers(day) for h in tx.people.holdings(authority=authority, user_id=user_id))


def delegations_in_force(
    tx: Transaction, delegate_id: str, day: dt.date, *, authority: str | None = None
) -> list[DelegationRecord]:
    """The delegations ``delegate_id`` may answer by on ``day``: the delegation covers the
    day, and so does its holder's term (a delegation ends with the office it came from)."""
    return [
        d
        for d in tx.people.delegations(delegate_id=delegate_id, authority=authority)
        if d.covers(day) and holds(tx, d.holder_id, d.authority, day)
    ]


def held_offices(tx: Transaction, user_id: str, day: dt.date) -> frozenset[str]:
    """The offices ``user_id`` holds on ``day`` (not those delegated to them)."""
    return frozenset(h.authority for h in tx.people.holdings(user_id=user_id) if h.covers(day))


def offices_in(tx: Transaction, user_id: str, day: dt.date) -> tuple[str, ...]:
    """The offices a user holds on ``day``, or may answer for as a delegate, read in ``tx``."""
    delegated = {d.authority for d in delegations_in_force(tx, user_id, day)}
    return tuple(sorted(held_offices(tx, user_id, day) | delegated))


def today() -> dt.date:
    """The day a read applies the rules of (the offices held on it); a change passes its own."""
    return dt.datetime.now(dt.UTC).date()


def principal(tx: Transaction, actor: str, day: dt.date) -> Principal:
    """``actor`` (a user id, or ``ADMIN`` for the local operator) as they stand in ``tx`` on
    ``day``; ``NotFoundError`` for a user that does not exist."""
    if actor == ADMIN:
        return OPERATOR
    user = tx.people.user(actor)
    if user is None:
        raise NotFoundError(f"unknown user '{actor}'")
    # Offices are read only when the roles do not already give every case.
    sees_all = {Role.REVIEWER.value, Role.AUDITOR.value, Role.ADMIN.value} & set(user.roles)
    return Principal(user, () if sees_all else offices_in(tx, user.id, day))


def submitter(tx: Transaction, actor: str) -> Principal:
    """``actor`` as submitting a case needs them, read in ``tx``: their user record alone.
    The rule of submitting reads roles, party and clearance, never offices, and the case
    shown back is their own, so a submission reads one row for who submits it. Not for
    any other action: without its offices the principal sees fewer cases than it may."""
    if actor == ADMIN:
        return OPERATOR
    user = tx.people.user(actor)
    if user is None:
        raise NotFoundError(f"unknown user '{actor}'")
    return Principal(user)


Resource = CaseRecord | Submission | CaseQuestion | str | None


def refusal(actor: Principal, action: Action, resource: Resource = None) -> ClearanceError | None:
    """Why ``actor`` may not do ``action`` to ``resource``, or None when they may."""
    user = actor.user
    match action:
        case Action.CASE_VIEW:
            assert isinstance(resource, CaseRecord)
            if user is None:
                return None
            seen = resource.classification <= user.clearance and (
                actor.sees_every_case or resource.submitted_by == user.id
            )
            return None if seen else NotFoundError(f"no case '{resource.id}'")
        case Action.CASE_SUBMIT:  # no resource: whether to offer the form at all
            if user is None:
                return NotFoundError(f"unknown user '{ADMIN}'")
            if not actor.has(Role.REQUESTER):
                return PermissionDenied(f"this needs the {Role.REQUESTER.value} role")
            if resource is None:
                return None
            assert isinstance(resource, Submission)
            if user.party != resource.requester:
                return PermissionDenied(
                    f"{user.id} acts for {user.party} and cannot submit a request of"
                    f" {resource.requester}"
                )
            if resource.classification > user.clearance:
                return PermissionDenied(
                    f"{user.id} is cleared to {Level(user.clearance).label} and cannot"
                    f" submit a {Level(resource.classification).label} case"
                )
            return None
        case Action.CASE_ANSWER | Action.CASE_WITHDRAW | Action.CASE_REPLY:
            assert isinstance(resource, CaseRecord)
            if (hidden := refusal(actor, Action.CASE_VIEW, resource)) is not None:
                return hidden
            if action == Action.CASE_ANSWER and resource.submitted_by == actor.id:
                return PermissionDenied("the requester can never decide their own case")
            if action == Action.CASE_WITHDRAW and resource.submitted_by != actor.id:
                return PermissionDenied("only the requester can withdraw a case")
            if action == Action.CASE_REPLY and resource.submitted_by != actor.id:
                return PermissionDenied("only the requester can answer a question on a case")
            return None
        case Action.CASE_ASK:
            assert isinstance(resource, CaseQuestion)
            if (hidden := refusal(actor, Action.CASE_VIEW, resource.case)) is not None:
                return hidden
            if user is None:
                return NotFoundError(f"unknown user '{ADMIN}'")
            if resource.case.submitted_by == user.id:
                return PermissionDenied("the requester cannot ask their own case a question")
            if resource.office is None and not actor.has(Role.REVIEWER):
                return PermissionDenied(
                    "only a reviewer, or a holder of an office still to answer, may ask"
                )
            return None
        case Action.CASE_MEET_CONDITION | Action.CASE_EXECUTE:
            assert isinstance(resource, CaseRecord)
            return refusal(actor, Action.CASE_VIEW, resource)  # the party: ``acting_party``
        case Action.CASES_COUNT_ALL:
            whole = actor.sees_every_case and actor.clearance == Level.TOP_SECRET
            return None if whole else PermissionDenied("counting every case needs TOP SECRET")
        case Action.PROPOSAL_VIEW:
            seen = user is None or user.party == resource or actor.sees_every_case
            return None if seen else NotFoundError("not found")
        case Action.STOCK_VIEW:
            seen = user is None or actor.sees_every_party or user.party == resource
            return None if seen else NotFoundError("not found")
        case Action.LEDGER_READ | Action.REPORT_VIEW:
            return None if actor.has(Role.AUDITOR) else _needs(Role.AUDITOR)
        case Action.LEDGER_VERIFY:
            if not actor.has(Role.AUDITOR):
                return _needs(Role.AUDITOR)
            if actor.clearance < Level.TOP_SECRET:
                return PermissionDenied("verifying the whole ledger needs TOP SECRET clearance")
            return None
        case Action.TOKENS_MANAGE | Action.SUBSCRIPTIONS_MANAGE:
            return None if resource == actor.id or actor.has(Role.ADMIN) else _needs(Role.ADMIN)
        case Action.NOTIFICATIONS_ADMIN:
            return None if actor.has(Role.ADMIN) else _needs(Role.ADMIN)
    raise AssertionError(f"no rule for {action}")  # every Action has a case above


def _needs(role: Role) -> PermissionDenied:
    return PermissionDenied(f"this needs the {role.value} role")


def may(actor: Principal, action: Action, resource: Resource = None) -> bool:
    """Whether ``actor`` may do ``action`` to ``resource``: the one question every
    interface asks, through the use cases."""
    return refusal(actor, action, resource) is None


def check(actor: Principal, action: Action, resource: Resource = None) -> None:
    """Raise the refusal, if there is one (a not-found for what may not be seen)."""
    if (refused := refusal(actor, action, resource)) is not None:
        raise refused
