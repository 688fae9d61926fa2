"""Signed answers checked offline: each approval or denial of a case file against its
signer's key and against what the case says (``verify-decision``'s fifth check).

Kept apart from ``service.decision_proof`` because the case page shows the same
check beside each answer, without the rest of the proof.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearance.core import signing
from clearance.core.access import Level
from clearance.core.dates import in_term
from clearance.core.digest import canonical_digest
from clearance.store.records import CaseRecord

__all__ = [
    "SignatureCheck",
    "check_signatures",
    "check_waivers",
    "digest_of",
    "figures_withheld",
    "statement_about",
    "text_of",
]


def statement_about(
    case: CaseRecord,
    *,
    actor: str,
    on_behalf_of: str | None,
    now: dt.datetime,
    prior: tuple[int, str],
    **what: Any,
) -> dict[str, Any]:
    """What a signer signs about a case (an answer, a waiver): this request, this decision,
    at this level, ``what`` they say of it, by whom, at this point of the ledger
    (docs/formats.md, signed statements)."""
    decision = case.decision
    return {
        "case_id": case.id,
        "request_digest": case.request_digest,
        "decision_id": decision.decision_id,
        "decision_digest": decision.digest,
        "outcome": decision.outcome.value,
        "bundles": dict(decision.bundles),
        "classification": Level(case.classification).label,
        **what,
        "actor": actor,
        "on_behalf_of": on_behalf_of,
        "at": now.isoformat(),
        "prior_seq": prior[0],
        "prior_hash": prior[1],
    }


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """One signed answer on a case, checked offline."""

    authority: str
    actor: str
    verdict: str
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "authority": self.authority,
            "actor": self.actor,
            "verdict": self.verdict,
            "valid": self.valid,
            "problems": list(self.problems),
        }


def _held(user: Mapping[str, Any], authority: str, day: str) -> bool:
    """Whether the registry's ``user`` held ``authority`` on ``day`` (ISO dates, as written;
    a date that is not one holds nothing)."""
    holdings = user.get("holdings")
    on = _date(day)
    for term in holdings if isinstance(holdings, list) else []:
        if not isinstance(term, dict) or term.get("authority") != authority:
            continue
        first, last = _date(term.get("from")), _date(term.get("to"))
        open_ended = term.get("to") is None
        if on and first and (last or open_ended) and in_term(on, first, last):
            return True
    return False


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def digest_of(value: Any) -> str | None:
    """The canonical digest of a value read from a file, or None if it has none."""
    try:
        return canonical_digest(value)
    except (ValueError, TypeError):
        return None


def text_of(value: Any) -> str:
    """A value read from a file as text (anything else as empty)."""
    return value if isinstance(value, str) else ""


def _decisions(case: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The decisions a suspended case had before the one it holds, by id: the one it was
    submitted with, and each a suspension replaced it with (their events are checked by
    seal and hash with the rest). An answer signed over one of them is checked against
    it. A case never suspended has had one decision: its answers are checked against the
    one it holds, whatever its events say."""
    found: dict[str, dict[str, Any]] = {}
    events = [e for e in case.get("events") or [] if isinstance(e, dict)]
    if not any(e.get("type") == "case_suspended" for e in events):
        return found
    for event in events:
        if event.get("type") not in _DECIDING:
            continue
        payload = event.get("payload")
        decision = payload.get("decision") if isinstance(payload, dict) else None
        if isinstance(decision, dict):
            found[str(decision.get("decision_id"))] = decision
    return found


_DECIDING = ("case_submitted", "case_suspended")
"""The events that carry a decision the case then holds."""


def _expected(
    case: Mapping[str, Any], decision: Mapping[str, Any]
) -> tuple[set[Any], dict[str, Any]]:
    """The offices ``decision`` requires, and what an answer signed over it must carry."""
    required = {
        a.get("authority") for a in decision.get("required_approvals") or [] if isinstance(a, dict)
    }
    expected: dict[str, Any] = {
        "case_id": case.get("id"),
        "request_digest": digest_of(case.get("request")),
        "decision_id": decision.get("decision_id"),
        # A decision shown without another party's figures is not the one signed over.
        "decision_digest": None if figures_withheld(case) else digest_of(decision),
        "outcome": decision.get("outcome"),
        "required_approvals": decision.get("required_approvals"),
        "conditions": decision.get("conditions"),
        "bundles": decision.get("bundles"),
        "classification": case.get("classification"),
    }
    return required, expected


