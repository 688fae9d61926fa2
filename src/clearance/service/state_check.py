"""The tables bound to the ledger: rebuild every fact they hold from the events, name every row
that disagrees.

The ledger is the source of truth; the tables are its working copy, kept in
the same transactions so lists and searches are fast. Someone who can write
the database could change a copy (a TOP SECRET case set to UNCLASSIFIED, a
denial turned into an approval, a user made an administrator) without
touching the sealed events. ``check_tables`` folds the events into the rows
each table must hold (``LedgerFacts``) and compares them with the rows it
finds: a changed value, a row no event records, a row an event records that
is missing.

What is compared, per table, is listed in ``_COMPARED``; texts stored in full
on both sides (a case's request and decision) are compared by digest.
Sessions, sign-in failures and the outbox of notifications are working
state, not facts of the record, and are not on the ledger (an outbox row
carries a seal of its own, which the dispatcher checks before it sends); the checkpoints are checked by their signatures.
Events written before a fact was carried on the ledger leave that fact
unknown, and it is not compared. The module is past 400 lines as the fold
and the comparison are read together: what one rebuilds, the other compares.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from clearance.core.access import parse_level
from clearance.core.case_keys import recorded_stockpile_digest, request_shape
from clearance.core.chain import EventType
from clearance.core.digest import canonical_digest, canonical_json
from clearance.core.events import (
    ABSENT,
    ApiTokenIssued,
    ApiTokenRevoked,
    ApprovalDenied,
    ApprovalGiven,
    BundleActivated,
    BundleProposed,
    CaseStateChanged,
    CaseSubmitted,
    CaseSuspended,
    ConditionMet,
    DelegationGranted,
    Event,
    HoldingGranted,
    PayloadError,
    StockMoved,
    SubscriptionAdded,
    SubscriptionEnded,
    UserAccessChanged,
    UserAdded,
    WaitingPeriodWaived,
    read_event,
)
from clearance.core.signing import verify
from clearance.core.workflow import DECIDED_STATES, OPEN_STATES, CaseState
from clearance.service.findings import Finding
from clearance.store.case_text import terms_of
from clearance.store.repository import Store

__all__ = ["UNKNOWN", "LedgerFacts", "check_tables"]


class _Unknown:
    """A fact no event carried (written before the ledger recorded it): never compared."""

    def __repr__(self) -> str:
        return "unknown"


UNKNOWN: Any = _Unknown()


def _sha(text: str | bytes | None) -> str | None:
    if text is None:
        return None
    # SQLite may hand back the same text as bytes, or any value a column was given.
    data = text if isinstance(text, bytes) else str(text).encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@dataclass(slots=True)
class Row:
    """The values one row must hold, and the last event that set any of them."""

    values: dict[str, Any]
    seq: int


@dataclass
class LedgerFacts:
    """Every fact the tables hold, as the events say, folded in sequence order.

    Some 300 lines, as one handler per event type folds that type's typed payload into the
    rows: the handlers share these rows, and split apart they would have to pass them around.
    """

    users: dict[str, Row] = field(default_factory=dict)
    holdings: list[Row] = field(default_factory=list)
    delegations: list[Row] = field(default_factory=list)
    cases: dict[str, Row] = field(default_factory=dict)
    approvals: dict[tuple[str, str], Row] = field(default_factory=dict)
    conditions: dict[tuple[str, str], Row] = field(default_factory=dict)
    tokens: dict[str, Row] = field(default_factory=dict)
    proposals: dict[str, Row] = field(default_factory=dict)
    movements: list[Row] = field(default_factory=list)
    totals: dict[tuple[str, str], Row] = field(default_factory=dict)
    decision_counts: dict[tuple[str, str, int], Row] = field(default_factory=dict)
    subscriptions: dict[str, Row] = field(default_factory=dict)
    terms: dict[str, tuple[int, frozenset[str]]] = field(default_factory=dict)
    """Per case, the words it is found by (``case_terms``) and the event that gave them:
    hiding a case from searches by editing its words is named like any other change."""
    request_data: dict[str, Any] = field(default_factory=dict)
    """Per case, its request as submitted: a suspension's new decision changes its words."""
    problems: list[Finding] = field(default_factory=list)
    """Signed statements that do not hold: a bad signature, a key not the signer's, a
    ``prior_hash`` that is not the ledger's head where the statement was recorded."""
    registry: bool = True
    """Whether the events folded include the users' (``user_added``), so that a statement's
    key can be checked against its signer's registered key."""

    def fold(self, events: Iterable[tuple[int, str, dict[str, Any] | None]]) -> None:
        """Apply ``(seq, prev_hash, body)`` events in sequence order (a body that is not a JSON
        object, or whose payload is not its type's, is named; one of a type this program does
        not know is passed over)."""
        for seq, prev_hash, body in events:
            if not isinstance(body, dict):
                self.problems.append(Finding(seq, f"event {seq}: its body is not a JSON object"))
                continue
            try:
                if body.get("type") not in _KNOWN:
                    continue
                event = read_event(body)
                p = event.payload
                if isinstance(
                    p, ApprovalGiven | ApprovalDenied | BundleActivated | WaitingPeriodWaived
                ):
                    self._check_statement(seq, prev_hash, event.actor, p)
                handler = _HANDLERS.get(event.type)
                if handler is not None:
                    handler(self, seq, event, p)
            except (KeyError, TypeError, ValueError, AttributeError):
                self.problems.append(
                    Finding(seq, f"event {seq}: its payload is not what its type carries")
                )

    def _check_statement(
        self,
        seq: int,
        prev_hash: str,
        actor: str,
        p: ApprovalGiven | ApprovalDenied | BundleActivated | WaitingPeriodWaived,
    ) -> None:
        """A person's signed statement recorded by event ``seq``: theirs, signed by them, over
        the ledger as it stood just before the event."""
        if p.statement is ABSENT:
            return
        statement = p.statement
        public_key = None if p.public_key is ABSENT else p.public_key
        signature = None if p.signature is ABSENT else p.signature
        user = self.users.get(actor)
        problem = None
        if (
            statement.get("prior_hash") != prev_hash
            or statement.get("prior_seq", seq - 1) != seq - 1
        ):
            problem = (
                "its signed statement names another point of the ledger than the one before it"
            )
        elif statement.get("actor") != actor:
            problem = (
                f"its signed statement is {statement.get('actor')}'s, but the event records it"
                f" as {actor}'s"
            )
        elif self.registry and (user is None or public_key != user.values["public_key"]):
            problem = f"its signed statement is not under {actor}'s registered key"
        elif public_key is None or not verify(
            public_key, canonical_json(statement), str(signature)
        ):
            problem = "its signed statement's signature does not verify"
        if problem is not None:
            self.problems.append(Finding(seq, f"event {seq}: {problem}"))

    # people ---------------------------------------------------------------------

    def _user_added(self, seq: int, e: Event, p: UserAdded) -> None:
        self.users[p.user] = Row(
            {
                "name": p.name,
                "party": p.party,
                "public_key": p.public_key,
                "created_at": e.at,
                "roles": UNKNOWN if p.roles is ABSENT else " ".join(p.roles),
                "clearance": UNKNOWN if p.clearance is ABSENT else int(parse_level(p.clearance)),
                "password_hash": None,
            },
            seq,
        )

    def _access_changed(self, seq: int, e: Event, p: UserAccessChanged) -> None:
        user = self.users.get(p.user)
        if user is None:
            return
        if p.roles is not ABSENT:
            user.values["roles"] = " ".join(p.roles)
            user.values["clearance"] = (
                UNKNOWN if p.clearance is ABSENT else int(parse_level(p.clearance))
            )
        if p.password is not ABSENT:
            user.values["password_hash"] = _known(p.password_digest)
        user.seq = seq

    def _token_issued(self, seq: int, e: Event, p: ApiTokenIssued) -> None:
        self.tokens[p.token] = Row(
            {
                "user_id": p.user,
                "name": p.name,
                "created_at": e.at,
                "revoked_at": None,
                "token_hash": _known(p.token_hash),
                "expires_at": _known(p.expires_at),
            },
            seq,
        )

    def _token_revoked(self, seq: int, e: Event, p: ApiTokenRevoked) -> None:
        token = self.tokens.get(p.token)
        if token is not None:
            token.values["revoked_at"] = e.at
            token.seq = seq

    def _holding_granted(self, seq: int, e: Event, p: HoldingGranted) -> None:
        last_day = p.valid_from - dt.timedelta(days=1)
        for held in self.holdings:  # the previous holder's term ends the day before
            v = held.values
            if (
                v["authority"] == p.authority
                and v["valid_from"] <= last_day
                and (v["valid_to"] is None or v["valid_to"] > last_day)
            ):
                v["valid_to"], held.seq = last_day, seq
        self.holdings.append(
            Row(
                {
                    "user_id": p.user,
                    "authority": p.authority,
                    "valid_from": p.valid_from,
                    "valid_to": p.valid_to,
                },
                seq,
            )
        )

    def _delegation_granted(self, seq: int, e: Event, p: DelegationGranted) -> None:
        self.delegations.append(
            Row(
                {
                    "authority": p.authority,
                    "holder_id": p.holder,
                    "delegate_id": p.delegate,
                    "valid_from": p.valid_from,
                    "valid_to": p.valid_to,
                },
                seq,
            )
        )

    # cases ----------------------------------------------------------------------

    def _case_submitted(self, seq: int, e: Event, p: CaseSubmitted) -> None:
        case_id = _case_of(e)
        decision, request = p.decision, p.request
        digest = p.decision_digest
        if digest is ABSENT or not digest:
            digest = canonical_digest(decision)
        self.cases[case_id] = Row(
            {
                "number": _known(p.number),
                "idempotency_key": _known(p.idempotency_key),
                "submitted_by": e.actor,
                "request": p.request_digest,
                "request_digest": p.request_digest,
                "decision": digest,
                "outcome": decision["outcome"],
                "state": CaseState.SUBMITTED.value,
                "is_open": True,
                "classification": (
                    UNKNOWN if p.classification is ABSENT else int(parse_level(p.classification))
                ),
                "system": request.get("system", ""),
                "requester": request.get("requester", ""),
                "asked_on": request.get("date"),
                "quantity": request.get("quantity"),
                "request_shape": request_shape(request),
                "stockpile_digest": recorded_stockpile_digest(decision),
                "decided_at": None,
                "decided_as": None,
                "due_at": None,
                "expires_at": None,
                "sla_days": _known(p.sla_days),
                "created_at": e.at,
                "state_since": e.at,
            },
            seq,
        )
        for text in decision.get("conditions", []):
            self.conditions[(case_id, text)] = Row(
                {"met_at": None, "met_by": None, "evidence": None}, seq
            )
        self.request_data[case_id] = request
        self._index(seq, case_id, decision)

    def _index(self, seq: int, case_id: str, decision: dict[str, Any]) -> None:
        """The case's search words under ``decision``, in place of those it had."""
        offices = (a.get("authority", "") for a in decision.get("required_approvals", []))
        words = terms_of(self.request_data.get(case_id), offices, decision.get("reasons", []))
        self.terms[case_id] = (seq, words)

    def _state_changed(self, seq: int, e: Event, p: CaseStateChanged) -> None:
        case = None if e.case_id is None else self.cases.get(e.case_id)
        if case is None:
            return
        v, at, to = case.values, e.at, p.to_state
        if to in DECIDED_STATES and v["decided_at"] is None:
            v["decided_at"], v["decided_as"] = at, to
            month = at.astimezone(dt.UTC).strftime("%Y-%m")
            key = (month, to, v["classification"])
            count = self.decision_counts.setdefault(key, Row({"count": 0}, seq))
            count.values["count"] += 1
            count.seq = seq
        v["state"], v["state_since"], v["is_open"] = to, at, to in OPEN_STATES
        sla = v["sla_days"]
        if to != CaseState.IN_REVIEW:
            v["due_at"] = None
        elif p.due_at is not ABSENT:
            v["due_at"] = p.due_at  # fixed by the review clocks when the case entered review
        else:  # written before clocks: the case's SLA in calendar days from the move
            v["due_at"] = UNKNOWN if sla is UNKNOWN else at + dt.timedelta(days=sla)
        if to in (CaseState.APPROVED, CaseState.APPROVED_WITH_CONDITIONS):
            v["expires_at"] = None if p.expires_at is ABSENT else p.expires_at
        elif to in (CaseState.CLEARED, CaseState.PARTLY_EXECUTED):
            if p.expires_at is not ABSENT:  # resumed by fresh approvals: a fresh lifetime
                v["expires_at"] = p.expires_at
        else:
            v["expires_at"] = None
        case.seq = seq

    def _suspended(self, seq: int, e: Event, p: CaseSuspended) -> None:
        """A suspension replaces the case's decision with the judgement of its day (its
        state follows from the ``case_state_changed`` recorded with it)."""
        case = self.cases.get(_case_of(e))
        if case is None:
            return
        case.values["decision"] = p.decision_digest
        case.values["outcome"] = p.decision["outcome"]
        case.values["stockpile_digest"] = recorded_stockpile_digest(p.decision)
        case.seq = seq
        self._index(seq, _case_of(e), p.decision)

    def _answered(self, seq: int, e: Event, p: ApprovalGiven | ApprovalDenied) -> None:
        statement = p.statement
        self.approvals[(_case_of(e), statement["authority"])] = Row(
            {
                "verdict": statement["verdict"],
                "actor": statement["actor"],
                "on_behalf_of": statement["on_behalf_of"],
                "reason": statement["reason"],
                "statement": canonical_json(statement).decode("utf-8"),
                "signature": p.signature,
                "at": _time(statement["at"]),
            },
            seq,
        )

    def _condition_met(self, seq: int, e: Event, p: ConditionMet) -> None:
        self.conditions[(_case_of(e), p.condition)] = Row(
            {"met_at": e.at, "met_by": e.actor, "evidence": p.evidence},
            seq,
        )

    # policy and stock -----------------------------------------------------------

    def _proposed(self, seq: int, e: Event, p: BundleProposed) -> None:
        self.proposals[p.proposal] = Row(
            {
                "number": p.number,
                "holder": p.holder,
                "effective_from": p.effective_from,
                "title": p.title,
                "revision": p.revision,
                "files": _known(p.files_digest),
                "tests": _known(p.tests_digest),
                "tests_passed": p.tests.failed == 0,
                "state": "proposed",
                "proposed_by": e.actor,
                "proposed_at": e.at,
                "activated_by": None,
                "authority": None,
                "activated_at": None,
                "statement": None,
                "signature": None,
            },
            seq,
        )

    def _activated(self, seq: int, e: Event, p: BundleActivated) -> None:
        proposal = None if p.proposal is ABSENT else self.proposals.get(p.proposal)
        if proposal is None:  # a pack bundle taking effect by its date: no row
            return
        if p.statement is ABSENT or p.authority is ABSENT or p.signature is ABSENT:
            raise PayloadError("an activated proposal's signed word is missing")
        proposal.values.update(
            {
                "state": "activated",
                "activated_by": e.actor,
                "authority": p.authority,
                "activated_at": e.at,
                "statement": canonical_json(p.statement).decode("utf-8"),
                "signature": p.signature,
            }
        )
        proposal.seq = seq

    def _stock_moved(self, seq: int, e: Event, p: StockMoved) -> None:
        for m in p.movements:
            self.movements.append(
                Row(
                    {
                        "holder": m.holder,
                        "system": m.system,
                        "kind": m.kind.value,
                        "quantity": m.quantity,
                        "day": m.day,
                        "at": e.at,
                        "actor": e.actor,
                        "case_id": e.case_id,
                    },
                    seq,
                )
            )
            on_hand, committed = m.kind.deltas(m.quantity)
            total = self.totals.setdefault(
                (m.holder, m.system), Row({"on_hand": 0, "committed": 0}, seq)
            )
            total.values["on_hand"] += on_hand
            total.values["committed"] += committed
            total.seq = seq

    # notifications --------------------------------------------------------------

    def _subscribed(self, seq: int, e: Event, p: SubscriptionAdded) -> None:
        self.subscriptions[p.subscription] = Row(
            {
                "user_id": p.user,
                "office": p.office,
                "clearance": None if p.clearance is None else int(parse_level(p.clearance)),
                "kinds": " ".join(p.kinds),
                "channel": p.channel,
                "address": p.address,
                "created_at": e.at,
                "created_by": e.actor,
                "ended_at": None,
            },
            seq,
        )

    def _unsubscribed(self, seq: int, e: Event, p: SubscriptionEnded) -> None:
        subscription = self.subscriptions.get(p.subscription)
        if subscription is not None:
            subscription.values["ended_at"], subscription.seq = e.at, seq


