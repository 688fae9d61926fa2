#!/usr/bin/env python3
"""An independent verifier of a clearance record, written from docs/verifying.md alone.

It imports nothing from clearance: the standard library and `cryptography`
(Ed25519) are all it uses, and the canonical JSON below is its own.

    verify.py export EXPORT.jsonl --system-key KEY [--checkpoint KEPT.json ...]
    verify.py case CASE.json --system-key KEY --keys USERS.json

KEY is the system public key in base64, or a file holding it. The program
prints one line per problem found and exits 0 when everything checks, 1 when
something does not, 2 when the input cannot be used.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ZERO_HASH = "sha256:" + "0" * 64
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
SEP = "\x1f"


class Unusable(Exception):
    """The input cannot be checked at all (exit 2)."""


# --- canonical JSON (RFC 8785, for the values the page lists) ---------------

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _number(value: float) -> str:
    # ECMAScript Number.prototype.toString, as RFC 8785 asks; clearance itself
    # writes integers only, but a reader may hand us a float.
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinities have no JSON form")
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    mantissa, _, exponent = repr(value).partition("e")
    if not exponent:
        return mantissa
    digits = mantissa.replace(".", "").lstrip("-").rstrip("0") or "0"
    exp = int(exponent)
    sign = "-" if value < 0 else ""
    if -7 < exp < 21:
        return sign + format(abs(value), "f").rstrip("0").rstrip(".")
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{head}e{'+' if exp > 0 else '-'}{abs(exp)}"


def canonical(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        names = sorted(value, key=lambda name: name.encode("utf-16-be"))
        return "{" + ",".join(_string(name) + ":" + canonical(value[name]) for name in names) + "}"
    raise ValueError(f"{type(value).__name__} has no JSON form")


def sha256_text(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    return sha256_text(canonical(value).encode("utf-8"))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"duplicate key {name!r}")
        out[name] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def same(a: Any, b: Any) -> bool:
    """JSON equality (so that 1 and true, or 1 and 1.0, are not confused)."""
    try:
        return canonical(a) == canonical(b)
    except ValueError:
        return False


# --- keys and signatures ------------------------------------------------------


def b64decode(text: Any) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def load_public_key(text: str) -> Ed25519PublicKey | None:
    raw = b64decode(text)
    if raw is None or len(raw) != 32:
        return None
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_ok(key: Ed25519PublicKey, signature: Any, data: bytes) -> bool:
    raw = b64decode(signature)
    if raw is None or len(raw) != 64:
        return False
    try:
        key.verify(raw, data)
    except InvalidSignature:
        return False
    return True


def read_system_key(arg: str) -> tuple[str, Ed25519PublicKey]:
    """The system key, given as base64 or as a file holding it."""
    text = arg.strip()
    key = load_public_key(text)
    if key is None:
        path = Path(arg)
        if not path.is_file():
            raise Unusable(f"system key: {arg!r} is neither a base64 Ed25519 key nor a file")
        text = path.read_text(encoding="utf-8").strip()
        key = load_public_key(text)
        if key is None:
            raise Unusable(f"system key: {arg} does not hold a base64 Ed25519 public key")
    return text, key


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# --- link hashes and seals ----------------------------------------------------


def hash_scheme2(seq: int, prev_hash: str, body_hash: str) -> str:
    text = SEP.join(["clearance-ledger/2", str(seq), prev_hash, body_hash])
    return sha256_text(text.encode("ascii"))


def hash_scheme1(seq: int, case_id: str | None, prev_hash: str, body: str) -> str:
    text = SEP.join([str(seq), case_id or "", prev_hash, body])
    return sha256_text(text.encode("utf-8"))


def seal_bytes(seq: int, hash_: str) -> bytes:
    return canonical({"hash": hash_, "kind": "clearance.seal", "seq": seq}).encode("utf-8")


def parse_body(body: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The body object, or why it is not one."""
    if not isinstance(body, str):
        return None, "body is not a string"
    try:
        obj = parse(body)
    except ValueError as exc:
        return None, f"body is not JSON ({exc})"
    if not isinstance(obj, dict):
        return None, "body is not a JSON object"
    missing = [k for k in ("actor", "at", "case_id", "payload", "type") if k not in obj]
    if missing:
        return None, "body lacks " + ", ".join(missing)
    return obj, None