def check_signatures(
    case: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]] | None
) -> list[SignatureCheck]:
    """Check every signed answer of a case offline (the module docstring's fifth check).

    With ``users`` (as ``users list --json`` writes them) the key comes from
    that registry, not from the case file, and the office must have been held
    on the day by the actor (or by the holder they answered for).
    """
    current = case.get("decision")
    current = current if isinstance(current, dict) else {}
    earlier = _decisions(case)
    events = {e.get("seq"): e for e in case.get("events") or [] if isinstance(e, dict)}
    answers = case.get("approvals")
    checks = []
    for answer in answers if isinstance(answers, list) else []:
        if not isinstance(answer, dict):
            continue
        problems: list[str] = []
        try:
            statement = json.loads(answer["statement"])
        except (KeyError, TypeError, ValueError, RecursionError):
            statement = None  # pragma: no mutate
        if not isinstance(statement, dict):
            checks.append(
                SignatureCheck(
                    str(answer.get("authority")),
                    str(answer.get("actor")),
                    str(answer.get("verdict")),
                    ("the signed statement is missing or not a JSON object",),
                )
            )
            continue
        decision = earlier.get(str(statement.get("decision_id")), current)
        required, expected = _expected(case, decision)
        actor = str(answer.get("actor"))
        message = text_of(answer.get("statement")).encode(errors="surrogatepass")
        problems += _signature_problems(answer, actor, message, users)  # pragma: no mutate
        for name, value in expected.items():
            # Statements signed before they covered the decision and the level carry only
            # the case, request and decision ids: what they do carry must match.
            carried = name in statement or name in ("case_id", "request_digest", "decision_id")
            if name == "decision_digest" and value is None:
                continue
            if carried and statement.get(name) != value:
                problems.append(f"signed {name} does not match the case")
        problems += [
            f"signed {name} does not match the record"
            for name in ("authority", "verdict", "actor", "on_behalf_of", "reason", "at")
            if statement.get(name) != answer.get(name)
        ]
        authority = str(statement.get("authority"))
        if authority not in required:
            problems.append(f"the decision did not require {authority}")
        if "prior_seq" in statement:
            prior = statement["prior_seq"]
            recording = events.get(prior + 1) if isinstance(prior, int) else None
            if recording is None or recording.get("prev_hash") != statement.get("prior_hash"):
                problems.append(
                    "the signed point of the ledger is not where the answer is recorded"
                )
        problems += _holding_problems(statement, actor, authority, users)
        checks.append(SignatureCheck(authority, actor, str(answer.get("verdict")), tuple(problems)))
    return checks


def _signature_problems(
    signed: Mapping[str, Any],
    actor: str,
    message: bytes,
    users: Mapping[str, Mapping[str, Any]] | None,
) -> list[str]:
    """Whether ``signed``'s signature of ``message`` verifies under the actor's key: the
    registry's when one is given (a key the file carries beside it is the forger's to choose)."""
    user = None if users is None else users.get(actor)
    key = signed.get("public_key") if users is None else (user or {}).get("public_key")
    if not key or not signing.verify(str(key), message, text_of(signed.get("signature"))):
        return ["signature does not verify against the actor's public key"]
    return []


def _holding_problems(
    statement: Mapping[str, Any],
    actor: str,
    authority: str,
    users: Mapping[str, Mapping[str, Any]] | None,
) -> list[str]:
    """With a registry, whether the signer (or the holder they answered for) held the office
    on the day signed."""
    if users is None:
        return []
    holder_id = statement.get("on_behalf_of") or actor
    holder = users.get(str(holder_id))
    day = str(statement.get("at", ""))[:10]
    if holder is None or not _held(holder, authority, day):
        return [f"{holder_id} did not hold {authority} on {day}"]
    return []


_WAIVER_COVERS = (
    "case_id",
    "request_digest",
    "decision_id",
    "decision_digest",
    "outcome",
    "bundles",
    "classification",
)
"""What a waiver signs about the case (``statement_about``), each compared with the file."""


def check_waivers(
    case: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]] | None
) -> list[SignatureCheck]:
    """Check each signed waiver of the case's waiting period offline, as ``check_signatures``
    checks answers: the signature under the signer's key (the registry's, given one), the
    statement about this case and the decision it holds, the office the decision names as
    the period's waiver, the period itself, the point of the ledger where it is recorded,
    and (with a registry) the office held that day."""
    decision = case.get("decision")
    decision = decision if isinstance(decision, dict) else {}
    period = decision.get("waiting_period")
    period = period if isinstance(period, dict) else {}
    _, expected = _expected(case, decision)
    checks = []
    for event in case.get("events") or []:
        if not isinstance(event, dict) or event.get("type") != "waiting_period_waived":
            continue
        try:  # the sealed body, not the copy beside it (decision_proof checks they agree)
            payload = json.loads(text_of(event.get("body"))).get("payload")
        except (ValueError, AttributeError, RecursionError):
            payload = None  # pragma: no mutate
        statement = payload.get("statement") if isinstance(payload, dict) else None
        actor = str(event.get("actor"))
        if not isinstance(payload, dict) or not isinstance(statement, dict):
            problem = "the signed waiver is missing or not a JSON object"
            checks.append(SignatureCheck(str(period.get("waiver")), actor, "waive", (problem,)))
            continue
        authority = str(statement.get("authority"))
        problems = _signature_problems(payload, actor, signing.signed_bytes(statement), users)
        problems += [
            f"signed {name} does not match the case"
            for name in _WAIVER_COVERS
            if not (name == "decision_digest" and expected[name] is None)
            and statement.get(name) != expected[name]
        ]
        if statement.get("actor") != actor or statement.get("verdict") != "waive":
            problems.append("signed actor or verdict does not match the record")
        if authority != period.get("waiver"):
            problems.append(f"the decision does not name {authority} to waive its waiting period")
        if not period or statement.get("waiting_period") != period:
            problems.append("signed waiting_period is not the decision's")
        if statement.get("prior_seq") != _seq_before(event) or statement.get(
            "prior_hash"
        ) != event.get("prev_hash"):
            problems.append("the signed point of the ledger is not where the waiver is recorded")
        problems += _holding_problems(statement, actor, authority, users)
        checks.append(SignatureCheck(authority, actor, "waive", tuple(problems)))
    return checks


def _seq_before(event: Mapping[str, Any]) -> int | None:
    seq = event.get("seq")
    return seq - 1 if isinstance(seq, int) else None


def figures_withheld(case: Mapping[str, Any]) -> bool:
    """Whether the file was written for a reader shown the decision without another party's
    stock figures: its decision, and the events that carry it, cannot be checked whole."""
    decision = case.get("decision")
    stock = decision.get("stockpile") if isinstance(decision, dict) else None
    return isinstance(stock, dict) and stock.get("figures_withheld") is True
