"""The rules of checking a case file offline (``service.decision_proof``,
``service.signed_answers``), stated on ``prove`` over one denied case and its forgeries.

``tests/test_decision_proof.py`` runs the same forgeries through ``verify-decision``; here
the case file is made once per process through the service (the Secretary denies the June
2025 strike) and each forgery is checked in milliseconds, naming every problem exactly.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from clearance.core.actors import ADMIN
from clearance.service.decision_proof import prove
from clearance.service.people import registry

from .small_worlds import keys, small_world, system_key
from .test_decision_proof import FORGERIES
from .worlds import G2, G5, T0

DAY = T0 + dt.timedelta(days=1)


@functools.cache
def _denied() -> tuple[str, str, str]:
    """The case file, the users' keys (as JSON text) and the system key."""
    with tempfile.TemporaryDirectory() as folder, small_world(Path(folder)) as world:
        case, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
        world.cases.answer(
            case.id,
            actor="hegseth",
            approve=False,
            reason="Escalation risk",
            signer=keys()["hegseth"][1],
            now=DAY,
        )
        data = world.cases.view(case.id, actor=ADMIN).as_dict(DAY)
        users = {str(u["id"]): u for u in registry(world.store)}
        return json.dumps(data), json.dumps(users), system_key().public_key


def denied() -> tuple[dict[str, Any], dict[str, Any], str]:
    case, users, key = _denied()
    return json.loads(case), json.loads(users), key


REQUEST_CHANGED = [
    "the request does not match its request_digest (it was changed)",
    "the decision was made on another request than the file's",
]
STATE_NOT_IN_EVENTS = "state is 'approved' in the file, but its events say 'denied'"
ANSWERS_NOT_IN_EVENTS = "the answers in the file are not the ones its events record"
NO_SUBMISSION = "the file carries no case_submitted event: nothing vouches for the case"


def _not_following(expected: str) -> str:
    return (
        "the state 'approved' does not follow from the decision (review_required) and the"
        f" signed answers (expected one of {expected})"
    )


# Each forgery of tests/test_decision_proof.py: the file's problems, and the problems of
# each signed answer left in it.
NAMED: dict[str, tuple[list[str], list[list[str]]]] = {
    "quantity 2 to 200": (REQUEST_CHANGED, [["signed request_digest does not match the case"]]),
    "another system": (REQUEST_CHANGED, [["signed request_digest does not match the case"]]),
    "another territory": (REQUEST_CHANGED, [["signed request_digest does not match the case"]]),
    "denial dropped, state approved": (
        [STATE_NOT_IN_EVENTS, _not_following("expired, in_review, submitted, withdrawn")],
        [],
    ),
    "denial and its events dropped": (
        [
            "state is 'approved' in the file, but its events say 'in_review'",
            _not_following("expired, in_review, submitted, withdrawn"),
        ],
        [],
    ),
    "state alone": ([STATE_NOT_IN_EVENTS, _not_following("denied, withdrawn")], [[]]),
    "outcome": (["outcome is 'permitted' in the file, but its events say 'review_required'"], [[]]),
    "classification": (
        ["classification is 'SECRET' in the file, but its events say 'UNCLASSIFIED'"],
        [["signed classification does not match the case"]],
    ),
    "decision rewritten": (
        [
            STATE_NOT_IN_EVENTS,
            "outcome is 'permitted' in the file, but its events say 'review_required'",
            "the decision is not the one its events record",
            ANSWERS_NOT_IN_EVENTS,
        ],
        [],
    ),
    "statement turned into an approval": (
        [STATE_NOT_IN_EVENTS, ANSWERS_NOT_IN_EVENTS],
        [["signature does not verify against the actor's public key"]],
    ),
    "an event edited": (["event 9 does not match its hash", NO_SUBMISSION], [[]]),
    "an event edited and rehashed": (
        ["event 9 is not sealed by the system key", NO_SUBMISSION],
        [[]],
    ),
    "the reason in the record": (
        [ANSWERS_NOT_IN_EVENTS],
        [["signed reason does not match the record"]],
    ),
}


def test_an_untouched_case_file_is_valid() -> None:
    """No problem, every event checked against its seal, the answer's signature valid."""
    case, users, key = denied()
    assert prove(case, users, key).as_dict() == {
        "case": case["id"],
        "valid": True,
        "complete": True,
        "problems": [],
        "events_checked": 4,
        "seals_checked": True,
        "signatures": [
            {
                "authority": "us.secdef",
                "actor": "hegseth",
                "verdict": "deny",
                "valid": True,
                "problems": [],
            }
        ],
    }


def test_every_forgery_is_named_here() -> None:
    """The table below covers each forgery of the command's test."""
    assert sorted(NAMED) == sorted(f[0] for f in FORGERIES)


@pytest.mark.parametrize(("name", "forge", "named"), FORGERIES, ids=[f[0] for f in FORGERIES])
def test_each_forgery_of_a_case_file_is_named_exactly(name: str, forge: Any, named: str) -> None:
    """The file is invalid; each problem, of the file and of each answer, in its words."""
    case, users, key = denied()
    forge(case)
    proof = prove(case, users, key)
    problems, signatures = NAMED[name]
    assert not proof.valid
    assert list(proof.problems) == problems
    assert [list(s.problems) for s in proof.signatures] == signatures


