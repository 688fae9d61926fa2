"""An outsider's verifier, written from docs/verifying.md alone, run on a real record.

docs/verifying.md promises that an auditor can check a ledger export and a
case file with a program of their own. tests/outside_verifier/verify.py is
such a program: it imports nothing from clearance (checked below), and
implements canonical JSON, the link hashes, seals, checkpoints and signed
answers as the page states them. These tests build a record with the real
``clearance`` command, run that program on it as a separate process, and
check that it passes what is genuine, fails every tampered copy naming the
place that was changed, and agrees with ``clearance audit verify`` and
``clearance verify-decision`` on the same files.
"""

from __future__ import annotations

import ast
import base64
import copy
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .cli_support import Cli

VERIFY = Path(__file__).resolve().parent / "outside_verifier" / "verify.py"

ATACMS = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}
DENIAL = "Not now: the strike does not justify the risk of escalation."

Line = dict[str, Any]


@dataclass(frozen=True)
class Record:
    """A real record, written by clearance, as an operator hands it to an auditor."""

    cli: Cli
    tmp: Path
    key: Path
    kept: Path
    kept_seq: int
    export: Path
    redacted: Path
    denied: Path
    approved: Path
    users: Path


@pytest.fixture
def record(cli: Cli) -> Record:
    tmp = cli.tmp
    request = cli.file("atacms.json", ATACMS)
    denied = cli.json("cases", "submit", request, "--as", "ua.liaison")
    cli("cases", "deny", str(denied["number"]), "--as", "secdef", "--reason", DENIAL)
    kept = tmp / "kept.json"
    cli("audit", "checkpoint", "--out", str(kept))
    cli("users", "access", "ua.liaison", "--role", "requester", "--clearance", "SECRET")
    cli("users", "access", "secdef", "--role", "reviewer", "--clearance", "SECRET")
    cli("users", "access", "usdp", "--role", "auditor", "--clearance", "CONFIDENTIAL")
    secret = cli.json(
        "cases", "submit", request, "--as", "ua.liaison", "--classification", "SECRET"
    )
    cli("cases", "approve", str(secret["number"]), "--as", "secdef", "--reason", "Within limits")
    key = tmp / "system.pub"
    key.write_text(cli("audit", "public-key").stdout, encoding="utf-8")
    export, redacted = tmp / "export.jsonl", tmp / "redacted.jsonl"
    cli("audit", "export", "--out", str(export))
    cli("audit", "export", "--as", "usdp", "--out", str(redacted))
    files = {}
    for name, args in {
        "denied": ("cases", "show", str(denied["number"]), "--json"),
        "approved": ("cases", "show", str(secret["number"]), "--json"),
        "users": ("users", "list", "--json"),
    }.items():
        files[name] = tmp / f"{name}.json"
        files[name].write_text(cli(*args).stdout, encoding="utf-8")
    return Record(
        cli,
        tmp,
        key,
        kept,
        json.loads(kept.read_text(encoding="utf-8"))["seq"],
        export,
        redacted,
        files["denied"],
        files["approved"],
        files["users"],
    )


# --- running both verifiers -----------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    ok: bool
    problems: list[str]
    clearance_ok: bool
    clearance_report: Any


def _outside(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFY), *args], capture_output=True, text=True, timeout=120
    )


def _report(run_stdout: str) -> Any:
    try:
        return json.loads(run_stdout)
    except ValueError:
        return run_stdout


def check_export(
    record: Record,
    path: Path,
    *,
    kept: tuple[Path, ...] = (),
    key: Path | None = None,
    all_seals: bool = False,
) -> Verdict:
    """Our verifier and ``clearance audit verify --file`` on one export."""
    key = key or record.key
    checkpoints = [a for p in kept for a in ("--checkpoint", str(p))]
    ours = _outside("export", str(path), "--system-key", str(key), *checkpoints)
    assert ours.returncode in (0, 1), ours.stdout + ours.stderr
    theirs = record.cli(
        "audit",
        "verify",
        "--file",
        str(path),
        "--public-key",
        str(key),
        "--json",
        *checkpoints,
        *(["--all-seals"] if all_seals else []),
        ok=False,
    )
    return Verdict(
        ours.returncode == 0,
        ours.stdout.splitlines(),
        theirs.returncode == 0,
        _report(theirs.stdout) or theirs.stderr,
    )


