"""The rules of checking signed answers and waivers offline (``service.signed_answers``),
stated on ``check_signatures`` and ``check_waivers`` over the denied and the waived case
files of ``tests/test_decision_proof_rules.py``, each forged in one place.

A forged statement is signed again with its signer's own key, so that each check is seen
alone: what the signature covers must still match the case, the record and the ledger.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from clearance.core.signing import signed_bytes
from clearance.service.signed_answers import (
    SignatureCheck,
    check_signatures,
    check_waivers,
    digest_of,
    figures_withheld,
    statement_about,
    text_of,
)
from clearance.store.records import CaseRecord

from .small_worlds import keys, small_world
from .test_decision_proof_rules import DAY, denied, waived
from .worlds import G2, T0

MISSING = "the signed statement is missing or not a JSON object"
NOT_SIGNED = "signature does not verify against the actor's public key"
NOT_WHERE_RECORDED = "the signed point of the ledger is not where the answer is recorded"
WAIVER_MISSING = "the signed waiver is missing or not a JSON object"
WAIVER_NOT_WHERE_RECORDED = "the signed point of the ledger is not where the waiver is recorded"


def _statement(case: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = json.loads(case["approvals"][0]["statement"])
    return statement


def _resign(case: dict[str, Any], statement: dict[str, Any], signer: str = "hegseth") -> None:
    """The answer's statement replaced by ``statement``, signed by ``signer``'s key."""
    text = signed_bytes(statement)
    answer = case["approvals"][0]
    answer["statement"] = text.decode("utf-8")
    answer["signature"] = keys()[signer][1](text)


def _answer_problems(case: dict[str, Any], users: dict[str, Any] | None) -> list[list[str]]:
    return [list(c.problems) for c in check_signatures(case, users)]


def _waiver_event(case: dict[str, Any]) -> dict[str, Any]:
    [event] = [e for e in case["events"] if e["type"] == "waiting_period_waived"]
    return event


def _waiver(case: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(_waiver_event(case)["body"])
    statement: dict[str, Any] = body["payload"]["statement"]
    return statement


def _rewaive(case: dict[str, Any], statement: dict[str, Any]) -> None:
    """The waiver's sealed body carrying ``statement``, signed by the President's key."""
    event = _waiver_event(case)
    body = json.loads(event["body"])
    body["payload"]["statement"] = statement
    body["payload"]["signature"] = keys()["austin"][1](signed_bytes(statement))
    event["body"] = json.dumps(body)


def _waiver_problems(case: dict[str, Any], users: dict[str, Any] | None) -> list[list[str]]:
    return [list(c.problems) for c in check_waivers(case, users)]


# The answer ----------------------------------------------------------------------------


def test_an_untouched_answer_is_one_valid_check_of_its_office_actor_and_verdict() -> None:
    """With the registry and without it."""
    case, users, _ = denied()
    expected = [SignatureCheck("us.secdef", "hegseth", "deny", ())]
    assert check_signatures(case, users) == expected
    assert check_signatures(case, None) == expected
    assert expected[0].valid
    assert expected[0].as_dict() == {
        "authority": "us.secdef",
        "actor": "hegseth",
        "verdict": "deny",
        "valid": True,
        "problems": [],
    }


def test_a_check_with_a_problem_is_not_valid() -> None:
    """Any problem makes the check invalid, and is listed."""
    check = SignatureCheck("us.secdef", "hegseth", "deny", (NOT_SIGNED,))
    assert not check.valid
    assert check.as_dict()["problems"] == [NOT_SIGNED]
    assert check.as_dict()["valid"] is False


@pytest.mark.parametrize(
    "statement",
    [None, 5, "not JSON", "[1, 2]", '"text"', "[" * 100_000 + "]" * 100_000],
    ids=["null", "a number", "not JSON", "a list", "a string", "too deep"],
)
def test_an_answer_whose_statement_is_not_a_json_object_is_one_problem(statement: Any) -> None:
    """Named by the record's own office, actor and verdict."""
    case, users, _ = denied()
    case["approvals"][0]["statement"] = statement
    assert check_signatures(case, users) == [
        SignatureCheck("us.secdef", "hegseth", "deny", (MISSING,))
    ]


