"""Which events notify whom: the one table (``RULES``), and the reactor that turns the events
a transaction appends into outbox rows in that same transaction.

``RULES`` maps an event type to a function that says, for one event, which
kinds of notice it gives and to whom (an ``Audience``: users, offices, or
every subscriber of the kind). A new kind of event that should notify adds
one row here and nothing else:

==========================  ===========================================================
event                       notice
==========================  ===========================================================
case_state_changed          to ``in_review``: ``waiting`` to the holders, that day, of
                            each office whose gate is still unanswered (and the
                            delegates of delegable gates); to approved, approved with
                            conditions or denied: ``decided`` to the requester;
                            approved with conditions: ``condition_due`` to them too
question_asked              ``question`` to the requester
question_answered           ``question`` to whoever asked the question
escalation_reached          ``escalation`` to the step's ``tell``: the gate's own office
                            (``office``), another office (its id), or oversight (every
                            user with the auditor role)
bundle_proposed             (golden cases passed) ``waiting`` to the holders of the
                            office that may activate the holder's policy
bundle_activated            ``policy_activated`` to every subscriber of that kind: an
                            activated proposal, or a pack's bundle on the day it takes
                            effect (one put on the ledger later, catching up, is history,
                            not news)
==========================  ===========================================================

A user is told only of what they may see through the one door on the
event's day (``may(reader, Action.CASE_VIEW, case)``); an office's shared
address only of cases at or below the clearance its subscription states.

The reactor (``Notifier.react``) runs inside the transaction that appended
the events (``store.Store(reactors=…)``), so a notification is queued exactly
when its event commits, and never for a change rolled back. After the
commit, ``Notifier.committed`` (an observer) wakes this process's dispatcher;
that is all it does. Each row is sealed with a secret of the system key
(service/notify_keys.py), and the dispatcher sends no row whose seal does not hold.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from clearance.core.access import Level, Role
from clearance.core.chain import EventType
from clearance.core.events import (
    ABSENT,
    BundleActivated,
    BundleProposed,
    CaseStateChanged,
    EscalationReached,
    Event,
    PayloadError,
)
from clearance.core.notices import Kind
from clearance.core.workflow import CaseState
from clearance.errors import NotFoundError
from clearance.policy.review_limits import OFFICE, OVERSIGHT
from clearance.service.access import Action, Principal, holds, may, principal
from clearance.service.notify_keys import NotifyKeys
from clearance.store.notifications import DeliveryRecord, SubscriptionRecord
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord, LedgerRecord

__all__ = [
    "RULES",
    "Audience",
    "AuthorityOf",
    "Context",
    "Notice",
    "Notifier",
    "Rule",
]

AuthorityOf = Callable[[str, dt.date], str | None]
"""The office that may activate a holder's policy on a day (the bundle in force's
``policy_authority``), as the inbox reads it."""


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom a notice is for: these users, these offices' shared addresses, or everyone
    subscribed to its kind."""

    users: frozenset[str] = frozenset()
    offices: frozenset[str] = frozenset()
    everyone: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    """One kind of notice an event gives: about what (``about``, ``path`` under the public
    URL) and to whom. ``case`` is the case it tells of, read through the door for each user;
    ``party`` a policy holder whose proposals the user must be allowed to see."""

    kind: Kind
    audience: Audience
    about: str
    path: str
    case: CaseRecord | None = None
    party: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may read: the transaction that appended the event, the event's day, and
    who may activate a holder's policy."""

    tx: Transaction
    day: dt.date
    authority_of: AuthorityOf | None


Rule = Callable[[Context, Event], list[Notice]]


def _holders(tx: Transaction, office: str, day: dt.date) -> set[str]:
    return {h.user_id for h in tx.people.holdings(authority=office) if h.covers(day)}


def _delegates(tx: Transaction, office: str, day: dt.date) -> set[str]:
    """Who answers for ``office`` on ``day`` as a delegate of its holder then."""
    return {
        d.delegate_id
        for d in tx.people.delegations(authority=office)
        if d.covers(day) and holds(tx, d.holder_id, office, day)
    }


def _about(case: CaseRecord) -> tuple[str, str]:
    return f"case {case.number}", f"/cases/{case.number}"


_TOLD_STATES = frozenset(
    {
        CaseState.IN_REVIEW,
        CaseState.APPROVED,
        CaseState.APPROVED_WITH_CONDITIONS,
        CaseState.DENIED,
        CaseState.SUSPENDED,
    }
)
"""The states a case moves into that someone is told of."""