def test_without_keys_an_answer_is_checked_against_the_key_the_file_carries() -> None:
    """No registry given: the file's own keys, and the answer still verifies."""
    case, _, key = denied()
    proof = prove(case, None, key)
    assert (proof.valid, proof.problems) == (True, ())


def test_without_a_system_key_the_seals_are_not_checked() -> None:
    """The file is checked, but nothing says its events were sealed."""
    case, users, _ = denied()
    proof = prove(case, users, None)
    assert (proof.valid, proof.sealed) == (True, False)


def test_a_file_naming_another_system_key_is_refused() -> None:
    """The key the file names must be the one its seals are checked against."""
    case, users, key = denied()
    case["system_public_key"] = "A" * 43 + "="
    assert prove(case, users, key).problems == (
        "the file names another system key than the one its seals were checked against",
    )


def test_a_file_sealed_under_another_key_is_named_at_its_first_event() -> None:
    """Every event's seal is checked against the key given."""
    case, users, _ = denied()
    proof = prove(case, users, "A" * 43 + "=")
    assert not proof.valid
    first = case["events"][0]["seq"]
    assert proof.problems[0] == (
        "the file names another system key than the one its seals were checked against"
    )
    assert f"event {first} is not sealed by the system key" in proof.problems


NOTIFIED = dt.datetime(2025, 8, 28, 15, 0, tzinfo=dt.UTC)
WAIVED = dt.datetime(2025, 9, 2, 9, 0, tzinfo=dt.UTC)


@functools.cache
def _waived() -> tuple[str, str, str]:
    """A $825 million sale whose congressional waiting period the President waived, signed:
    the case file, the users' keys (as JSON text) and the system key."""
    with tempfile.TemporaryDirectory() as folder, small_world(Path(folder)) as world:
        public, _ = keys()["austin"]
        world.people.add_user(
            user_id="potus", name="President", party="US", public_key=public, actor=ADMIN, now=T0
        )
        world.people.grant(
            user_id="potus",
            authority="us.president",
            valid_from=dt.date(2025, 1, 20),
            valid_to=None,
            actor=ADMIN,
            now=T0,
        )
        sale = {**G5, "quantity": 5, "value_usd": 825_000_000}
        case, _ = world.cases.submit(sale, actor="us.liaison", now=NOTIFIED)
        world.cases.condition_met(
            case.id,
            actor="us.liaison",
            condition="European partners fund the purchase",
            evidence="paid",
            now=NOTIFIED,
        )
        world.cases.waive(
            case.id,
            actor="potus",
            reason="Air defence emergency",
            signer=keys()["austin"][1],
            now=WAIVED,
        )
        data = world.cases.view(case.id, actor=ADMIN).as_dict(WAIVED)
        users = {str(u["id"]): u for u in registry(world.store)}
        return json.dumps(data), json.dumps(users), system_key().public_key


def waived() -> tuple[dict[str, Any], dict[str, Any], str]:
    case, users, key = _waived()
    return json.loads(case), json.loads(users), key


def waiver_problems(
    case: dict[str, Any], users: dict[str, Any] | None, key: str
) -> list[list[str]]:
    return [list(s.problems) for s in prove(case, users, key).signatures]


def test_a_waived_waiting_period_is_a_valid_signature_of_the_waiving_office() -> None:
    """The President's waiver verifies: his office, his verdict, no problem."""
    case, users, key = waived()
    proof = prove(case, users, key)
    assert proof.problems == ()
    assert [(s.authority, s.actor, s.verdict, s.problems) for s in proof.signatures] == [
        ("us.president", "potus", "waive", ())
    ]


def test_a_waiver_by_someone_whose_term_had_ended_is_named() -> None:
    """With the registry, the office must be held on the day of the waiver."""
    case, users, key = waived()
    users["potus"]["holdings"] = [{**h, "to": "2025-09-01"} for h in users["potus"]["holdings"]]
    assert waiver_problems(case, users, key) == [["potus did not hold us.president on 2025-09-02"]]


def test_a_waiver_checked_against_another_key_does_not_verify() -> None:
    """The registry's key is the one the waiver is checked against."""
    case, users, key = waived()
    users["potus"]["public_key"] = users["hegseth"]["public_key"]
    assert waiver_problems(case, users, key) == [
        ["signature does not verify against the actor's public key"]
    ]


def test_a_waiver_by_someone_the_registry_does_not_know_is_neither_signed_nor_held() -> None:
    """A signer missing from the registry has no key and held no office."""
    case, users, key = waived()
    del users["potus"]
    assert waiver_problems(case, users, key) == [
        [
            "signature does not verify against the actor's public key",
            "potus did not hold us.president on 2025-09-02",
        ]
    ]


def test_a_waiver_of_a_period_the_decision_does_not_give_that_office_is_named() -> None:
    """A decision rewritten to name another office as the waiver: the signed waiver is not
    about this decision, its office is not the one named, nor its period the decision's."""
    case, users, key = waived()
    case["decision"]["waiting_period"]["waiver"] = "us.secdef"
    assert waiver_problems(case, users, key) == [
        [
            "signed decision_digest does not match the case",
            "the decision does not name us.president to waive its waiting period",
            "signed waiting_period is not the decision's",
        ]
    ]