def test_an_answer_without_a_statement_or_names_is_one_problem_named_as_none() -> None:
    """Nothing of the record is taken as given."""
    case, users, _ = denied()
    case["approvals"] = [{}]
    assert check_signatures(case, users) == [SignatureCheck("None", "None", "None", (MISSING,))]


def test_answers_that_are_not_a_list_or_not_objects_are_not_checked() -> None:
    """No answer to check, no check."""
    case, users, _ = denied()
    case["approvals"] = "no"
    assert check_signatures(case, users) == []
    case["approvals"] = [5, "x", None]
    assert check_signatures(case, users) == []
    del case["approvals"]
    assert check_signatures(case, users) == []


def test_an_answer_signed_by_another_key_does_not_verify() -> None:
    """The registry's key, or without one the key beside the answer, is the one checked."""
    case, users, _ = denied()
    _resign(case, _statement(case), signer="austin")
    assert _answer_problems(case, users) == [[NOT_SIGNED]]
    assert _answer_problems(case, None) == [[NOT_SIGNED]]


def test_with_a_registry_the_key_beside_the_answer_is_not_the_one_checked() -> None:
    """A forger's key beside a forger's signature verifies only without the registry."""
    case, users, _ = denied()
    _resign(case, _statement(case), signer="austin")
    case["approvals"][0]["public_key"] = keys()["austin"][0]
    assert _answer_problems(case, None) == [[]]
    assert _answer_problems(case, users) == [[NOT_SIGNED]]


def test_an_answer_without_a_key_or_signature_does_not_verify() -> None:
    """No key beside it (no registry), a signer the registry lacks, a signature not text."""
    case, users, _ = denied()
    del case["approvals"][0]["public_key"]
    assert _answer_problems(case, None) == [[NOT_SIGNED]]
    case, users, _ = denied()
    users["hegseth"]["public_key"] = None
    assert _answer_problems(case, users) == [[NOT_SIGNED]]
    case, users, _ = denied()
    case["approvals"][0]["signature"] = 5
    assert _answer_problems(case, users) == [[NOT_SIGNED]]


def test_a_signer_the_registry_does_not_know_is_neither_signed_nor_held() -> None:
    """No key, no office."""
    case, users, _ = denied()
    del users["hegseth"]
    assert _answer_problems(case, users) == [
        [NOT_SIGNED, "hegseth did not hold us.secdef on 2025-06-16"]
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("case_id", "another case"),
        ("request_digest", "sha256:00"),
        ("decision_id", "another decision"),
        ("decision_digest", "sha256:00"),
        ("outcome", "permitted"),
        ("required_approvals", []),
        ("conditions", ["never"]),
        ("bundles", {"US": "sha256:00"}),
        ("classification", "SECRET"),
    ],
)
def test_each_fact_of_the_case_the_answer_signs_must_be_the_case_s(name: str, value: Any) -> None:
    """Signed and verifying, but about something else: named."""
    case, users, _ = denied()
    _resign(case, {**_statement(case), name: value})
    assert _answer_problems(case, users) == [[f"signed {name} does not match the case"]]


@pytest.mark.parametrize("name", ["outcome", "required_approvals", "conditions", "bundles"])
def test_a_statement_signed_before_it_covered_a_fact_is_not_checked_on_it(name: str) -> None:
    """An older statement lacks the fact: what it carries is checked, what it lacks is not."""
    case, users, _ = denied()
    statement = _statement(case)
    del statement[name]
    _resign(case, statement)
    assert _answer_problems(case, users) == [[]]