def _case_of(event: Event) -> str:
    """The case of an event that belongs to one; ``PayloadError`` for one that names none."""
    if event.case_id is None:
        raise PayloadError(f"a {event.type} event names no case")
    return event.case_id


def _known(value: Any) -> Any:
    """A fact an event carries, or ``UNKNOWN`` when it was written before the event carried it."""
    return UNKNOWN if value is ABSENT else value


_KNOWN = frozenset(t.value for t in EventType)

_HANDLERS: dict[EventType, Callable[[LedgerFacts, int, Event, Any], None]] = {
    EventType.USER_ADDED: LedgerFacts._user_added,
    EventType.USER_ACCESS_CHANGED: LedgerFacts._access_changed,
    EventType.API_TOKEN_ISSUED: LedgerFacts._token_issued,
    EventType.API_TOKEN_REVOKED: LedgerFacts._token_revoked,
    EventType.HOLDING_GRANTED: LedgerFacts._holding_granted,
    EventType.DELEGATION_GRANTED: LedgerFacts._delegation_granted,
    EventType.CASE_SUBMITTED: LedgerFacts._case_submitted,
    EventType.CASE_STATE_CHANGED: LedgerFacts._state_changed,
    EventType.CASE_SUSPENDED: LedgerFacts._suspended,
    EventType.APPROVAL_GIVEN: LedgerFacts._answered,
    EventType.APPROVAL_DENIED: LedgerFacts._answered,
    EventType.CONDITION_MET: LedgerFacts._condition_met,
    EventType.BUNDLE_PROPOSED: LedgerFacts._proposed,
    EventType.BUNDLE_ACTIVATED: LedgerFacts._activated,
    EventType.STOCK_MOVED: LedgerFacts._stock_moved,
    EventType.SUBSCRIPTION_ADDED: LedgerFacts._subscribed,
    EventType.SUBSCRIPTION_ENDED: LedgerFacts._unsubscribed,
}