_WAITING_STATES = frozenset({CaseState.IN_REVIEW, CaseState.SUSPENDED})
"""The states in which a case waits on the offices its decision names."""


def _case_of(ctx: Context, event: Event) -> CaseRecord | None:
    return None if event.case_id is None else ctx.tx.cases.get(event.case_id)


def _case_state_changed(ctx: Context, event: Event) -> list[Notice]:
    p = event.payload
    assert isinstance(p, CaseStateChanged)
    if p.to_state not in _TOLD_STATES:
        return []  # most moves tell nobody: no case read to find that out
    case = _case_of(ctx, event)
    if case is None:
        return []
    about, path = _about(case)
    waiting: list[Notice] = []
    if p.to_state in _WAITING_STATES:
        answered = {a.authority for a in ctx.tx.cases.approvals(case.id)}
        gates = [g for g in case.decision.required_approvals if g.authority not in answered]
        users: set[str] = set()
        for gate in gates:
            users |= _holders(ctx.tx, gate.authority, ctx.day)
            if gate.delegable:
                users |= _delegates(ctx.tx, gate.authority, ctx.day)
        users.discard(case.submitted_by)  # never one's own case to decide
        offices = frozenset(g.authority for g in gates)
        waiting = [Notice(Kind.WAITING, Audience(frozenset(users), offices), about, path, case)]
        if p.to_state == CaseState.IN_REVIEW:
            return waiting
    requester = Audience(frozenset({case.submitted_by}))
    notices = waiting  # a suspended case: its offices, and its requester, are told
    if p.to_state != CaseState.IN_REVIEW:
        notices.append(Notice(Kind.DECIDED, requester, about, path, case))
    if p.to_state == CaseState.APPROVED_WITH_CONDITIONS:
        notices.append(Notice(Kind.CONDITION_DUE, requester, about, path, case))
    return notices


def _question_asked(ctx: Context, event: Event) -> list[Notice]:
    case = _case_of(ctx, event)
    if case is None:
        return []
    about, path = _about(case)
    return [Notice(Kind.QUESTION, Audience(frozenset({case.submitted_by})), about, path, case)]


def _question_answered(ctx: Context, event: Event) -> list[Notice]:
    case = _case_of(ctx, event)
    if case is None:
        return []
    asked = [e for e in ctx.tx.ledger.of_case(case.id) if e.type == EventType.QUESTION_ASKED]
    if not asked:
        return []
    try:
        asker = asked[-1].event.actor
    except PayloadError:
        return []  # changed outside clearance: audit verify names it
    about, path = _about(case)
    return [Notice(Kind.QUESTION, Audience(frozenset({asker})), about, path, case)]


def _escalation_reached(ctx: Context, event: Event) -> list[Notice]:
    p = event.payload
    assert isinstance(p, EscalationReached)
    case = _case_of(ctx, event)
    if case is None:
        return []
    if p.tell == OVERSIGHT:
        auditors = {u.id for u in ctx.tx.people.users() if _audits(u.roles)}
        audience = Audience(frozenset(auditors))
    else:
        office = p.office if p.tell == OFFICE else p.tell
        users = _holders(ctx.tx, office, ctx.day)
        if any(g.authority == office and g.delegable for g in case.decision.required_approvals):
            users |= _delegates(ctx.tx, office, ctx.day)
        audience = Audience(frozenset(users), frozenset({office}))
    about, path = _about(case)
    return [Notice(Kind.ESCALATION, audience, about, path, case)]


def _audits(roles: tuple[str, ...]) -> bool:
    """The auditor role, or the admin role, which gives every other."""
    return Role.AUDITOR.value in roles or Role.ADMIN.value in roles


def _bundle_proposed(ctx: Context, event: Event) -> list[Notice]:
    p = event.payload
    assert isinstance(p, BundleProposed)
    if p.tests.failed or ctx.authority_of is None:
        return []  # a proposal whose golden cases fail cannot be activated: nothing waits
    office = ctx.authority_of(p.holder, ctx.day)
    if office is None:
        return []
    audience = Audience(frozenset(_holders(ctx.tx, office, ctx.day)), frozenset({office}))
    about, path = f"proposal {p.number}", f"/policy/proposals/{p.number}"
    return [Notice(Kind.WAITING, audience, about, path, party=p.holder)]