@pytest.mark.parametrize("name", ["case_id", "request_digest", "decision_id"])
def test_every_statement_carries_the_case_the_request_and_the_decision(name: str) -> None:
    """Missing, they do not match."""
    case, users, _ = denied()
    statement = _statement(case)
    del statement[name]
    _resign(case, statement)
    assert _answer_problems(case, users) == [[f"signed {name} does not match the case"]]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("verdict", "approve"),
        ("actor", "austin"),
        ("on_behalf_of", "austin"),
        ("reason", "Approved"),
        ("at", "2025-06-17T09:00:00+00:00"),
    ],
)
def test_each_word_of_the_record_must_be_the_signed_one(name: str, value: Any) -> None:
    """The record beside the statement says what was signed, or it is named."""
    case, _, _ = denied()
    case["approvals"][0][name] = value
    problems = _answer_problems(case, None)
    assert problems == [[f"signed {name} does not match the record"]]


def test_an_office_in_the_record_not_signed_is_named_with_the_signed_office() -> None:
    """The statement's office is the one checked against the decision."""
    case, _, _ = denied()
    case["approvals"][0]["authority"] = "us.president"
    [check] = check_signatures(case, None)
    assert (check.authority, check.problems) == (
        "us.secdef",
        ("signed authority does not match the record",),
    )


def test_an_answer_of_an_office_the_decision_did_not_require_is_named() -> None:
    """Signed, recorded, and held: still not an office this decision asked."""
    case, users, _ = denied()
    _resign(case, {**_statement(case), "authority": "us.president"})
    case["approvals"][0]["authority"] = "us.president"
    users["hegseth"]["holdings"].append({"authority": "us.president", "from": "2025-01-20"})
    assert check_signatures(case, users) == [
        SignatureCheck(
            "us.president", "hegseth", "deny", ("the decision did not require us.president",)
        )
    ]


@pytest.mark.parametrize(
    ("prior_seq", "prior_hash"),
    [(11, None), (9, None), (None, None), ("10", None), (10, "sha256:00"), (1000, None)],
    ids=["later", "earlier", "null", "text", "another hash", "past the end"],
)
def test_an_answer_is_signed_at_the_point_of_the_ledger_where_it_is_recorded(
    prior_seq: Any, prior_hash: str | None
) -> None:
    """The event after the signed one records the answer, over the signed hash."""
    case, users, _ = denied()
    statement = _statement(case)
    _resign(
        case,
        {**statement, "prior_seq": prior_seq, "prior_hash": prior_hash or statement["prior_hash"]},
    )
    assert _answer_problems(case, users) == [[NOT_WHERE_RECORDED]]


def test_a_statement_signed_before_it_named_the_ledger_point_is_not_checked_on_it() -> None:
    """No prior_seq, nothing to compare."""
    case, users, _ = denied()
    statement = _statement(case)
    del statement["prior_seq"], statement["prior_hash"]
    _resign(case, statement)
    assert _answer_problems(case, users) == [[]]


def _suspended(case: dict[str, Any]) -> dict[str, Any]:
    """The case as if a suspension had replaced its decision by another (its answer still
    signed over the first)."""
    first = case["decision"]
    second = {**first, "decision_id": "the second decision", "outcome": "prohibited"}
    case["decision"] = second
    case["events"].append(
        {"seq": 99, "type": "case_suspended", "payload": {"decision": second}},
    )
    return second


def test_an_answer_over_a_decision_a_suspension_replaced_is_checked_against_that_one() -> None:
    """The earlier decision, carried by its event, is the one the answer was signed over."""
    case, users, _ = denied()
    _suspended(case)
    assert _answer_problems(case, users) == [[]]


def test_an_answer_over_another_decision_is_checked_against_the_one_the_case_holds() -> None:
    """Without a suspension the case has had one decision, whatever its events say."""
    case, users, _ = denied()
    case["decision"] = {**case["decision"], "decision_id": "the second decision"}
    assert _answer_problems(case, users) == [
        [
            "signed decision_id does not match the case",
            "signed decision_digest does not match the case",
        ]
    ]