# Per table: how a row is named, its key columns, and the columns compared (texts stored
# whole on both sides are compared by digest: marked with a *).
_COMPARED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "users": (
        ("id",),
        ("name", "party", "public_key", "created_at", "roles", "clearance", "password_hash*"),
    ),
    "holdings": ((), ("user_id", "authority", "valid_from", "valid_to")),
    "delegations": ((), ("authority", "holder_id", "delegate_id", "valid_from", "valid_to")),
    "cases": (
        ("id",),
        (
            "number",
            "idempotency_key",
            "submitted_by",
            "request*",
            "request_digest",
            "decision*",
            "outcome",
            "state",
            "is_open",
            "classification",
            "system",
            "requester",
            "decided_at",
            "decided_as",
            "due_at",
            "expires_at",
            "asked_on",
            "quantity",
            "request_shape",
            "stockpile_digest",
            "sla_days",
            "created_at",
            "state_since",
        ),
    ),
    "approvals": (
        ("case_id", "authority"),
        ("verdict", "actor", "on_behalf_of", "reason", "statement", "signature", "at"),
    ),
    "conditions": (("case_id", "text"), ("met_at", "met_by", "evidence")),
    "api_tokens": (
        ("id",),
        ("user_id", "name", "created_at", "revoked_at", "token_hash", "expires_at"),
    ),
    "bundle_proposals": (
        ("id",),
        (
            "number",
            "holder",
            "effective_from",
            "title",
            "revision",
            "files*",
            "tests*",
            "tests_passed",
            "state",
            "proposed_by",
            "proposed_at",
            "activated_by",
            "authority",
            "activated_at",
            "statement",
            "signature",
        ),
    ),
    "stock_movements": (
        (),
        ("holder", "system", "kind", "quantity", "day", "at", "actor", "case_id"),
    ),
    "stock_totals": (("holder", "system"), ("on_hand", "committed")),
    "decision_counts": (("month", "kind", "level"), ("count",)),
    "case_terms": (("case_id", "term"), ()),
    "subscriptions": (
        ("id",),
        (
            "user_id",
            "office",
            "clearance",
            "kinds",
            "channel",
            "address",
            "created_at",
            "created_by",
            "ended_at",
        ),
    ),
}