def _bundle_activated(ctx: Context, event: Event) -> list[Notice]:
    p = event.payload
    assert isinstance(p, BundleActivated)
    if p.proposal is ABSENT and p.effective_from != event.at.astimezone(dt.UTC).date():
        return []  # a pack's bundle recorded after its day: in force long since, not news
    about, path = f"the policy of {p.holder}", f"/policy/{p.holder}"
    return [Notice(Kind.POLICY_ACTIVATED, Audience(everyone=True), about, path)]


RULES: dict[EventType, Rule] = {
    EventType.CASE_STATE_CHANGED: _case_state_changed,
    EventType.QUESTION_ASKED: _question_asked,
    EventType.QUESTION_ANSWERED: _question_answered,
    EventType.ESCALATION_REACHED: _escalation_reached,
    EventType.BUNDLE_PROPOSED: _bundle_proposed,
    EventType.BUNDLE_ACTIVATED: _bundle_activated,
}
"""Which events notify whom (module doc): an event type → the notices one event gives."""


def _clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Notifier:
    """The reactor that queues notifications in the transaction of their event, and the
    observer that wakes the dispatcher after it commits (module doc)."""

    def __init__(
        self,
        keys: NotifyKeys,
        *,
        authority_of: AuthorityOf | None = None,
        rules: dict[EventType, Rule] | None = None,
        clock: Callable[[], dt.datetime] = _clock,
    ) -> None:
        self.keys = keys
        self.authority_of = authority_of
        self.rules = RULES if rules is None else rules
        self._types = frozenset(t.value for t in self.rules)
        self.clock = clock
        self.wake = threading.Event()
        """Set after a commit that may have queued notifications."""

    def react(self, tx: Transaction, events: Sequence[LedgerRecord]) -> None:
        """Queue, in ``tx``, a notification for every subscription each event reaches."""
        relevant = [e for e in events if e.type in self._types]
        if not relevant:
            return
        subscriptions = tx.notifications.subscriptions(active=True)
        if not subscriptions:
            return
        readers: dict[tuple[str, dt.date], Principal | None] = {}
        rows: list[DeliveryRecord] = []
        now = self.clock()
        for record in relevant:
            event = record.event
            context = Context(tx, event.at.date(), self.authority_of)
            for notice in self.rules[EventType(record.type)](context, event):
                for subscription in subscriptions:
                    if notice.kind.value not in subscription.kinds:
                        continue
                    if self._reaches(context, readers, notice, subscription):
                        rows.append(self._row(record.seq, notice, subscription, now))
        if rows:
            tx.notifications.queue(rows)

    def committed(self, events: Sequence[LedgerRecord]) -> None:
        """After a commit: wake the dispatcher if any event could have queued something."""
        if any(e.type in self._types for e in events):
            self.wake.set()

    @staticmethod
    def _reaches(
        context: Context,
        readers: dict[tuple[str, dt.date], Principal | None],
        notice: Notice,
        subscription: SubscriptionRecord,
    ) -> bool:
        audience = notice.audience
        if subscription.office is not None:
            if not (audience.everyone or subscription.office in audience.offices):
                return False
            level = Level.UNCLASSIFIED if notice.case is None else notice.case.classification
            return subscription.clearance is not None and level <= subscription.clearance
        user = subscription.user_id
        if user is None or not (audience.everyone or user in audience.users):
            return False
        key = (user, context.day)
        if key not in readers:
            try:
                readers[key] = principal(context.tx, user, context.day)
            except NotFoundError:
                readers[key] = None
        reader = readers[key]
        if reader is None:
            return False
        if notice.case is not None:
            return may(reader, Action.CASE_VIEW, notice.case)
        if notice.party is not None:
            return may(reader, Action.PROPOSAL_VIEW, notice.party)
        return True

    def _row(
        self, seq: int, notice: Notice, subscription: SubscriptionRecord, now: dt.datetime
    ) -> DeliveryRecord:
        case = notice.case
        unsealed = DeliveryRecord(
            id=str(uuid.uuid4()),
            subscription_id=subscription.id,
            event_seq=seq,
            kind=notice.kind.value,
            case_id=None if case is None else case.id,
            case_number=None if case is None else case.number,
            about=notice.about,
            path=notice.path,
            channel=subscription.channel,
            address=subscription.address,
            seal="",
            created_at=now,
        )
        return replace(unsealed, seal=self.keys.seal(unsealed))
