"""Checking a case offline, from the case file and public keys alone (``verify-decision``).

A case file (``cases show --json``) says what was asked, what was decided,
who answered and what state the case is in. None of that is taken on trust:

1. **digests**: the request's digest is recomputed from the request, and the
   decision's from the decision (RFC 8785), and the decision must be about
   that request;
2. **events**: every ledger event in the file must hash to its stored hash and
   carry the system's seal (so each is an event the system wrote, unchanged),
   and belong to this case. An event of link scheme 1 carries no seal, and its
   hash needs no key: the file alone cannot vouch for it;
3. **the story**: the events, folded in order (``state_check.LedgerFacts``),
   must give the file's level, outcome, state, answers and conditions: a
   dropped denial or a state set by hand does not fold to what the file says
   (in a file whose ``case_submitted`` event is withheld from its reader,
   what that event carries is unknown; the rest is still compared);
4. **the state against the answers**: a denied case has a signed denial, an
   approved one a signed approval from every office the decision required;
5. **each answer**: its signature verifies under its signer's key, and the
   statement it signs covers this request, this decision (outcome, required
   approvals, conditions, bundle revisions), this level and the point of the
   ledger where it was recorded; the office was required, and (with a
   registry of users) held by the signer that day;
6. **each waiver** of a waiting period, the same way: its signature, the case and
   decision it covers, the office the decision names to waive, and the period.

Each problem is one line naming what does not match.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearance.core.access import Level
from clearance.core.anchors import seal_valid
from clearance.core.chain import Scheme, digest_link_hash, link_hash
from clearance.core.workflow import CaseState as C
from clearance.service.signed_answers import (
    SignatureCheck,
    check_signatures,
    check_waivers,
    digest_of,
    figures_withheld,
    text_of,
)
from clearance.service.state_check import UNKNOWN, LedgerFacts, Row

__all__ = ["CaseProof", "prove"]


_READABLE = ("type", "case_id", "actor", "at", "payload")
"""The keys of an event's body that a case file also writes beside it."""

_ANSWERED_STATES = {
    "denied": {C.DENIED, C.WITHDRAWN},
    "approved": {
        C.APPROVED,
        C.APPROVED_WITH_CONDITIONS,
        C.CLEARED,
        C.PARTLY_EXECUTED,
        C.EXECUTED,
        C.WITHDRAWN,
    },
    "open": {C.SUBMITTED, C.IN_REVIEW, C.WITHDRAWN, C.EXPIRED},
}
"""The states a case may be in, given how it was answered."""

_SUSPENDED_STATES = {C.SUSPENDED, C.WITHDRAWN}
"""The states a case suspended under the decision it holds may be in besides: waiting on
the offices it names (none, when it prohibits), or withdrawn."""


@dataclass(frozen=True, slots=True)
class CaseProof:
    """What ``prove`` found: problems with the case as a whole, and each answer's check."""

    case_id: str
    problems: tuple[str, ...]
    signatures: tuple[SignatureCheck, ...]
    events: int
    sealed: bool
    """Whether the events' seals were checked (a system key was given or in the file)."""
    complete: bool = True
    """False for a file written for a reader shown the decision without another party's stock
    figures: its decision and the events that carry it are checked by digest and seal only,
    so the file's story and the answers' decision digests are not checked."""

    @property
    def valid(self) -> bool:
        return not self.problems and all(s.valid for s in self.signatures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "valid": self.valid,
            "complete": self.complete,
            "problems": list(self.problems),
            "events_checked": self.events,
            "seals_checked": self.sealed,
            "signatures": [s.as_dict() for s in self.signatures],
        }