def _expected(facts: LedgerFacts, table: str) -> dict[Any, Row] | list[Row]:
    by_table: dict[str, dict[Any, Row] | list[Row]] = {
        "users": facts.users,
        "holdings": facts.holdings,
        "delegations": facts.delegations,
        "cases": facts.cases,
        "approvals": facts.approvals,
        "conditions": facts.conditions,
        "api_tokens": facts.tokens,
        "bundle_proposals": facts.proposals,
        "stock_movements": facts.movements,
        "stock_totals": facts.totals,
        "decision_counts": facts.decision_counts,
        "subscriptions": facts.subscriptions,
        "case_terms": {
            (case_id, term): Row({}, seq)
            for case_id, (seq, words) in facts.terms.items()
            for term in words
        },
    }
    return by_table[table]


def _same(expected: Any, found: Any) -> bool:
    # Aware datetimes compare as instants, whatever their zones.
    return expected is UNKNOWN or bool(expected == found)


def _show(value: Any) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _differences(
    table: str,
    name: str,
    expected: Row | None,
    found: dict[str, Any] | None,
    columns: list[tuple[str, bool]],
) -> Iterator[Finding]:
    if found is None:
        assert expected is not None
        yield Finding(expected.seq, f"{table}: {name} is missing (event {expected.seq} records it)")
        return
    if expected is None:
        yield Finding(None, f"{table}: {name} is not recorded by any event")
        return
    for column, hashed in columns:
        value = found.get(column)
        if hashed:
            value = _sha(value)
        if not _same(expected.values[column], value):
            yield Finding(
                expected.seq,
                f"{table}: {name} has {column} {_show(value)}, but the ledger says"
                f" {_show(expected.values[column])} (event {expected.seq})",
            )