def check_event_hash(
    where: str, line: dict[str, Any], key: Ed25519PublicKey, problems: list[str]
) -> dict[str, Any] | None:
    """Recompute one event's hash and check its seal; return its body object (full lines)."""
    seq, prev_hash, hash_ = line.get("seq"), line.get("prev_hash"), line.get("hash")
    scheme = line.get("scheme", 1)
    redacted = line.get("redacted") is True
    body_obj = None
    if not (is_int(seq) and isinstance(prev_hash, str) and isinstance(hash_, str)):
        problems.append(f"{where}: seq, prev_hash or hash missing or of the wrong type")
        return None
    if not redacted:
        body_obj, why = parse_body(line.get("body"))
        if why:
            problems.append(f"{where}: {why}")
    if scheme == 2:
        if redacted:
            body_hash = line.get("body_hash")
            if not isinstance(body_hash, str) or not DIGEST.fullmatch(body_hash):
                problems.append(f"{where}: redacted line has no valid body_hash")
                body_hash = None
        else:
            body = line.get("body")
            body_hash = sha256_text(body.encode("utf-8")) if isinstance(body, str) else None
            if body_hash and "body_hash" in line and line["body_hash"] != body_hash:
                problems.append(f"{where}: body_hash is not the digest of body")
        if body_hash is not None and hash_scheme2(seq, prev_hash, body_hash) != hash_:
            what = "body_hash" if redacted else "body"
            problems.append(f"{where}: hash does not match seq, prev_hash and {what} (scheme 2)")
        seal = line.get("seal")
        if seal is None:
            problems.append(f"{where}: scheme 2 event carries no seal")
        elif not signature_ok(key, seal, seal_bytes(seq, hash_)):
            problems.append(f"{where}: seal does not verify under the system public key")
    elif scheme == 1:
        if not redacted:
            body = line.get("body")
            case_id = line.get("case_id")
            if isinstance(body, str) and (case_id is None or isinstance(case_id, str)):
                if hash_scheme1(seq, case_id, prev_hash, body) != hash_:
                    problems.append(
                        f"{where}: hash does not match seq, case_id, prev_hash and body (scheme 1)"
                    )
            else:
                problems.append(f"{where}: body or case_id of the wrong type")
        if line.get("seal") is not None:
            problems.append(f"{where}: scheme 1 event carries a seal")
    else:
        problems.append(f"{where}: unknown scheme {scheme!r}")
    return body_obj


# --- checkpoints --------------------------------------------------------------


def checkpoint_problems(cp: Any, system_key_text: str, key: Ed25519PublicKey) -> list[str]:
    """Why a checkpoint does not count (empty when it does)."""
    if not isinstance(cp, dict):
        return ["is not an object"]
    out = []
    seq, head, at = cp.get("seq"), cp.get("head"), cp.get("at")
    statement, signature = cp.get("statement"), cp.get("signature")
    if not is_int(seq) or not isinstance(head, str) or not isinstance(at, str):
        out.append("seq, head or at missing or of the wrong type")
    if not isinstance(statement, str):
        return [*out, "statement missing"]
    if cp.get("public_key") != system_key_text:
        out.append("public_key is not the system public key")
    if not signature_ok(key, signature, statement.encode("utf-8")):
        out.append("signature does not verify under the system public key")
    try:
        said = parse(statement)
    except ValueError:
        return [*out, "statement is not JSON"]
    expected = {"at": at, "head": head, "kind": "clearance.checkpoint", "seq": seq}
    if not isinstance(said, dict) or set(said) != set(expected):
        out.append("statement does not have exactly the keys at, head, kind, seq")
    else:
        for name, value in expected.items():
            if not same(said[name], value):
                out.append(f"statement's {name} is not the checkpoint's {name}")
    return out