def test_an_answer_over_an_unknown_decision_of_a_suspended_case_is_checked_against_its_own() -> (
    None
):
    """A decision no deciding event carries is not looked up: the one held is the measure."""
    case, users, _ = denied()
    second = _suspended(case)
    _resign(case, {**_statement(case), "decision_id": "a third decision"})
    problems = _answer_problems(case, users)
    assert problems == [
        [
            "signed decision_id does not match the case",
            "signed decision_digest does not match the case",
            "signed outcome does not match the case",
        ]
    ]
    assert second["decision_id"] == "the second decision"


def test_only_the_deciding_events_of_a_suspended_case_carry_its_decisions() -> None:
    """A decision carried by another event, or not as an object, is not one the case had."""
    case, users, _ = denied()
    _suspended(case)
    for event in case["events"]:
        if event.get("type") == "case_submitted":
            event["type"] = "case_state_changed"
    case["events"].append({"type": "case_submitted", "payload": "not an object"})
    case["events"].append({"type": "case_submitted", "payload": {"decision": "not one"}})
    case["events"].append("not an event")
    assert _answer_problems(case, users) == [
        [
            "signed decision_id does not match the case",
            "signed decision_digest does not match the case",
            "signed outcome does not match the case",
        ]
    ]


def test_a_file_without_its_figures_does_not_check_the_signed_decision_digest() -> None:
    """The decision shown is not the one signed over; the rest of it still is."""
    case, users, _ = denied()
    case["decision"]["stockpile"] = {"figures_withheld": True}
    assert _answer_problems(case, users) == [[]]
    case["decision"]["outcome"] = "permitted"
    assert _answer_problems(case, users) == [["signed outcome does not match the case"]]


def test_a_file_with_its_figures_checks_the_signed_decision_digest() -> None:
    """Only a file that says it withholds the figures, as true, is spared that check."""
    case, users, _ = denied()
    case["decision"]["stockpile"] = {"figures_withheld": "yes"}
    assert _answer_problems(case, users) == [["signed decision_digest does not match the case"]]


# The office held -----------------------------------------------------------------------


def _holding(users: dict[str, Any], **term: Any) -> None:
    users["hegseth"]["holdings"] = [{"authority": "us.secdef", **term}]


@pytest.mark.parametrize(
    "term",
    [
        {"from": "2025-06-16", "to": "2025-06-16"},
        {"from": "2025-06-16", "to": None},
        {"from": "2025-06-16"},
        {"from": "2025-01-25", "to": "2025-06-16"},
    ],
    ids=["that day alone", "open from that day", "no end written", "ending that day"],
)
def test_an_office_held_on_the_day_signed_is_held(term: dict[str, Any]) -> None:
    """Both ends of a term are in it; a term without an end is open."""
    case, users, _ = denied()
    _holding(users, **term)
    assert _answer_problems(case, users) == [[]]


@pytest.mark.parametrize(
    "holdings",
    [
        [{"authority": "us.secdef", "from": "2025-06-17", "to": None}],
        [{"authority": "us.secdef", "from": "2025-01-25", "to": "2025-06-15"}],
        [{"authority": "us.president", "from": "2025-01-25", "to": None}],
        [{"authority": "us.secdef", "from": "25 January 2025", "to": None}],
        [{"authority": "us.secdef", "from": None, "to": None}],
        [{"authority": "us.secdef", "from": "2025-01-25", "to": "someday"}],
        [{"authority": "us.secdef", "from": "2025-01-25", "to": 5}],
        ["us.secdef"],
        [],
        "us.secdef",
        None,
    ],
    ids=[
        "from the next day",
        "until the day before",
        "another office",
        "from not a date",
        "from nothing",
        "to not a date",
        "to not text",
        "not a term",
        "none",
        "not a list",
        "null",
    ],
)
def test_an_office_not_held_on_the_day_signed_is_named(holdings: Any) -> None:
    """Outside every term of that office, or in a term that is not one: named, with the day."""
    case, users, _ = denied()
    users["hegseth"]["holdings"] = holdings
    assert _answer_problems(case, users) == [["hegseth did not hold us.secdef on 2025-06-16"]]


