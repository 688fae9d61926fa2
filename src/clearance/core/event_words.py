"""Every ledger event in one sentence for people: the one table of words the case timeline,
the ledger page and ``cases show`` all print; and the words of each screening outcome and
case state, which the CLI's tables and every web page show in place of their tokens. Pure
code.

Each event type has its words here, so no interface falls back to showing a
payload as JSON; an event whose body cannot be read (changed outside
clearance) is said to be so, in words too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from clearance.core.chain import EventType
from clearance.core.dates import last_day_before
from clearance.core.decision import Outcome
from clearance.core.events import (
    ABSENT,
    ApiTokenIssued,
    ApiTokenRevoked,
    ApprovalDenied,
    ApprovalGiven,
    BundleActivated,
    BundleProposed,
    CaseExecuted,
    CaseRescreened,
    CaseRescreenFailed,
    CaseStateChanged,
    CaseSubmitted,
    CaseSuspended,
    ConditionMet,
    DelegationGranted,
    EscalationReached,
    Event,
    HoldingGranted,
    Payload,
    PayloadError,
    QuestionAnswered,
    QuestionAsked,
    StockMove,
    StockMoved,
    SubscriptionAdded,
    SubscriptionEnded,
    SystemKeyAdded,
    UserAccessChanged,
    UserAdded,
    WaitingPeriodWaived,
    read_event,
)
from clearance.core.request import describe_request
from clearance.core.stockpile import MovementKind
from clearance.core.workflow import CaseState

__all__ = [
    "OUTCOME_WORDS",
    "STATE_WORDS",
    "WORDS",
    "event_words",
    "outcome_words",
    "state_words",
    "suspension_words",
    "words_of",
]

OUTCOME_WORDS: Mapping[Outcome, str] = {
    Outcome.PERMITTED: "permitted",
    Outcome.REVIEW_REQUIRED: "review required",
    Outcome.PROHIBITED: "prohibited",
}
"""What a screening outcome is called where people read it."""

STATE_WORDS: Mapping[CaseState, str] = {
    CaseState.SUBMITTED: "submitted",
    CaseState.IN_REVIEW: "in review",
    CaseState.AWAITING_ANSWER: "awaiting answer",
    CaseState.APPROVED: "approved",
    CaseState.APPROVED_WITH_CONDITIONS: "approved with conditions",
    CaseState.CLEARED: "cleared",
    CaseState.DENIED: "denied",
    CaseState.WITHDRAWN: "withdrawn",
    CaseState.EXPIRED: "expired",
    CaseState.EXECUTED: "executed",
    CaseState.PARTLY_EXECUTED: "partly executed",
    CaseState.SUSPENDED: "suspended",
}
"""What a case's state is called where people read it."""


def outcome_words(value: str) -> str:
    """An outcome's words (``review_required`` → ``review required``); a value that is no
    outcome (a record changed outside clearance) as it is, so it is still shown."""
    try:
        return OUTCOME_WORDS[Outcome(value)]
    except ValueError:
        return value


def state_words(value: str) -> str:
    """A case state's words (``in_review`` → ``in review``); any other state (a proposal's,
    say) with its underscores as spaces."""
    try:
        return STATE_WORDS[CaseState(value)]  # pragma: no mutate
    except ValueError:
        return value.replace("_", " ")


def _submitted(p: CaseSubmitted, _: Event) -> str:
    level = "UNCLASSIFIED" if p.classification is ABSENT else p.classification
    try:
        request = describe_request(dict(p.request))
    except (KeyError, TypeError, AttributeError):
        request = "a request of another shape"
    return f"submitted as {level}: {request}; screened: {outcome_words(p.decision.get('outcome', '?'))}"


def _state_changed(p: CaseStateChanged, _: Event) -> str:
    moved = f"{state_words(p.from_state)} → {state_words(p.to_state)}"
    said = f"{moved}: {p.why}" if p.why else moved
    if p.due_at is ABSENT:
        return said
    last = last_day_before(p.due_at)
    return f"{said}; due by the end of {last.isoformat()} (UTC)"


def _asked(p: QuestionAsked, e: Event) -> str:
    asker = e.actor if p.office is None else f"{e.actor} for {p.office}"
    return f"{asker} asked the requester: “{p.question}” (the review clock stops)"


def _question_answered(p: QuestionAnswered, _: Event) -> str:
    return f"the requester answered: “{p.answer}” (the review clock runs again)"