def check_case(
    record: Record, path: Path, *, users: Path | None = None, key: Path | None = None
) -> Verdict:
    """Our verifier and ``clearance verify-decision`` on one case file."""
    users, key = users or record.users, key or record.key
    ours = _outside("case", str(path), "--system-key", str(key), "--keys", str(users))
    assert ours.returncode in (0, 1), ours.stdout + ours.stderr
    theirs = record.cli(
        "verify-decision",
        str(path),
        "--keys",
        str(users),
        "--system-key",
        str(key),
        "--json",
        ok=False,
    )
    return Verdict(
        ours.returncode == 0,
        ours.stdout.splitlines(),
        theirs.returncode == 0,
        _report(theirs.stdout) or theirs.stderr,
    )


# --- reading and changing files -------------------------------------------------


def read_lines(path: Path) -> list[Line]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def write_lines(record: Record, name: str, lines: list[Line]) -> Path:
    path = record.tmp / f"{name}.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def write_json(record: Record, name: str, data: Any) -> Path:
    path = record.tmp / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def is_event(line: Line) -> bool:
    return "seq" in line and "format" not in line


def without_checkpoints(lines: list[Line]) -> list[Line]:
    return [x for x in lines if "checkpoint" not in x]


def index_of(lines: list[Line], seq: int) -> int:
    return next(i for i, x in enumerate(lines) if is_event(x) and x["seq"] == seq)


def first_of_type(lines: list[Line], kind: str) -> int:
    return next(i for i, x in enumerate(lines) if is_event(x) and x.get("type") == kind)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def link_hash(line: Line) -> str:
    """The scheme 2 link hash of a line, as docs/verifying.md states it."""
    body_hash = line.get("body_hash") or sha256(line["body"].encode("utf-8"))
    text = "\x1f".join(["clearance-ledger/2", str(line["seq"]), line["prev_hash"], body_hash])
    return sha256(text.encode("ascii"))


def flipped(signature: str) -> str:
    raw = bytearray(base64.b64decode(signature))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode("ascii")


def other_key(record: Record) -> Path:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    path = record.tmp / "other.pub"
    path.write_text(base64.b64encode(raw).decode("ascii") + "\n", encoding="utf-8")
    return path


def assert_fails_at(verdict: Verdict, place: str, what: str) -> None:
    assert not verdict.ok, f"{what}: our verifier passed it"
    assert any(place in p for p in verdict.problems), (
        f"{what}: no problem names {place!r}: {verdict.problems}"
    )
    assert not verdict.clearance_ok, f"{what}: clearance passed it: {verdict.clearance_report}"


# --- the tests -----------------------------------------------------------------------


