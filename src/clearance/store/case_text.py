"""A case's request and decision as the store keeps them: canonical JSON text, read back typed,
and the words a search finds the case by.

The text is what the request digest and the decision digest are taken over, so
it is made here and nowhere else, in the one encoding (RFC 8785, core.digest),
and read here into the values the service layer works with: an ``AnyRequest``
(or an ``UnreadableRequest``, kept with why) and a ``RecordedDecision`` whose
digest is of the very bytes stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from clearance.core.decision import RecordedDecision, StoredDecision, UnreadableDecision
from clearance.core.digest import canonical_json, sha256_hex
from clearance.core.events import PayloadError
from clearance.core.request import (
    StoredRequest,
    UnreadableRequest,
    parse_request,
)
from clearance.core.workflow import CaseState
from clearance.errors import ClearanceError

__all__ = [
    "decision_text",
    "read_decision",
    "read_request",
    "search_terms",
    "stored_decision",
    "stored_state",
    "terms_of",
]

TERM_LENGTH = 200
"""The longest term kept (``case_terms.term``); a longer one is cut there."""

_UNREADABLE = (ClearanceError, ValueError, ArithmeticError, LookupError, TypeError, RecursionError)
"""What stored text that is not a request makes reading it raise: text that is not JSON or
nests too deep, a field that no longer validates."""


def decision_text(decision: RecordedDecision) -> str:
    """The decision's canonical JSON: the text its digest was taken over, when it has it."""
    return decision.text or canonical_json(decision.as_dict()).decode()


def _words(error: Exception) -> str:
    if isinstance(error, ClearanceError):
        return error.message
    return str(error) or type(error).__name__


def read_request(text: str) -> StoredRequest:
    """The stored request, or what was stored with why it does not read as one."""
    try:
        data = json.loads(text)
    except _UNREADABLE as exc:
        return UnreadableRequest(text, _words(exc))
    try:
        return parse_request(data)
    except _UNREADABLE as exc:
        return UnreadableRequest(data, _words(exc))


def stored_decision(text: str) -> StoredDecision:
    """The stored decision, or why it does not read as one (changed outside clearance)."""
    try:
        record = json.loads(text)
        if not isinstance(record, dict):
            raise ValueError("it is not a JSON object")
        return RecordedDecision.read(record, sha256_hex(text.encode()))
    except (ValueError, RecursionError) as exc:
        return UnreadableDecision(str(exc))


def stored_state(value: Any) -> CaseState | None:
    """The state a state column holds; None for a value that is no case state (changed
    outside clearance: ``CaseRecord.state`` refuses it, replay names the case not judged)."""
    try:
        return CaseState(value)
    except ValueError:
        return None


def read_decision(text: str, case_id: str) -> RecordedDecision:
    """The stored decision; ``PayloadError`` naming the case for one changed outside clearance."""
    decision = stored_decision(text)
    if isinstance(decision, UnreadableDecision):
        raise PayloadError(f"case {case_id}'s stored decision cannot be read: {decision.problem}")
    return decision


def search_terms(request: StoredRequest, decision: RecordedDecision) -> frozenset[str]:
    """The words a case is found by beyond its system and requester (``case_terms``)."""
    return terms_of(
        request.as_dict(),
        (a.authority for a in decision.required_approvals),
        decision.reasons,
    )


def terms_of(request: Any, offices: Iterable[str], reasons: Iterable[str]) -> frozenset[str]:
    """The search words of a request (as JSON data) and its decision's offices and reasons,
    lower case: its target's territory and region, its recipient, the offices that must
    approve it, and each policy that decided it, as ``party/policy`` and as ``policy`` alone.

    The ledger check folds the same words from the events, so an edited index is named."""
    words: set[str] = set()
    if isinstance(request, dict):
        target = request.get("target")
        if isinstance(target, dict):
            words.update(str(target[k]) for k in ("territory", "region") if target.get(k))
        if request.get("recipient"):
            words.add(str(request["recipient"]))
    words.update(offices)
    for reason in reasons:
        words.update((reason, reason.partition("/")[2] or reason))
    return frozenset(w.lower()[:TERM_LENGTH] for w in words if w)