def _name(table: str, key: tuple[Any, ...], index: int) -> str:
    if not key:
        return f"row {index + 1}"
    return "row " + ", ".join(str(k) for k in key)


def compare(
    facts: LedgerFacts, tables: dict[str, list[dict[str, Any]]]
) -> tuple[int, list[Finding]]:
    """How many rows were compared, and every disagreement."""
    findings: list[Finding] = []
    rows = 0
    for table, (key_columns, named) in _COMPARED.items():
        columns = [(c.rstrip("*"), c.endswith("*")) for c in named]
        found_rows = tables.get(table, [])
        rows += len(found_rows)
        expected = _expected(facts, table)
        if isinstance(expected, list):  # no key of its own: compared in order of writing
            for index in range(max(len(expected), len(found_rows))):
                findings += _differences(
                    table,
                    _name(table, (), index),
                    expected[index] if index < len(expected) else None,
                    found_rows[index] if index < len(found_rows) else None,
                    columns,
                )
            continue
        found = {tuple(r[c] for c in key_columns): r for r in found_rows}
        keyed = {k if isinstance(k, tuple) else (k,): v for k, v in expected.items()}
        for key in [*keyed, *(k for k in found if k not in keyed)]:
            findings += _differences(
                table, _name(table, key, 0), keyed.get(key), found.get(key), columns
            )
    return rows, findings


def _parsed(body: str | bytes) -> Any:
    """A body as JSON, or None when it is not (written outside clearance: seals name it)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def check_tables(store: Store, events: int) -> tuple[int, list[Finding]]:
    """Fold the ledger's ``events`` events (those its chain holds) and compare every table with
    them; the signed statements too."""
    facts = LedgerFacts()
    facts.fold((seq, prev, _parsed(body)) for seq, prev, body in store.ledger_bodies(events))
    tables = {table: list(store.table_rows(table)) for table in _COMPARED}
    rows, findings = compare(facts, tables)
    return rows, [*facts.problems, *findings]