def _escalated(p: EscalationReached, _: Event) -> str:
    unit = p.count.replace("_", " ")
    whom = f"{p.office} reminded" if p.tell == "office" else f"{p.tell} told"
    return f"escalation step {p.step} for {p.office}: {p.after} {unit} without an answer; {whom}"


def _answered(p: ApprovalGiven | ApprovalDenied, _: Event) -> str:
    s = p.statement
    verdict = "approved" if isinstance(p, ApprovalGiven) else "denied"
    behalf = f" for {s['on_behalf_of']}" if s.get("on_behalf_of") else ""
    reason = f": “{s['reason']}”" if s.get("reason") else ""
    return f"{s.get('authority')} {verdict}, signed by {s.get('actor')}{behalf}{reason}"


def _waived(p: WaitingPeriodWaived, _: Event) -> str:
    s = p.statement
    period = s.get("waiting_period") or {}
    ends = f" (it would have ended {period['ends_on']})" if period.get("ends_on") else ""
    reason = f": “{s['reason']}”" if s.get("reason") else ""
    return (
        f"waiting period waived{ends} by {s.get('authority')}, signed by {s.get('actor')}{reason}"
    )


def _condition_met(p: ConditionMet, _: Event) -> str:
    return f"condition met: {p.condition} (evidence: {p.evidence})"


def _rescreened(p: CaseRescreened, _: Event) -> str:
    return f"screened again as of {p.as_of}: was {p.was}, would now be {p.would_be}"


def _rescreen_failed(p: CaseRescreenFailed, _: Event) -> str:
    return f"could not be screened again: {p.problem}"


def _executed(p: CaseExecuted, _: Event) -> str:
    left = p.approved - p.drawn
    rest = "nothing remains" if left <= 0 else f"{left} remain"
    return f"executed {p.quantity}: {p.drawn} of the approved {p.approved} drawn, {rest}"


def _policies(decision: Mapping[str, Any]) -> str:
    """Which policy of which holder's bundle would not permit the decision, in words."""
    said = []
    for holder in decision.get("holders") or []:
        if not isinstance(holder, Mapping) or holder.get("outcome") == "permitted":
            continue
        bundle = str(holder.get("bundle") or "no bundle")
        since = holder.get("bundle_effective_from")
        policies = ", ".join(map(str, holder.get("reasons") or [])) or "no policy permits it"
        from_day = f" in force from {since}" if since else ""
        said.append(f"{holder.get('party')} bundle {bundle[:19]}…{from_day} ({policies})")
    return "; ".join(said) or "the policy in force"


def suspension_words(p: CaseSuspended) -> str:
    """Why a case was suspended: the day it was judged on, the bundle and policy that would
    not permit it, and the offices it waits on (or that no office can approve it)."""
    cause = "on the day of execution" if p.cause == "execution" else "when a bundle took effect"
    outcome = p.decision.get("outcome", "?")
    if p.offices:
        waits = f"it waits for {', '.join(p.offices)} to approve"
    else:
        waits = "no office can approve it under the policy in force; it may be withdrawn"
    refused = "" if p.quantity is None else f"; the execution of {p.quantity} was refused"
    return (
        f"judged again {cause} ({p.as_of}) under {_policies(p.decision)}:"
        f" {outcome}; {waits}{refused}"
    )


def _suspended(p: CaseSuspended, _: Event) -> str:
    return f"suspended: {suspension_words(p)}"


def _proposed(p: BundleProposed, _: Event) -> str:
    return (
        f"proposal {p.number}: policy of {p.holder} from {p.effective_from}, “{p.title}”;"
        f" golden cases {p.tests.passed} pass, {p.tests.failed} fail"
    )


def _activated(p: BundleActivated, _: Event) -> str:
    by = "" if p.authority is ABSENT else f", activated as {p.authority}"
    return f"policy of {p.holder} ({p.bundle}) in force from {p.effective_from}{by}"


def _user_added(p: UserAdded, _: Event) -> str:
    return f"user {p.user} ({p.name}, {p.party}) added"


def _access_changed(p: UserAccessChanged, _: Event) -> str:
    changes = []
    if p.roles is not ABSENT:
        changes.append(f"roles {', '.join(p.roles) or 'none'}")
    if p.clearance is not ABSENT:
        changes.append(f"cleared {p.clearance}")
    if p.password is not ABSENT:
        changes.append(f"password {p.password}")
    return f"access of {p.user} changed: {'; '.join(changes) or 'no change'}"


def _token_issued(p: ApiTokenIssued, _: Event) -> str:
    until = "" if p.expires_at is ABSENT else f", until {p.expires_at.date()}"
    return f"API token “{p.name}” issued for {p.user}{until}"