def _event_problems(
    case_id: str, events: list[Any], system_key: str | None
) -> tuple[list[str], list[tuple[int, str, dict[str, Any]]]]:
    """Check each event of the file (hash, seal, case) and parse it for the fold."""
    problems: list[str] = []
    parsed: list[tuple[int, str, dict[str, Any]]] = []
    seen: set[int] = set()
    for event in events:
        if not isinstance(event, dict):
            problems.append("an event of the file is not a JSON object")
            continue
        seq, body, prev = event.get("seq"), event.get("body"), event.get("prev_hash")
        if event.get("redacted") is True and isinstance(seq, int) and isinstance(prev, str):
            problems += _redacted_problems(event, seq, prev, system_key) or _twice(seq, seen)
            continue
        if not (isinstance(seq, int) and isinstance(body, str) and isinstance(prev, str)):
            problems.append(f"event {seq} lacks its seq, body or prev_hash: it cannot be checked")
            continue
        stored = text_of(event.get("hash"))
        try:
            scheme = Scheme(event.get("scheme", Scheme.V1))
        except ValueError:
            problems.append(f"event {seq} is not a ledger event this program knows")
            continue
        if link_hash(seq, _case_of(body), prev, body, scheme) != stored:
            problems.append(f"event {seq} does not match its hash")
            continue
        seal = event.get("seal")
        sealed = isinstance(seal, str) and seal_valid(str(system_key), seq, stored, seal)
        if system_key is not None and scheme == Scheme.V1:
            # Written before seals, or forged as such: anyone can compute a scheme-1 hash.
            problems.append(
                f"event {seq} carries no seal (link scheme 1): nothing in the file vouches for"
                " it; check it against a ledger export and a checkpoint"
            )
            continue
        if system_key is not None and not sealed:
            problems.append(f"event {seq} is not sealed by the system key")
            continue
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            problems.append(f"event {seq}'s body is not JSON")
            continue
        if not isinstance(data, dict):
            problems.append(f"event {seq}'s body is not a JSON object")
            continue
        if data.get("case_id") != case_id:
            problems.append(f"event {seq} belongs to another case")
            continue
        # The body's keys are also written beside it, for people to read: they must say
        # what the sealed body says, or a reader would be shown what nobody signed.
        changed = [k for k in _READABLE if k in event and event[k] != data.get(k)]
        if changed:
            problems.append(f"event {seq}'s {', '.join(changed)} beside its body is not its body's")
            continue
        if twice := _twice(seq, seen):
            problems += twice
            continue
        parsed.append((seq, prev, data))
    return problems, sorted(parsed, key=lambda e: e[0])  # pragma: no mutate


def _twice(seq: int, seen: set[int]) -> list[str]:
    """A second event that checks out at a place of the ledger already taken: a ledger holds
    one event at each place, and without a system key anyone can hash another there (the
    fold would tell whichever came last). Marks the place taken."""
    if seq in seen:
        return [f"event {seq} appears twice in the file"]
    seen.add(seq)
    return []


def _redacted_problems(
    event: Mapping[str, Any], seq: int, prev: str, system_key: str | None
) -> list[str]:
    """An event shown to this file's reader without its body (it holds what they may not
    see): checked by its body's digest and its seal, not folded into the story."""
    digest, stored, seal = event.get("body_hash"), event.get("hash"), event.get("seal")
    if not isinstance(digest, str) or digest_link_hash(seq, prev, digest) != stored:
        return [f"event {seq} does not match its hash"]
    sealed = isinstance(seal, str) and seal_valid(str(system_key), seq, stored, seal)
    if system_key is not None and not sealed:
        return [f"event {seq} is not sealed by the system key"]
    return []