def test_the_verifier_uses_only_the_standard_library_and_cryptography() -> None:
    """Nothing of clearance, nothing relative: what another language would have too."""
    tree = ast.parse(VERIFY.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            imported.add("." if node.level or node.module is None else node.module.split(".")[0])
    assert "cryptography" in imported
    assert imported - {"cryptography"} <= sys.stdlib_module_names, imported


def test_the_genuine_record_passes(record: Record) -> None:
    redacted = read_lines(record.redacted)
    assert redacted[0]["redacted_above"] == "CONFIDENTIAL"
    hidden = [x for x in redacted if x.get("redacted")]
    assert hidden, "the SECRET case's events are redacted for a reader cleared CONFIDENTIAL"
    assert all("body" not in x and x["body_hash"].startswith("sha256:") for x in hidden)
    approved = json.loads(record.approved.read_text(encoding="utf-8"))
    assert approved["classification"] == "SECRET"
    assert approved["state"] == "approved"
    denied = json.loads(record.denied.read_text(encoding="utf-8"))
    assert denied["state"] == "denied"
    assert [a["verdict"] for a in denied["approvals"]] == ["deny"]

    for path in (record.export, record.redacted):
        for kept in ((), (record.kept,)):
            verdict = check_export(record, path, kept=kept)
            assert verdict.ok, (path.name, verdict.problems)
            assert verdict.clearance_ok, verdict.clearance_report
            assert verdict.problems == ["ok"]
    for path in (record.denied, record.approved):
        verdict = check_case(record, path)
        assert verdict.ok, (path.name, verdict.problems)
        assert verdict.clearance_ok, verdict.clearance_report


def test_every_tampered_export_fails_where_it_was_changed(record: Record) -> None:
    full = read_lines(record.export)
    events = [x for x in full if is_event(x)]
    last = events[-1]["seq"]
    own = max(i for i, x in enumerate(full) if "checkpoint" in x)  # the export's own, signed last
    own_place = f"checkpoint (export line {own + 1})"
    denial = first_of_type(full, "approval_denied")
    denial_seq = full[denial]["seq"]

    def edit_body(lines: list[Line]) -> None:
        lines[denial]["body"] = lines[denial]["body"].replace(DENIAL, "Approved.")

    def delete(lines: list[Line]) -> None:
        del lines[index_of(lines, 5)]

    def swap(lines: list[Line]) -> None:
        a, b = index_of(lines, 5), index_of(lines, 6)
        lines[a], lines[b] = lines[b], lines[a]

    def rehash_after_edit(lines: list[Line]) -> None:
        edit_body(lines)
        lines[denial]["hash"] = link_hash(lines[denial])

    def append_forged(lines: list[Line]) -> None:
        before = lines[-1]
        body = {
            "actor": "secdef",
            "at": "2026-12-31T00:00:00+00:00",
            "case_id": None,
            "payload": {"authority": "us.secdef", "from": "2026-12-31", "to": None, "user": "usdp"},
            "type": "holding_granted",
        }
        forged = {
            "seq": before["seq"] + 1,
            "type": "holding_granted",
            "case_id": None,
            "prev_hash": before["hash"],
            "body": json.dumps(body, sort_keys=True, separators=(",", ":")),
            "scheme": 2,
            "seal": before["seal"],  # a real seal, over another event
        }
        forged["hash"] = link_hash(forged)
        lines.append(forged)

    def export_checkpoint_head(lines: list[Line]) -> None:
        lines[own]["checkpoint"]["head"] = events[2]["hash"]

    def export_checkpoint_signature(lines: list[Line]) -> None:
        checkpoint = lines[own]["checkpoint"]
        checkpoint["signature"] = flipped(checkpoint["signature"])

    cases: list[tuple[str, Callable[[list[Line]], None], str]] = [
        ("an event body edited", edit_body, f"event {denial_seq} ("),
        ("an event deleted", delete, "(expected 5)"),
        ("two events swapped", swap, "event 6 (line"),
        ("an event's hash recomputed after an edit", rehash_after_edit, f"event {denial_seq} ("),
        ("a forged event appended", append_forged, f"event {last + 1} ("),
        (
            "the export's checkpoint's head changed",
            export_checkpoint_head,
            own_place,
        ),
        (
            "the export's checkpoint's signature changed",
            export_checkpoint_signature,
            own_place,
        ),
    ]
    for what, change, place in cases:
        lines = copy.deepcopy(full)
        change(lines)
        path = write_lines(record, what.replace(" ", "-").replace("'", ""), lines)
        verdict = check_export(record, path)
        assert_fails_at(verdict, place, what)
        if change is rehash_after_edit:
            assert any("seal" in p for p in verdict.problems if place in p), verdict.problems

    # A recomputed hash on the last event, after every checkpoint: only its seal shows it.
    lines = without_checkpoints(copy.deepcopy(full))
    lines[-1]["body"] = lines[-1]["body"].replace('"actor":"', '"actor":"x', 1)
    lines[-1]["hash"] = link_hash(lines[-1])
    verdict = check_export(record, write_lines(record, "last-resealed", lines))
    assert_fails_at(verdict, f"event {last} (", "the last event's hash recomputed")
    assert verdict.problems == [
        f"event {last} (line {len(lines)}): seal does not verify under the system public key"
    ]

    # Cut short: caught by a checkpoint the auditor kept, and by the export's own.
    cut = [x for x in without_checkpoints(full) if not is_event(x) or x["seq"] < record.kept_seq]
    verdict = check_export(record, write_lines(record, "cut-kept", cut), kept=(record.kept,))
    assert_fails_at(verdict, f"checkpoint {record.kept}", "cut short before a kept checkpoint")
    assert any(f"no event {record.kept_seq}" in p for p in verdict.problems)
    cut = [x for x in full if not is_event(x) or x["seq"] < last]
    verdict = check_export(record, write_lines(record, "cut-own", cut))
    assert_fails_at(verdict, own_place, "cut short before its own checkpoint")
    assert any(f"no event {last}" in p for p in verdict.problems)

    # A kept checkpoint changed: its head, its signature.
    kept = json.loads(record.kept.read_text(encoding="utf-8"))
    for what, changes in {
        "head": {"head": events[2]["hash"]},
        "signature": {"signature": flipped(kept["signature"])},
    }.items():
        changed = write_json(record, f"kept-{what}", {**kept, **changes})
        verdict = check_export(record, record.export, kept=(changed,))
        assert_fails_at(verdict, f"checkpoint {changed}", f"the kept checkpoint's {what} changed")

    # Another installation's key.
    verdict = check_export(record, record.export, key=other_key(record))
    assert_fails_at(verdict, "system_public_key", "a different system key")


def test_a_tampered_redacted_export_fails(record: Record) -> None:
    lines = read_lines(record.redacted)
    index = next(i for i, x in enumerate(lines) if x.get("redacted"))
    seq = lines[index]["seq"]
    lines[index]["body_hash"] = sha256(b"another body")
    verdict = check_export(record, write_lines(record, "redacted-body-hash", lines))
    assert_fails_at(verdict, f"event {seq} (", "a redacted line's body_hash changed")
    assert any("body_hash" in p for p in verdict.problems)

    lines[index]["hash"] = link_hash(lines[index])  # and its hash made to fit: the seal shows it
    verdict = check_export(record, write_lines(record, "redacted-rehashed", lines))
    assert_fails_at(verdict, f"event {seq} (", "a redacted line's body_hash and hash changed")


def test_an_event_the_reader_may_see_redacted_by_whoever_carries_the_file_fails(
    record: Record,
) -> None:
    lines = read_lines(record.redacted)
    index = next(i for i, x in enumerate(lines) if "body" in x and x.get("case_id"))
    line = lines[index]
    lines[index] = {
        "seq": line["seq"],
        "redacted": True,
        "prev_hash": line["prev_hash"],
        "hash": line["hash"],
        "scheme": line["scheme"],
        "seal": line["seal"],
        "body_hash": sha256(line["body"].encode("utf-8")),
    }
    verdict = check_export(record, write_lines(record, "one-more-redacted", lines))
    assert not verdict.ok
    assert not verdict.clearance_ok
    assert any("redacted events are not those the system signed" in p for p in verdict.problems)


def test_every_tampered_case_file_fails_where_it_was_changed(record: Record) -> None:
    denied = json.loads(record.denied.read_text(encoding="utf-8"))
    approved = json.loads(record.approved.read_text(encoding="utf-8"))

    def quantity(case: dict[str, Any]) -> None:
        case["request"]["quantity"] = 20

    def quantity_everywhere(case: dict[str, Any]) -> None:
        for request in (case["request"], case["decision"]["request"]):
            request["quantity"] = 20
        digest = sha256(json.dumps(case["request"], sort_keys=True, separators=(",", ":")).encode())
        case["request_digest"] = case["decision"]["request_digest"] = digest

    def approve_instead(case: dict[str, Any]) -> None:
        case["approvals"] = []
        case["events"] = [e for e in case["events"] if e["type"] != "approval_denied"]
        case["state"] = "approved"

    def approve_leaving_no_trace(case: dict[str, Any]) -> None:
        approve_instead(case)
        case["events"] = [e for e in case["events"] if e["type"] == "case_submitted"]

    def declassify(case: dict[str, Any]) -> None:
        case["classification"] = (
            "UNCLASSIFIED" if case["classification"] != "UNCLASSIFIED" else "SECRET"
        )

    def submitter(case: dict[str, Any]) -> None:
        case["submitted_by"] = "usdp"

    def reason(case: dict[str, Any]) -> None:
        case["approvals"][0]["reason"] = "Fine by me."

    cases: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], None], str]] = [
        ("the quantity changed", denied, quantity, "request_digest"),
        ("the quantity and its digests changed", denied, quantity_everywhere, "request_digest"),
        ("the quantity of an approved case changed", approved, quantity, "request_digest"),
        ("the denial dropped, the state approved", denied, approve_instead, "state"),
        ("every answer and state change dropped", denied, approve_leaving_no_trace, "state"),
        ("the classification changed", denied, declassify, "classification"),
        ("a SECRET case declassified", approved, declassify, "classification"),
        ("the submitter changed", denied, submitter, "submitted_by"),
        ("an answer's reason changed", denied, reason, "reason"),
    ]
    for what, original, change, place in cases:
        case = copy.deepcopy(original)
        change(case)
        verdict = check_case(record, write_json(record, what.replace(" ", "-"), case))
        assert_fails_at(verdict, place, what)

    # The keys: a signer who did not hold the office that day, another system key.
    users = json.loads(record.users.read_text(encoding="utf-8"))
    no_office = write_json(record, "no-office", [{**u, "holdings": []} for u in users])
    verdict = check_case(record, record.denied, users=no_office)
    assert_fails_at(verdict, "did not hold us.secdef", "the office not held")
    verdict = check_case(record, record.denied, key=other_key(record))
    assert_fails_at(verdict, "seal does not verify", "a different system key")
    assert all("seal does not verify" in p for p in verdict.problems), verdict.problems