def test_an_office_held_in_a_later_term_of_several_is_held() -> None:
    """Every term is looked at, not only the first of that office."""
    case, users, _ = denied()
    users["hegseth"]["holdings"] = [
        "not a term",
        {"authority": "us.president", "from": "2025-01-25", "to": None},
        {"authority": "us.secdef", "from": "2024-01-01", "to": "2024-12-31"},
        {"authority": "us.secdef", "from": "2025-06-01", "to": None},
    ]
    assert _answer_problems(case, users) == [[]]


def test_a_day_signed_that_is_not_a_date_holds_nothing() -> None:
    """The day is the first ten characters of the signed time; not a date, no office."""
    case, users, _ = denied()
    statement = {**_statement(case), "at": "16 June 2025"}
    _resign(case, statement)
    case["approvals"][0]["at"] = "16 June 2025"
    assert _answer_problems(case, users) == [["hegseth did not hold us.secdef on 16 June 20"]]


def test_an_answer_for_another_holder_needs_that_holder_s_office() -> None:
    """Answered on behalf of someone: their office on the day, not the signer's."""
    case, users, _ = denied()
    _resign(case, {**_statement(case), "on_behalf_of": "austin"})
    case["approvals"][0]["on_behalf_of"] = "austin"
    assert _answer_problems(case, users) == [["austin did not hold us.secdef on 2025-06-16"]]
    users["austin"]["holdings"] = [{"authority": "us.secdef", "from": "2025-01-25", "to": None}]
    assert _answer_problems(case, users) == [[]]


def test_without_a_registry_no_office_is_checked() -> None:
    """The file alone cannot say who held what."""
    case, _, _ = denied()
    assert _answer_problems(case, None) == [[]]


# The waiver ----------------------------------------------------------------------------


def test_an_untouched_waiver_is_one_valid_check_of_the_waiving_office() -> None:
    """With the registry and without it; answers are not waivers."""
    case, users, _ = waived()
    expected = [SignatureCheck("us.president", "potus", "waive", ())]
    assert check_waivers(case, users) == expected
    assert check_waivers(case, None) == expected
    assert check_signatures(case, users) == []
    assert check_waivers(denied()[0], None) == []


@pytest.mark.parametrize(
    "body",
    ["not JSON", "[1]", '{"payload": 5}', '{"payload": {"statement": "text"}}', None],
    ids=["not JSON", "a list", "payload not an object", "statement not an object", "no body"],
)
def test_a_waiver_without_a_signed_statement_is_one_problem(body: Any) -> None:
    """Named by the office the decision gives its waiver, and the event's actor."""
    case, users, _ = waived()
    _waiver_event(case)["body"] = body
    assert check_waivers(case, users) == [
        SignatureCheck("us.president", "potus", "waive", (WAIVER_MISSING,))
    ]


def test_a_waiver_nested_too_deep_is_one_problem() -> None:
    """A body that cannot be read is not a traceback."""
    case, users, _ = waived()
    _waiver_event(case)["body"] = "[" * 100_000 + "]" * 100_000
    assert _waiver_problems(case, users) == [[WAIVER_MISSING]]


def test_a_waiver_of_a_decision_without_a_period_names_none_as_its_office() -> None:
    """No period, no waiving office: the missing statement is named as None's."""
    case, users, _ = waived()
    case["decision"]["waiting_period"] = "none"
    _waiver_event(case)["body"] = "{}"
    assert check_waivers(case, users) == [
        SignatureCheck("None", "potus", "waive", (WAIVER_MISSING,))
    ]