def _case_of(body: str) -> str | None:
    try:
        value = json.loads(body).get("case_id")
    except (ValueError, AttributeError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def _story_problems(case: Mapping[str, Any], facts: LedgerFacts, case_id: str) -> list[str]:
    """The file's own fields against what its events say."""
    row = facts.cases.get(case_id)
    if row is None:
        return ["the file carries no case_submitted event: nothing vouches for the case"]
    told = row.values
    problems = []
    checks = {
        "state": case.get("state"),
        "outcome": case.get("outcome"),
        "submitted_by": case.get("submitted_by"),
        "number": case.get("number"),
        "request_digest": case.get("request_digest"),
    }
    for name, value in checks.items():
        if told[name] is not UNKNOWN and told[name] != value:
            problems.append(f"{name} is {value!r} in the file, but its events say {told[name]!r}")
    if told["classification"] is not UNKNOWN:
        level = Level(told["classification"]).label
        if case.get("classification") != level:
            problems.append(
                f"classification is {case.get('classification')!r} in the file, but its events"
                f" say {level!r}"
            )
    if told["decision"] is not UNKNOWN and digest_of(case.get("decision")) != told["decision"]:
        problems.append("the decision is not the one its events record")
    answered = {
        (a.get("authority"), a.get("verdict"), a.get("actor"), a.get("reason"), a.get("statement"))
        for a in case.get("approvals") or []
        if isinstance(a, dict)
    }
    recorded = {
        (key[1], r.values["verdict"], r.values["actor"], r.values["reason"], r.values["statement"])
        for key, r in facts.approvals.items()
        if key[0] == case_id
    }
    if answered != recorded:
        problems.append("the answers in the file are not the ones its events record")
    met = {c.get("text"): c.get("met") for c in case.get("conditions") or [] if isinstance(c, dict)}
    kept = {
        key[1]: r.values["met_at"] is not None
        for key, r in facts.conditions.items()
        if key[0] == case_id
    }
    if met != kept:
        problems.append("the conditions in the file are not the ones its events record")
    return problems


def _unseen_submission(facts: LedgerFacts, case_id: str, decision: Any) -> None:
    """The case as its redacted ``case_submitted`` event starts it: what that event carries
    (level, number, submitter, decision) is unknown and not compared; the state, the answers
    and the conditions met still follow from the events shown, and are checked."""
    unknown = ("number", "submitted_by", "request_digest", "outcome", "classification")
    facts.cases[case_id] = Row(
        {
            **dict.fromkeys(unknown, UNKNOWN),
            "decision": UNKNOWN,
            "sla_days": UNKNOWN,
            "state": C.SUBMITTED.value,
            "decided_at": None,
        },
        0,  # pragma: no mutate
    )
    conditions = (
        decision.get("conditions")
        if isinstance(decision, dict)  # pragma: no mutate
        else None
    )
    for text in conditions if isinstance(conditions, list) else []:
        if isinstance(text, str):
            facts.conditions[(case_id, text)] = Row(
                {
                    "met_at": None,
                    "met_by": None,  # pragma: no mutate
                    "evidence": None,  # pragma: no mutate
                },
                0,  # pragma: no mutate
            )


def _state_problems(case: Mapping[str, Any]) -> list[str]:
    """The state against the answers and the decision."""
    decision = case.get("decision") if isinstance(case.get("decision"), dict) else {}
    assert isinstance(decision, dict)
    required = {
        a.get("authority") for a in decision.get("required_approvals") or [] if isinstance(a, dict)
    }
    answers = [a for a in case.get("approvals") or [] if isinstance(a, dict)]
    denied = any(a.get("verdict") == "deny" for a in answers)
    approved = {a.get("authority") for a in answers if a.get("verdict") == "approve"}
    outcome = decision.get("outcome")
    if outcome == "prohibited":
        allowed = {C.DENIED}
    elif denied:
        allowed = _ANSWERED_STATES["denied"]
    elif outcome == "permitted" or (required and required <= approved):
        allowed = _ANSWERED_STATES["approved"]
    else:
        allowed = _ANSWERED_STATES["open"]
    events = case.get("events")
    if any(isinstance(e, dict) and e.get("type") == "case_suspended" for e in events or []):
        allowed = allowed | _SUSPENDED_STATES
    state = case.get("state")
    if state not in allowed:
        return [
            f"the state {state!r} does not follow from the decision ({outcome}) and the signed"
            f" answers (expected one of {', '.join(sorted(allowed))})"
        ]
    return []


def prove(
    case: Mapping[str, Any],
    users: Mapping[str, Mapping[str, Any]] | None,
    system_key: str | None,
) -> CaseProof:
    """Every check of the module docstring over one case file."""
    case_id = text_of(case.get("id"))
    problems: list[str] = []
    request, decision = case.get("request"), case.get("decision")
    if digest_of(request) != case.get("request_digest"):
        problems.append("the request does not match its request_digest (it was changed)")
    if not isinstance(decision, dict) or decision.get("request_digest") != case.get(
        "request_digest"
    ):
        problems.append("the decision is not about this request")
    elif decision.get("request") != request:
        problems.append("the decision was made on another request than the file's")
    events = case.get("events") if isinstance(case.get("events"), list) else []
    assert isinstance(events, list)
    told = case.get("system_public_key")
    if system_key is not None and isinstance(told, str) and told != system_key:
        problems.append(
            "the file names another system key than the one its seals were checked against"
        )
    event_problems, parsed = _event_problems(case_id, events, system_key)
    problems += event_problems
    # answers' keys are checked against `users` below
    facts = LedgerFacts(registry=False)  # pragma: no mutate
    # Withheld only when the event that carries the decision is: a file that shows it whole
    # is checked whole, whatever it says of itself.
    withheld = figures_withheld(case) and not any(
        e.get("type") == "case_submitted" for _, _, e in parsed
    )
    if withheld:
        _unseen_submission(facts, case_id, decision)
    facts.fold(parsed)
    problems += _story_problems(case, facts, case_id)
    problems += _state_problems(case)
    problems += [p.problem for p in facts.problems]
    signatures = check_signatures(case, users) + check_waivers(case, users)
    return CaseProof(
        case_id,
        tuple(dict.fromkeys(problems)),
        tuple(signatures),
        len(parsed),
        system_key is not None,
        complete=not withheld,
    )
