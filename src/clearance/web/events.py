"""Ledger events in one line of words, for the case timeline and the ledger page."""

from __future__ import annotations

import json
from typing import Any

from clearance.core.chain import EventType

from .rendering import describe_request

__all__ = ["event_summary"]


def _answer(payload: dict[str, Any]) -> str:
    statement = payload.get("statement", {})
    verdict = "approved" if statement.get("verdict") == "approve" else "denied"
    behalf = f" for {statement['on_behalf_of']}" if statement.get("on_behalf_of") else ""
    reason = f": “{statement['reason']}”" if statement.get("reason") else ""
    return f"{statement.get('authority')} {verdict}, signed by {statement.get('actor')}{behalf}{reason}"


def _access(payload: dict[str, Any]) -> str:
    changes = []
    if "roles" in payload:
        changes.append(f"roles {', '.join(payload['roles']) or 'none'}")
    if "clearance" in payload:
        changes.append(f"cleared {payload['clearance']}")
    if "password" in payload:
        changes.append(f"password {payload['password']}")
    return f"access of {payload.get('user')} changed: {'; '.join(changes) or 'no change'}"


def event_summary(event: dict[str, Any]) -> str:
    """What happened, in words; an event of an unknown kind shows its payload as JSON."""
    p: dict[str, Any] = event.get("payload", {})
    kind = event.get("type")
    try:
        if kind == EventType.CASE_SUBMITTED:
            outcome = p.get("decision", {}).get("outcome", "?")
            return (
                f"submitted as {p.get('classification', 'UNCLASSIFIED')}: "
                f"{describe_request(p['request'])}; screened: {outcome}"
            )
        if kind == EventType.CASE_STATE_CHANGED:
            return f"{p['from']} → {p['to']}: {p.get('why', '')}"
        if kind in (EventType.APPROVAL_GIVEN, EventType.APPROVAL_DENIED):
            return _answer(p)
        if kind == EventType.CONDITION_MET:
            return f"condition met: {p['condition']} (evidence: {p['evidence']})"
        if kind == EventType.CASE_RESCREENED:
            return (
                f"screened again as of {p['as_of']}: was {p['was']}, would now be {p['would_be']}"
            )
        if kind == EventType.CASE_RESCREEN_FAILED:
            return f"could not be screened again: {p['problem']}"
        if kind == EventType.BUNDLE_PROPOSED:
            tests = p["tests"]
            return (
                f"proposal {p['number']}: policy of {p['holder']} from {p['effective_from']},"
                f" “{p['title']}”; golden cases {tests['passed']} pass, {tests['failed']} fail"
            )
        if kind == EventType.BUNDLE_ACTIVATED:
            by = f", activated as {p['authority']}" if p.get("authority") else ""
            return (
                f"policy of {p['holder']} ({p['bundle']}) in force from {p['effective_from']}{by}"
            )
        if kind == EventType.USER_ADDED:
            return f"user {p['user']} ({p['name']}, {p['party']}) added"
        if kind == EventType.USER_ACCESS_CHANGED:
            return _access(p)
        if kind == EventType.API_TOKEN_ISSUED:
            until = f", until {p['expires_at'][:10]}" if p.get("expires_at") else ""
            return f"API token “{p['name']}” issued for {p['user']}{until}"
        if kind == EventType.API_TOKEN_REVOKED:
            why = " (password set)" if p.get("reason") == "password_set" else ""
            return f"API token of {p['user']} revoked{why}"
        if kind == EventType.HOLDING_GRANTED:
            until = f" to {p['to']}" if p.get("to") else ""
            return f"{p['user']} holds {p['authority']} from {p['from']}{until}"
        if kind == EventType.SYSTEM_KEY_ADDED:
            return f"system key {p['public_key'][:12]}… recorded: it seals the ledger from here on"
        if kind == EventType.STOCK_MOVED:
            return "; ".join(
                f"{m['holder']} {m['system']}: {m['kind'].replace('_', ' ')} {m['quantity']}"
                f" on {m['day']}"
                for m in p["movements"]
            )
        if kind == EventType.DELEGATION_GRANTED:
            return (
                f"{p['holder']} delegates {p['authority']} to {p['delegate']}"
                f" from {p['from']} to {p['to']}"
            )
    except (KeyError, TypeError, AttributeError):
        pass
    return json.dumps(p, ensure_ascii=False, sort_keys=True)