def _token_revoked(p: ApiTokenRevoked, _: Event) -> str:
    why = " (password set)" if p.reason == "password_set" else ""
    return f"API token of {p.user} revoked{why}"


def _holding(p: HoldingGranted, _: Event) -> str:
    until = f" to {p.valid_to}" if p.valid_to else ""
    return f"{p.user} holds {p.authority} from {p.valid_from}{until}"


def _delegation(p: DelegationGranted, _: Event) -> str:
    return f"{p.holder} delegates {p.authority} to {p.delegate} from {p.valid_from} to {p.valid_to}"


def _system_key(p: SystemKeyAdded, _: Event) -> str:
    return f"system key {p.public_key[:12]}… recorded: it seals the ledger from here on"


_MOVES: Mapping[MovementKind, str] = {
    MovementKind.RECEIPT: "received {n} into stock on hand",
    MovementKind.COMMIT: "committed {n} (still on hand)",
    MovementKind.RELEASE: "released a commitment of {n}",
    MovementKind.TRANSFER_OUT: "moved {n} from stock on hand to handed over",
    MovementKind.TRANSFER_IN: "took {n} into stock on hand",
    MovementKind.CONSUME: "moved {n} from stock on hand to consumed",
}
"""What each kind of movement did to a holder's stock, for ``n`` items of a system."""


def _move(m: StockMove) -> str:
    return f"{m.holder} " + _MOVES[m.kind].format(n=f"{m.quantity} × {m.system}") + f", {m.day}"


def _stock_moved(p: StockMoved, _: Event) -> str:
    return "; ".join(_move(m) for m in p.movements) or "no stock moved"


def _whom(user: str | None, office: str | None) -> str:
    return f"the office {office}" if office is not None else user or "nobody"


def _subscribed(p: SubscriptionAdded, _: Event) -> str:
    cleared = f", cleared {p.clearance}" if p.office is not None and p.clearance else ""
    return (
        f"{_whom(p.user, p.office)} subscribed to {', '.join(p.kinds) or 'nothing'}"
        f" by {p.channel} at {p.address} (subscription {p.subscription[:8]}){cleared}"
    )


def _unsubscribed(p: SubscriptionEnded, _: Event) -> str:
    return f"subscription {p.subscription[:8]} of {_whom(p.user, p.office)} ended"


WORDS: Mapping[EventType, Callable[[Any, Event], str]] = {
    EventType.SYSTEM_KEY_ADDED: _system_key,
    EventType.USER_ADDED: _user_added,
    EventType.USER_ACCESS_CHANGED: _access_changed,
    EventType.API_TOKEN_ISSUED: _token_issued,
    EventType.API_TOKEN_REVOKED: _token_revoked,
    EventType.HOLDING_GRANTED: _holding,
    EventType.DELEGATION_GRANTED: _delegation,
    EventType.CASE_SUBMITTED: _submitted,
    EventType.CASE_STATE_CHANGED: _state_changed,
    EventType.APPROVAL_GIVEN: _answered,
    EventType.APPROVAL_DENIED: _answered,
    EventType.CONDITION_MET: _condition_met,
    EventType.CASE_RESCREENED: _rescreened,
    EventType.CASE_RESCREEN_FAILED: _rescreen_failed,
    EventType.BUNDLE_PROPOSED: _proposed,
    EventType.BUNDLE_ACTIVATED: _activated,
    EventType.STOCK_MOVED: _stock_moved,
    EventType.QUESTION_ASKED: _asked,
    EventType.QUESTION_ANSWERED: _question_answered,
    EventType.ESCALATION_REACHED: _escalated,
    EventType.SUBSCRIPTION_ADDED: _subscribed,
    EventType.SUBSCRIPTION_ENDED: _unsubscribed,
    EventType.WAITING_PERIOD_WAIVED: _waived,
    EventType.CASE_EXECUTED: _executed,
    EventType.CASE_SUSPENDED: _suspended,
}
"""The words of each event type, given its payload and the event."""


def event_words(event: Event) -> str:
    """What happened, in one sentence."""
    payload: Payload = event.payload
    return WORDS[payload.TYPE](payload, event)


def words_of(body: Mapping[str, Any]) -> str:
    """The sentence for an event as the interfaces hold it (its body's keys, as a case file or
    the ledger page writes them), or words saying it cannot be read."""
    try:
        return event_words(read_event(body))
    except PayloadError:
        kind = body.get("type")
        name = kind if kind in set(EventType) else "ledger"
        return f"a {name} event whose details cannot be read (audit verify names why)"
