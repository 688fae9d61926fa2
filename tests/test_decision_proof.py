"""``verify-decision`` binds everything a case file says: each forgery fails with a line naming
what does not match, through the command a user runs, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clearance.core.chain import link_hash
from clearance.core.signing import new_key_pair, unlock
from tests.cli_support import Cli

G2 = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}


@pytest.fixture
def denied(cli: Cli) -> tuple[dict[str, Any], str, str]:
    """The June 2025 strike denied by the Secretary: the case file, the users' keys, the
    system key, each as an auditor would take them."""
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    cli("cases", "deny", "1", "--as", "secdef", "--reason", "Escalation risk")
    case = cli.json("cases", "show", "1")
    keys = cli.file("keys.json", cli.json("users", "list"))
    system = cli("audit", "public-key").stdout.strip()
    return case, keys, system


def _check(cli: Cli, case: dict[str, Any], keys: str, system: str) -> tuple[int, dict[str, Any]]:
    result = cli(
        "verify-decision",
        cli.file("case.json", case),
        "--keys",
        keys,
        "--system-key",
        system,
        "--json",
        ok=False,
    )
    return result.returncode, json.loads(result.stdout)


def test_an_untouched_case_file_is_valid(cli: Cli, denied: tuple[dict[str, Any], str, str]) -> None:
    case, keys, system = denied
    code, report = _check(cli, case, keys, system)
    assert (code, report["valid"], report["problems"]) == (0, True, [])
    assert report["seals_checked"] is True
    assert report["events_checked"] == len(case["events"])
    words = cli("verify-decision", cli.file("c.json", case), "--keys", keys, "--system-key", system)
    assert "valid case 1" in words.stdout
    assert "valid deny by secdef for us.secdef" in words.stdout


def _set_request(field: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(case: dict[str, Any]) -> None:
        if field == "territory":
            case["request"]["target"]["territory"] = value
        else:
            case["request"][field] = value

    return change


def _drop_denial(case: dict[str, Any]) -> None:
    case["approvals"] = []
    case["state"] = "approved"
    case["events"] = [e for e in case["events"] if e["type"] not in ("approval_denied",)]


def _drop_denial_and_its_events(case: dict[str, Any]) -> None:
    _drop_denial(case)
    case["events"] = [e for e in case["events"] if e["payload"].get("to") != "denied"]


def _approve_in_statement(case: dict[str, Any]) -> None:
    answer = case["approvals"][0]
    answer["statement"] = answer["statement"].replace('"deny"', '"approve"')
    answer["verdict"] = "approve"
    case["state"] = "approved"


def _edit_event(case: dict[str, Any]) -> None:
    event = case["events"][0]
    event["body"] = event["body"].replace('"quantity":2', '"quantity":200')


def _edit_event_and_rehash(case: dict[str, Any]) -> None:
    _edit_event(case)
    event = case["events"][0]
    event["hash"] = link_hash(event["seq"], event["case_id"], event["prev_hash"], event["body"])


def _new_decision(case: dict[str, Any]) -> None:
    case["decision"]["required_approvals"] = []
    case["decision"]["outcome"] = "permitted"
    case["outcome"] = "permitted"
    case["state"] = "approved"
    case["approvals"] = []


FORGERIES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("quantity 2 to 200", _set_request("quantity", 200), "does not match its request_digest"),
    ("another system", _set_request("system", "storm-shadow"), "request_digest"),
    ("another territory", _set_request("territory", "UA"), "request_digest"),
    ("denial dropped, state approved", _drop_denial, "the state 'approved' does not follow"),
    ("denial and its events dropped", _drop_denial_and_its_events, "does not follow"),
    ("state alone", lambda c: c.update(state="approved"), "state is 'approved' in the file"),
    ("outcome", lambda c: c.update(outcome="permitted"), "outcome is 'permitted' in the file"),
    ("classification", lambda c: c.update(classification="SECRET"), "classification is"),
    ("decision rewritten", _new_decision, "the decision is not the one its events record"),
    ("statement turned into an approval", _approve_in_statement, "signature does not verify"),
    ("an event edited", _edit_event, "does not match its hash"),
    ("an event edited and rehashed", _edit_event_and_rehash, "not sealed by the system key"),
    (
        "the reason in the record",
        lambda c: c["approvals"][0].update(reason="Approved"),
        "signed reason does not match the record",
    ),
]


@pytest.mark.parametrize(("name", "forge", "named"), FORGERIES, ids=[f[0] for f in FORGERIES])
def test_each_forgery_of_a_case_file_fails_naming_what_does_not_match(
    cli: Cli,
    denied: tuple[dict[str, Any], str, str],
    name: str,
    forge: Callable[[dict[str, Any]], None],
    named: str,
) -> None:
    case, keys, system = denied
    forged = json.loads(json.dumps(case))
    forge(forged)
    code, report = _check(cli, forged, keys, system)
    assert code == 1, name
    assert report["valid"] is False, name
    said = report["problems"] + [p for s in report["signatures"] for p in s["problems"]]
    assert any(named in p for p in said), (name, said)


def test_a_file_sealed_under_another_key_is_not_valid(
    cli: Cli, denied: tuple[dict[str, Any], str, str], tmp_path: Path
) -> None:
    case, keys, _ = denied
    other = "A" * 43 + "="
    code, report = _check(cli, case, keys, other)
    assert code == 1
    assert any("not sealed by the system key" in p for p in report["problems"])


@pytest.mark.parametrize(
    "content",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"id": 1, "approvals": "no", "events": 7}',
        '{"id": "x", "approvals": [{"statement": 5}], "request": [], "decision": "d", "events": [1]}',
        "\udcff",
    ],
    ids=["deep nesting", "wrong types", "wrong types inside", "not UTF-8"],
)
def test_a_malformed_case_file_is_one_line_never_a_traceback(
    cli: Cli, denied: tuple[dict[str, Any], str, str], content: str
) -> None:
    _, keys, system = denied
    path = cli.tmp / "bad.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    result = cli("verify-decision", str(path), "--keys", keys, "--system-key", system, ok=False)
    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr + result.stdout
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1


def test_with_keys_given_an_answer_is_checked_against_them_not_the_key_the_file_carries(
    cli: Cli, denied: tuple[dict[str, Any], str, str]
) -> None:
    case, keys, system = denied
    forged = json.loads(json.dumps(case))
    _approve_in_statement(forged)
    answer = forged["approvals"][0]
    public, content = new_key_pair("the forger's passphrase")
    answer["signature"] = unlock(content, "the forger's passphrase")(
        answer["statement"].encode("utf-8")
    )
    answer["public_key"] = public  # the forger's key, beside the forged signature
    code, report = _check(cli, forged, keys, system)
    assert (code, report["valid"]) == (1, False)
    [signature] = report["signatures"]
    assert "signature does not verify against the actor's public key" in signature["problems"]


def _term_ending(keys: str, user: str, last: str) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = json.loads(Path(keys).read_text(encoding="utf-8"))
    for row in users:
        if row["id"] == user:
            row["holdings"] = [{**h, "to": last} for h in row["holdings"]]
    return users


def test_an_answer_given_on_the_last_day_of_the_office_term_verifies_offline(
    cli: Cli, denied: tuple[dict[str, Any], str, str]
) -> None:
    case, keys, system = denied
    [answer] = case["approvals"]
    day = dt.date.fromisoformat(answer["at"][:10])
    on_the_day = cli.file("last-day.json", _term_ending(keys, "secdef", day.isoformat()))
    code, report = _check(cli, case, on_the_day, system)
    assert (code, report["valid"], report["problems"]) == (0, True, [])
    before = (day - dt.timedelta(days=1)).isoformat()
    ended = cli.file("ended.json", _term_ending(keys, "secdef", before))
    code, report = _check(cli, case, ended, system)
    assert (code, report["valid"]) == (1, False)
    [signature] = report["signatures"]
    assert signature["problems"] == [f"secdef did not hold us.secdef on {day.isoformat()}"]