def test_events_that_are_not_waivers_or_not_objects_are_not_checked() -> None:
    """Only ``waiting_period_waived`` events are waivers."""
    case, users, _ = waived()
    _waiver_event(case)["type"] = "case_state_changed"
    case["events"].append("not an event")
    assert check_waivers(case, users) == []
    case["events"] = None
    assert check_waivers(case, users) == []


def test_a_waiver_is_checked_on_its_sealed_body_not_the_copy_beside_it() -> None:
    """The payload written beside the body is not read."""
    case, users, _ = waived()
    _waiver_event(case)["payload"] = {"statement": "forged"}
    assert _waiver_problems(case, users) == [[]]


def test_a_waiver_signed_by_another_key_does_not_verify() -> None:
    """The signature covers the statement's signed bytes, under the signer's key."""
    case, users, _ = waived()
    statement = _waiver(case)
    _rewaive(case, statement)
    assert _waiver_problems(case, users) == [[]]
    event = _waiver_event(case)
    body = json.loads(event["body"])
    body["payload"]["signature"] = keys()["hegseth"][1](signed_bytes(statement))
    event["body"] = json.dumps(body)
    assert _waiver_problems(case, users) == [[NOT_SIGNED]]
    assert _waiver_problems(case, None) == [[NOT_SIGNED]]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("case_id", "another case"),
        ("request_digest", "sha256:00"),
        ("decision_id", "another decision"),
        ("decision_digest", "sha256:00"),
        ("outcome", "prohibited"),
        ("bundles", {"US": "sha256:00"}),
        ("classification", "SECRET"),
    ],
)
def test_each_fact_of_the_case_a_waiver_signs_must_be_the_case_s(name: str, value: Any) -> None:
    """Signed and verifying, but about something else: named."""
    case, users, _ = waived()
    _rewaive(case, {**_waiver(case), name: value})
    assert _waiver_problems(case, users) == [[f"signed {name} does not match the case"]]


def test_a_waiver_in_a_file_without_its_figures_does_not_check_the_decision_digest() -> None:
    """As for answers: the decision shown is not the one signed over."""
    case, users, _ = waived()
    case["decision"]["stockpile"]["figures_withheld"] = True
    assert _waiver_problems(case, users) == [[]]
    _rewaive(case, {**_waiver(case), "decision_digest": "sha256:00"})
    assert _waiver_problems(case, users) == [[]]


@pytest.mark.parametrize(("name", "value"), [("actor", "hegseth"), ("verdict", "approve")])
def test_a_waiver_signs_its_actor_and_the_verdict_waive(name: str, value: str) -> None:
    """Another signed actor or verdict is named."""
    case, users, _ = waived()
    _rewaive(case, {**_waiver(case), name: value})
    assert _waiver_problems(case, users) == [["signed actor or verdict does not match the record"]]


def test_a_waiver_recorded_under_another_actor_is_named() -> None:
    """The event's actor is the signer: their key, their office."""
    case, users, _ = waived()
    _waiver_event(case)["actor"] = "hegseth"
    assert check_waivers(case, users) == [
        SignatureCheck(
            "us.president",
            "hegseth",
            "waive",
            (
                NOT_SIGNED,
                "signed actor or verdict does not match the record",
                "hegseth did not hold us.president on 2025-09-02",
            ),
        )
    ]


def test_a_waiver_by_an_office_the_decision_does_not_name_is_named() -> None:
    """Signed and held, but not the waiving office."""
    case, users, _ = waived()
    _rewaive(case, {**_waiver(case), "authority": "us.secdef"})
    users["potus"]["holdings"].append({"authority": "us.secdef", "from": "2025-01-20"})
    assert check_waivers(case, users) == [
        SignatureCheck(
            "us.secdef",
            "potus",
            "waive",
            ("the decision does not name us.secdef to waive its waiting period",),
        )
    ]