def test_an_export_cut_after_the_last_checkpoint_kept_passes(record: Record) -> None:
    """What the page says of checkpoints, and no more: an export cut after the last
    checkpoint the auditor holds, its own checkpoints removed, cannot be told from one
    written then. Both verifiers pass it; keep a checkpoint after every export."""
    lines = read_lines(record.export)
    cut = [x for x in without_checkpoints(lines) if not is_event(x) or x["seq"] <= record.kept_seq]
    assert len(cut) < len(without_checkpoints(lines))
    verdict = check_export(record, write_lines(record, "cut-after-kept", cut), kept=(record.kept,))
    assert verdict.ok, verdict.problems
    assert verdict.clearance_ok, verdict.clearance_report


def test_a_changed_seal_before_a_checkpoint(record: Record) -> None:
    """The page lets a verifier skip the seals a checkpoint vouches for, and ours checks
    them all: it agrees with ``audit verify --all-seals``, not with the default."""
    lines = read_lines(record.export)
    index = index_of(lines, 3)
    lines[index]["seal"] = flipped(lines[index]["seal"])
    path = write_lines(record, "seal-before-checkpoint", lines)
    verdict = check_export(record, path, all_seals=True)
    assert_fails_at(verdict, "event 3 (", "a seal changed before a checkpoint")
    assert check_export(record, path).clearance_ok, "the default checks seals after checkpoints"