def redaction_problems(red: Any, key: Ed25519PublicKey) -> list[str]:
    """Why a redaction statement does not count (empty when it does)."""
    if not isinstance(red, dict):
        return ["is not an object"]
    statement, signature = red.get("statement"), red.get("signature")
    if not isinstance(statement, str):
        return ["statement missing"]
    out = []
    if not signature_ok(key, signature, statement.encode("utf-8")):
        out.append("signature does not verify under the system public key")
    try:
        said = parse(statement)
    except ValueError:
        return [*out, "statement is not JSON"]
    expected = {
        "head": red.get("head"),
        "hidden": red.get("hidden"),
        "kind": "clearance.redaction",
        "level": red.get("level"),
        "seq": red.get("seq"),
    }
    if not isinstance(said, dict) or set(said) != set(expected):
        out.append("statement does not have exactly the keys head, hidden, kind, level, seq")
    elif any(not same(said[k], v) for k, v in expected.items()):
        out.append("statement does not say what the redaction says")
    if not is_int(red.get("seq")) or not isinstance(red.get("head"), str):
        out.append("seq or head missing or of the wrong type")
    return out


def load_checkpoint_file(path: str) -> Any:
    try:
        data = parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise Unusable(f"checkpoint {path}: cannot read ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("checkpoint"), dict):
        data = data["checkpoint"]
    return data


# --- the export ---------------------------------------------------------------


def verify_export(export: str, system_key_arg: str, kept: list[str]) -> list[str]:
    key_text, key = read_system_key(system_key_arg)
    kept_cps = [(f"checkpoint {p}", load_checkpoint_file(p)) for p in kept]
    try:
        lines = Path(export).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise Unusable(f"export {export}: cannot read ({exc})") from exc
    records = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            obj = parse(text)
        except ValueError as exc:
            raise Unusable(f"export line {number}: not JSON ({exc})") from exc
        if not isinstance(obj, dict):
            raise Unusable(f"export line {number}: not a JSON object")
        records.append((number, obj))
    if not records:
        raise Unusable("export is empty")

    problems: list[str] = []
    header_level = None
    if "format" in records[0][1]:
        number, header = records.pop(0)
        header_level = header.get("redacted_above")
        if header.get("format") != "clearance-ledger-export":
            raise Unusable(f"export line {number}: format is {header.get('format')!r}")
        if header.get("version") not in (1, 2):
            raise Unusable(f"export line {number}: unknown version {header.get('version')!r}")
        if header.get("system_public_key") != key_text:
            # The page: "if they differ, stop".
            return ["header: system_public_key is not the system public key you gave; stopped"]

    export_cps: list[tuple[str, Any]] = []
    redactions: list[tuple[int, Any]] = []
    events: list[tuple[int, dict[str, Any]]] = []
    for number, obj in records:
        if set(obj) == {"checkpoint"}:
            if events:
                problems.append(f"line {number}: checkpoint line after event lines")
            export_cps.append((f"checkpoint (export line {number})", obj["checkpoint"]))
        elif set(obj) == {"redaction"}:
            if events:
                problems.append(f"line {number}: redaction line after event lines")
            redactions.append((number, obj["redaction"]))
        elif "seq" in obj:
            events.append((number, obj))
        else:
            problems.append(f"line {number}: neither a checkpoint nor an event line")

    # 1. The chain.
    prev_seq, prev_hash = 0, ZERO_HASH
    by_seq: dict[int, dict[str, Any]] = {}
    for number, line in events:
        seq = line.get("seq")
        where = f"event {seq} (line {number})"
        if not is_int(seq):
            problems.append(f"line {number}: seq {seq!r} is not an integer")
            continue
        if seq != prev_seq + 1:
            problems.append(f"{where}: seq out of order (expected {prev_seq + 1})")
        if line.get("prev_hash") != prev_hash:
            problems.append(f"{where}: prev_hash is not the hash of the line before")
        redacted = line.get("redacted") is True
        if "redacted" in line and not redacted:
            problems.append(f"{where}: redacted is {line['redacted']!r}")
        body = check_event_hash(where, line, key, problems)
        if body is not None:
            if "type" in line and line["type"] != body["type"]:
                problems.append(f"{where}: type is not the body's type")
            if line.get("case_id") != body["case_id"]:
                problems.append(f"{where}: case_id is not the body's case_id")
        if seq in by_seq:
            problems.append(f"{where}: seq repeated")
        by_seq.setdefault(seq, line)
        prev_seq = seq
        hash_ = line.get("hash")
        prev_hash = hash_ if isinstance(hash_, str) else ""

    # 2. The anchors.
    holding = 0
    for where, cp in export_cps + kept_cps:
        why = checkpoint_problems(cp, key_text, key)
        if why:
            problems.extend(f"{where}: {w}" for w in why)
            continue
        seq, head = cp["seq"], cp["head"]
        where = f"{where} (seq {seq})"
        if seq == 0:
            if head != ZERO_HASH:
                problems.append(f"{where}: head of an empty ledger is not the zero hash")
            continue
        if seq not in by_seq:
            problems.append(
                f"{where}: the export has no event {seq}: events after event {prev_seq} were cut off"
            )
        elif by_seq[seq].get("hash") != head:
            problems.append(
                f"{where}: event {seq}'s hash is not the checkpoint's head: the history up to it was rewritten"
            )
        else:
            holding = max(holding, seq)

    # The redaction statement is an anchor too: its head must be the hash of its seq.
    redaction = None
    for number, red in redactions:
        why = redaction_problems(red, key)
        if why:
            problems.extend(f"redaction (line {number}): {w}" for w in why)
            continue
        if red["seq"] not in by_seq or by_seq[red["seq"]].get("hash") != red["head"]:
            problems.append(f"redaction (line {number}): event {red['seq']}'s hash is not its head")
            continue
        redaction = red

    # 3. The seals (scheme 2 seals are all checked above); after the last
    # checkpoint that holds, every event must be of scheme 2.
    for number, line in events:
        seq = line.get("seq")
        if is_int(seq) and seq > holding and line.get("scheme", 1) != 2:
            problems.append(
                f"event {seq} (line {number}): after the last checkpoint that holds (seq {holding}) but not of scheme 2, so unsealed"
            )

    # 4. The redaction: the redacted lines are exactly those the system signed.
    if header_level is not None:
        hidden = [line["seq"] for _, line in events if line.get("redacted") is True]
        if redaction is None:
            problems.append("the export is redacted, and no redaction statement counts")
        elif redaction.get("level") != header_level:
            problems.append("redaction: its level is not the header's redacted_above")
        elif any(seq > redaction["seq"] for seq in hidden):
            problems.append("redaction: an event after the statement's seq is redacted")
        elif digest(sorted(hidden)) != redaction.get("hidden"):
            problems.append("redaction: the redacted events are not those the system signed")
    return problems


# --- the case file ------------------------------------------------------------

APPROVED_STATES = {
    "approved",
    "approved_with_conditions",
    "cleared",
    "partly_executed",
    "executed",
    "withdrawn",
}
SUSPENDED_STATES = {"suspended", "withdrawn"}
OPEN_STATES = {"submitted", "in_review", "withdrawn", "expired"}
DENIED_STATES = {"denied", "withdrawn"}
ANSWER_COPIES = ("authority", "verdict", "actor", "on_behalf_of", "reason", "at")
BODY_COPIES = ("type", "case_id", "actor", "at", "payload")


def load_users(path: str) -> dict[str, dict[str, Any]]:
    try:
        data = parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise Unusable(f"keys {path}: cannot read ({exc})") from exc
    if not isinstance(data, list):
        raise Unusable(f"keys {path}: not a list of users")
    users: dict[str, dict[str, Any]] = {}
    for user in data:
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            raise Unusable(f"keys {path}: an entry without an id")
        users[user["id"]] = user
    return users


def held(user: dict[str, Any] | None, authority: Any, day: str) -> bool:
    """Whether ``user``'s holdings give them ``authority`` on ``day`` (YYYY-MM-DD)."""
    holdings = (user or {}).get("holdings")
    return isinstance(holdings, list) and any(
        isinstance(h, dict)
        and h.get("authority") == authority
        and isinstance(h.get("from"), str)
        and h["from"] <= day
        and (h.get("to") is None or (isinstance(h.get("to"), str) and day <= h["to"]))
        for h in holdings
    )


def verify_case(case_path: str, system_key_arg: str, keys_path: str) -> list[str]:
    _, key = read_system_key(system_key_arg)
    users = load_users(keys_path)
    try:
        case = parse(Path(case_path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise Unusable(f"case {case_path}: cannot read ({exc})") from exc
    if not isinstance(case, dict):
        raise Unusable("case file is not a JSON object")
    for name in ("id", "request", "request_digest", "decision", "events", "approvals", "state"):
        if name not in case:
            raise Unusable(f"case file has no {name}")
    decision, events, answers = case["decision"], case["events"], case["approvals"]
    if (
        not isinstance(decision, dict)
        or not isinstance(events, list)
        or not isinstance(answers, list)
    ):
        raise Unusable("case file: decision is not an object, or events or approvals not a list")

    problems: list[str] = []
    case_id = case["id"]
    try:
        decision_digest = digest(decision)
        request_digest = digest(case["request"])
    except ValueError as exc:
        raise Unusable(f"case file: {exc}") from exc

    # 1. The request and the decision.
    if request_digest != case["request_digest"]:
        problems.append("case: request_digest is not the digest of request")
    if not same(decision.get("request"), case["request"]):
        problems.append("case: decision's request is not the case's request")
    if decision.get("request_digest") != case["request_digest"]:
        problems.append("case: decision's request_digest is not the case's request_digest")

    # 2. Each event: its hash, its seal, its case; the copies beside the body are the body's.
    story = []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            problems.append(f"case event #{index + 1}: not an object")
            continue
        where = f"case event {event.get('seq')}"
        body = check_event_hash(where, event, key, problems)
        if event.get("scheme", 1) != 2:
            problems.append(f"{where}: not of scheme 2, so not vouched for by a seal")
        if body is None:
            continue
        if body["case_id"] != case_id:
            problems.append(f"{where}: body's case_id is not the case's id")
        for name in BODY_COPIES:
            if name in event and not same(event[name], body[name]):
                problems.append(f"{where}: {name} beside the body is not the body's {name}")
        story.append((where, event, body))

    # 3. The story the events tell, against the file.
    submitted = [s for s in story if s[2]["type"] == "case_submitted"]
    if len(submitted) != 1:
        problems.append(f"case: {len(submitted)} case_submitted events (expected 1)")
    state = None
    for where, _, body in submitted[:1]:
        payload = body["payload"] if isinstance(body["payload"], dict) else {}
        state = "submitted"
        if body["actor"] != case.get("submitted_by"):
            problems.append(
                f"{where}: submitted by {body['actor']!r}, but the file's submitted_by is {case.get('submitted_by')!r}"
            )
        for name in ("number", "request_digest", "classification"):
            if not same(payload.get(name), case.get(name)):
                problems.append(
                    f"{where}: case_submitted's {name} is {payload.get(name)!r}, the file's {case.get(name)!r}"
                )
    # Each case_suspended event replaces the decision; the last is the file's.
    deciding = [s for s in story if s[2]["type"] in ("case_submitted", "case_suspended")]
    suspended = any(body["type"] == "case_suspended" for _, _, body in deciding)
    decisions: dict[Any, dict[str, Any]] = {}
    for where, _, body in deciding[-1:] if submitted else []:
        payload = body["payload"] if isinstance(body["payload"], dict) else {}
        recorded = payload.get("decision")
        if not isinstance(recorded, dict) or digest(recorded) != decision_digest:
            problems.append(f"{where}: {body['type']}'s decision is not the file's decision")
        if "decision_digest" in payload and payload["decision_digest"] != decision_digest:
            problems.append(
                f"{where}: {body['type']}'s decision_digest is not that of the file's decision"
            )
    for _, _, body in deciding if suspended else []:
        payload = body["payload"] if isinstance(body["payload"], dict) else {}
        if isinstance(payload.get("decision"), dict):
            decisions[payload["decision"].get("decision_id")] = payload["decision"]
    if decision.get("outcome") != case.get("outcome"):
        problems.append(
            f"case: outcome is {case.get('outcome')!r}, the decision's {decision.get('outcome')!r}"
        )

    recorded_answers: dict[Any, tuple[str, str]] = {}
    met: set[Any] = set()
    for where, event, body in story:
        payload = body["payload"] if isinstance(body["payload"], dict) else {}
        if body["type"] == "case_state_changed":
            state = payload.get("to")
        elif body["type"] in ("approval_given", "approval_denied"):
            statement = payload.get("statement")
            if not isinstance(statement, dict):
                problems.append(f"{where}: records no statement object")
                continue
            if statement.get("prior_hash") != event.get("prev_hash"):
                problems.append(
                    f"{where}: the statement's prior_hash is not this event's prev_hash"
                )
            if "prior_seq" in statement and not same(
                statement["prior_seq"], event.get("seq", 0) - 1
            ):
                problems.append(f"{where}: the statement's prior_seq is not this event's seq - 1")
            verdict = "approve" if body["type"] == "approval_given" else "deny"
            if statement.get("verdict") != verdict:
                problems.append(
                    f"{where}: a {body['type']} records a {statement.get('verdict')!r} verdict"
                )
            if statement.get("actor") != body["actor"]:
                problems.append(f"{where}: the statement's actor is not the event's")
            try:
                recorded_answers[statement.get("authority")] = (canonical(statement), where)
            except ValueError:
                problems.append(f"{where}: statement has no JSON form")
        elif body["type"] == "condition_met":
            met.add(payload.get("condition"))
    if state is not None and state != case["state"]:
        problems.append(f"case: state is {case['state']!r}, but its events say {state!r}")
    file_texts = sorted(str(a.get("statement")) if isinstance(a, dict) else "" for a in answers)
    if file_texts != sorted(text for text, _ in recorded_answers.values()):
        problems.append("case: approvals are not the answers its events record")
    conditions = case.get("conditions", [])
    listed = (
        {c.get("text"): c.get("met") for c in conditions if isinstance(c, dict)}
        if isinstance(conditions, list)
        else {}
    )
    expected_conditions = {text: text in met for text in decision.get("conditions") or []}
    if listed != expected_conditions:
        problems.append(
            "case: conditions are not the decision's conditions, met as its events record"
        )

    # 4. The state follows from the decision and the answers.
    required = [
        r.get("authority") for r in decision.get("required_approvals") or [] if isinstance(r, dict)
    ]
    said_all = []
    for answer in answers:
        try:
            said = parse(answer["statement"])
        except (TypeError, KeyError, ValueError):
            said = None
        said_all.append(said if isinstance(said, dict) else None)
    approved = {s.get("authority") for s in said_all if s and s.get("verdict") == "approve"}
    denied = any(s and s.get("verdict") == "deny" for s in said_all)
    outcome = decision.get("outcome")
    if outcome == "prohibited":
        allowed = {"denied"}
    elif denied:
        allowed = DENIED_STATES
    elif outcome == "permitted" or (required and all(r in approved for r in required)):
        allowed = APPROVED_STATES
    else:
        allowed = OPEN_STATES
    if suspended:
        allowed = allowed | SUSPENDED_STATES
    if case["state"] not in allowed:
        problems.append(
            f"case: state {case['state']!r} does not follow from the decision ({outcome!r}) and the"
            f" answers (allowed: {', '.join(sorted(allowed))})"
        )

    # 5. Every answer.
    by_seq = {e.get("seq"): e for e in events if isinstance(e, dict)}
    covered = {
        "decision_digest": decision_digest,
        "outcome": decision.get("outcome"),
        "required_approvals": decision.get("required_approvals"),
        "conditions": decision.get("conditions"),
        "bundles": decision.get("bundles"),
        "classification": case.get("classification"),
    }
    always = {
        "case_id": case_id,
        "request_digest": request_digest,
        "decision_id": decision.get("decision_id"),
    }
    for index, (answer, said) in enumerate(zip(answers, said_all, strict=True)):
        if said is None or not isinstance(answer, dict):
            problems.append(f"answer {index + 1}: statement is not the text of a JSON object")
            continue
        actor = said.get("actor")
        where = f"answer {index + 1} ({actor}, {said.get('authority')})"
        user = users.get(actor) if isinstance(actor, str) else None
        text = user.get("public_key") if user else None
        user_key = load_public_key(text) if isinstance(text, str) else None
        if user_key is None:
            problems.append(f"{where}: no public key for the actor in the users' keys")
        elif not signature_ok(
            user_key, answer.get("signature"), answer["statement"].encode("utf-8")
        ):
            problems.append(f"{where}: signature does not verify under the actor's key")
        signed_over = decisions.get(said.get("decision_id"), decision)
        if signed_over is decision:
            against, gates = {**always, **covered}, required
        else:  # signed before a suspension replaced the decision: checked against that one
            against = {
                **always,
                **covered,
                "decision_id": signed_over.get("decision_id"),
                "decision_digest": digest(signed_over),
                "outcome": signed_over.get("outcome"),
                "required_approvals": signed_over.get("required_approvals"),
                "conditions": signed_over.get("conditions"),
                "bundles": signed_over.get("bundles"),
            }
            gates = [
                r.get("authority")
                for r in signed_over.get("required_approvals") or []
                if isinstance(r, dict)
            ]
        for name, value in against.items():
            if (name in always or name in said) and not same(said.get(name), value):
                problems.append(f"{where}: statement's {name} is not the case's")
        for name in ANSWER_COPIES:
            if not same(answer.get(name), said.get(name)):
                problems.append(f"{where}: the answer's {name} is not its statement's")
        if said.get("authority") not in gates:
            problems.append(f"{where}: office is not among the decision's required_approvals")
        if said.get("verdict") not in ("approve", "deny"):
            problems.append(f"{where}: verdict {said.get('verdict')!r}")
        if "prior_seq" in said:
            recording = by_seq.get(said["prior_seq"] + 1) if is_int(said["prior_seq"]) else None
            if recording is None or recording.get("prev_hash") != said.get("prior_hash"):
                problems.append(
                    f"{where}: the event at prior_seq + 1 does not have prev_hash = prior_hash"
                )
        holder = said.get("on_behalf_of") or actor
        day = str(said.get("at", ""))[:10]
        if not held(
            users.get(holder) if isinstance(holder, str) else None, said.get("authority"), day
        ):
            problems.append(f"{where}: {holder} did not hold {said.get('authority')} on {day}")
    return problems


# --- command line -------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a clearance ledger export or case file.")
    sub = parser.add_subparsers(dest="what", required=True)
    export = sub.add_parser("export", help="check a ledger export")
    export.add_argument("file")
    export.add_argument("--system-key", required=True, help="base64, or a file holding it")
    export.add_argument("--checkpoint", action="append", default=[], help="a checkpoint you kept")
    case = sub.add_parser("case", help="check a case file (cases show --json)")
    case.add_argument("file")
    case.add_argument("--system-key", required=True, help="base64, or a file holding it")
    case.add_argument("--keys", required=True, help="the users' keys (users list --json)")
    args = parser.parse_args(argv)
    try:
        if args.what == "export":
            problems = verify_export(args.file, args.system_key, args.checkpoint)
        else:
            problems = verify_case(args.file, args.system_key, args.keys)
    except Unusable as exc:
        print(f"unusable: {exc}")
        return 2
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