def test_a_waiver_signs_the_decision_s_period() -> None:
    """Another period, or none, is named."""
    case, users, _ = waived()
    period = _waiver(case)["waiting_period"]
    _rewaive(case, {**_waiver(case), "waiting_period": {**period, "days": 1}})
    assert _waiver_problems(case, users) == [["signed waiting_period is not the decision's"]]


def test_a_waiver_of_a_decision_without_a_period_is_named() -> None:
    """No period to waive: none signed is none the decision has."""
    case, users, _ = waived()
    case["decision"]["waiting_period"] = None
    _rewaive(case, {**_waiver(case), "waiting_period": {}})
    assert _waiver_problems(case, users) == [
        [
            "signed decision_digest does not match the case",
            "the decision does not name us.president to waive its waiting period",
            "signed waiting_period is not the decision's",
        ]
    ]


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("prior_seq", 14),
        ("prior_seq", 16),
        ("prior_seq", None),
        ("prior_hash", "sha256:00"),
        ("seq", "16"),
        ("prev_hash", "sha256:00"),
    ],
)
def test_a_waiver_is_signed_at_the_point_of_the_ledger_where_it_is_recorded(
    change: str, value: Any
) -> None:
    """The signed point is the event before the waiver's, and its hash the waiver's
    prev_hash."""
    case, users, _ = waived()
    if change.startswith("prior"):
        _rewaive(case, {**_waiver(case), change: value})
    else:
        _waiver_event(case)[change] = value
    assert _waiver_problems(case, users) == [[WAIVER_NOT_WHERE_RECORDED]]


# The other public words ----------------------------------------------------------------


def test_a_value_s_digest_is_its_canonical_digest_or_none() -> None:
    """What cannot be written as canonical JSON has no digest."""
    assert digest_of({"b": 1, "a": [True, None]}) == digest_of({"a": [True, None], "b": 1})
    assert digest_of({"a": 1}) == (
        "sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
    )
    assert digest_of({1, 2}) is None
    assert digest_of(float("nan")) is None


def test_text_of_is_text_or_empty() -> None:
    """Anything but text reads as empty."""
    assert [text_of(v) for v in ("seal", 5, None, b"x")] == ["seal", "", "", ""]


@pytest.mark.parametrize(
    ("decision", "withheld"),
    [
        ({"stockpile": {"figures_withheld": True}}, True),
        ({"stockpile": {"figures_withheld": "true"}}, False),
        ({"stockpile": {"figures_withheld": False}}, False),
        ({"stockpile": {}}, False),
        ({"stockpile": ["figures_withheld"]}, False),
        ({"stockpile": None}, False),
        ("decision", False),
        (None, False),
    ],
)
def test_figures_are_withheld_only_when_the_decision_s_stock_says_so(
    decision: Any, withheld: bool
) -> None:
    """True itself, in the decision's stock figures."""
    assert figures_withheld({"decision": decision}) is withheld


@functools.cache
def _record() -> CaseRecord:
    """The denied case's record, before any answer."""
    with tempfile.TemporaryDirectory() as folder, small_world(Path(folder)) as world:
        case, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
        with world.store.transaction() as tx:
            record = tx.cases.get(case.id)
        assert record is not None
        return record


def test_a_statement_about_a_case_names_it_its_decision_the_signer_and_the_ledger_point() -> None:
    """The facts of the case, then what is said of it, then who and where."""
    record = _record()
    decision = record.decision
    statement = statement_about(
        record,
        actor="usdp",
        on_behalf_of="hegseth",
        now=DAY,
        prior=(10, "sha256:ab"),
        verdict="deny",
        actor_note="ignored",
    )
    assert statement == {
        "case_id": record.id,
        "request_digest": record.request_digest,
        "decision_id": decision.decision_id,
        "decision_digest": decision.digest,
        "outcome": "review_required",
        "bundles": dict(decision.bundles),
        "classification": "UNCLASSIFIED",
        "verdict": "deny",
        "actor_note": "ignored",
        "actor": "usdp",
        "on_behalf_of": "hegseth",
        "at": "2025-06-16T09:00:00+00:00",
        "prior_seq": 10,
        "prior_hash": "sha256:ab",
    }
    assert list(statement)[:7] == [
        "case_id",
        "request_digest",
        "decision_id",
        "decision_digest",
        "outcome",
        "bundles",
        "classification",
    ]