def _copies_changed(record: Record) -> Path:
    """A case file whose events' readable copies (beside the sealed body) say 'approved'."""
    case = json.loads(record.denied.read_text(encoding="utf-8"))
    for event in case["events"]:
        if event["type"] == "case_state_changed" and event["payload"]["to"] == "denied":
            event["payload"]["to"] = "approved"
        if event["type"] == "approval_denied":
            event["type"] = "approval_given"
            event["payload"]["statement"]["verdict"] = "approve"
    return write_json(record, "copies-changed", case)


def test_changed_copies_beside_an_events_body_fail_our_verifier(record: Record) -> None:
    verdict = check_case(record, _copies_changed(record))
    assert not verdict.ok
    assert any("type beside the body" in p for p in verdict.problems), verdict.problems
    assert any("payload beside the body" in p for p in verdict.problems), verdict.problems


def test_changed_copies_beside_an_events_body_fail_verify_decision(record: Record) -> None:
    verdict = check_case(record, _copies_changed(record))
    assert not verdict.clearance_ok


def test_a_suspended_case_and_its_resumption_pass_both_verifiers(record: Record) -> None:
    """A strike approved for April 2025, executed today under the review mechanism: the case
    file of the suspended case, and of the case once us.secdef approved and it was executed,
    pass our verifier and ``verify-decision`` alike (the decision is the suspension's)."""
    cli = record.cli
    april = cli.json(
        "cases", "submit", cli.file("april.json", {**ATACMS, "date": "2025-04-10"}),
        "--as", "ua.liaison",
    )  # fmt: skip
    number = str(april["number"])
    assert cli("cases", "execute", number, "--as", "ua.liaison", ok=False).returncode == 2
    files = {}
    for name in ("suspended", "executed"):
        if name == "executed":
            cli("cases", "approve", number, "--as", "secdef", "--reason", "Reviewed")
            cli("cases", "execute", number, "--as", "ua.liaison")
        files[name] = record.tmp / f"{name}.json"
        files[name].write_text(cli("cases", "show", number, "--json").stdout, encoding="utf-8")
        assert json.loads(files[name].read_text(encoding="utf-8"))["state"] == name
    users = record.tmp / "users-now.json"
    users.write_text(cli("users", "list", "--json").stdout, encoding="utf-8")
    for path in files.values():
        verdict = check_case(record, path, users=users)
        assert verdict.ok, (path.name, verdict.problems)
        assert verdict.clearance_ok, verdict.clearance_report