def test_each_answer_is_checked_past_one_that_is_not_an_object_or_not_signed() -> None:
    """A broken answer is named, or passed over, and the next one still checked."""
    case, users, _ = denied()
    answer = case["approvals"][0]
    case["approvals"] = [5, {**answer, "statement": "not JSON"}, answer]
    assert check_signatures(case, users) == [
        SignatureCheck("us.secdef", "hegseth", "deny", (MISSING,)),
        SignatureCheck("us.secdef", "hegseth", "deny", ()),
    ]


def test_an_answer_of_a_case_without_a_decision_is_checked_against_none() -> None:
    """Nothing in the statement matches a decision the file does not have."""
    case, users, _ = denied()
    case["decision"] = "not a decision"
    assert _answer_problems(case, users) == [
        [
            "signed decision_id does not match the case",
            "signed decision_digest does not match the case",
            "signed outcome does not match the case",
            "signed required_approvals does not match the case",
            "signed conditions does not match the case",
            "signed bundles does not match the case",
            "the decision did not require us.secdef",
        ]
    ]


def test_an_answer_whose_statement_is_not_valid_text_does_not_verify() -> None:
    """A lone surrogate in the statement (a file may escape one) is checked, not a crash."""
    case, users, _ = denied()
    answer = case["approvals"][0]
    answer["statement"] = answer["statement"].replace("Escalation risk", "\udcff")
    answer["reason"] = "\udcff"
    assert _answer_problems(case, users) == [[NOT_SIGNED]]


def test_a_statement_without_its_time_holds_no_office_on_no_day() -> None:
    """No signed time, no day: the office is not held, and the day is named as empty."""
    case, users, _ = denied()
    statement = _statement(case)
    del statement["at"]
    _resign(case, statement)
    del case["approvals"][0]["at"]
    assert _answer_problems(case, users) == [["hegseth did not hold us.secdef on "]]


def test_a_decision_replaced_by_a_suspension_is_found_past_other_events() -> None:
    """Every event of the file is looked at for the decisions the case had."""
    case, users, _ = denied()
    first = case["decision"]
    case["decision"] = {**first, "decision_id": "the second decision"}
    for event in case["events"]:
        if event.get("type") == "case_submitted":
            event["type"] = "case_state_changed"
    case["events"].append({"type": "case_suspended", "payload": {"decision": first}})
    assert _answer_problems(case, users) == [[]]


def test_each_waiver_is_checked_past_one_without_a_statement() -> None:
    """A broken waiver is named, and the next one still checked."""
    case, users, _ = waived()
    case["events"].insert(0, {"type": "waiting_period_waived", "actor": "potus", "body": "x"})
    assert check_waivers(case, users) == [
        SignatureCheck("us.president", "potus", "waive", (WAIVER_MISSING,)),
        SignatureCheck("us.president", "potus", "waive", ()),
    ]


def test_a_waiver_of_a_case_without_a_decision_names_everything_it_signed() -> None:
    """No decision, no period, no waiving office."""
    case, users, _ = waived()
    case["decision"] = "not a decision"
    assert _waiver_problems(case, users) == [
        [
            "signed decision_id does not match the case",
            "signed decision_digest does not match the case",
            "signed outcome does not match the case",
            "signed bundles does not match the case",
            "the decision does not name us.president to waive its waiting period",
            "signed waiting_period is not the decision's",
        ]
    ]
