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
from clearance.core.chain import Scheme, link_hash
from clearance.service.decision_proof import prove
from clearance.service.people import registry

from .small_worlds import add_president, keys, small_world, system_key
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
def _waived() -> tuple[str, str, str, str]:
    """A $825 million sale whose congressional waiting period the President waived, signed:
    the case file, the users' keys (as JSON text), the system key, and the case file as
    Ukraine's minister reads it (without the United States' stock figures)."""
    with tempfile.TemporaryDirectory() as folder, small_world(Path(folder)) as world:
        public, _ = keys()["austin"]
        add_president(world, public)
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
        world.people.grant(
            user_id="ua.liaison",
            authority="ua.mod",
            valid_from=T0.date(),
            valid_to=None,
            actor=ADMIN,
            now=T0,
        )
        shown = world.cases.view(case.id, actor="ua.liaison").as_dict(WAIVED)
        users = {str(u["id"]): u for u in registry(world.store)}
        return json.dumps(data), json.dumps(users), system_key().public_key, json.dumps(shown)


def waived() -> tuple[dict[str, Any], dict[str, Any], str]:
    case, users, key, _ = _waived()
    return json.loads(case), json.loads(users), key


def withheld() -> tuple[dict[str, Any], dict[str, Any], str]:
    """The waived case's file as a reader shown it without the stock figures."""
    _, users, key, shown = _waived()
    return json.loads(shown), json.loads(users), key


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


# The events of the file ------------------------------------------------------------------


def _reseal(event: dict[str, Any], body: str, scheme: Scheme = Scheme.V2) -> None:
    """``event`` carrying ``body``, hashed and sealed again as the system would."""
    event["body"] = body
    event["hash"] = link_hash(event["seq"], _case_of(body), event["prev_hash"], body, scheme)
    event["seal"] = system_key().seal(event["seq"], event["hash"])


def _case_of(body: str) -> str | None:
    try:
        value = json.loads(body).get("case_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _last(case: dict[str, Any]) -> dict[str, Any]:
    """The file's last event (the denial's state change), which no other check needs."""
    event: dict[str, Any] = case["events"][-1]
    return event


def _event_problems(case: dict[str, Any], users: Any, key: str | None) -> list[str]:
    return [p for p in prove(case, users, key).problems if p.startswith("event")]


def test_an_event_that_is_not_an_object_is_named_and_the_rest_still_checked() -> None:
    """The events after it are folded as before."""
    case, users, key = denied()
    case["events"].insert(0, "an event")
    proof = prove(case, users, key)
    assert (proof.problems, proof.events) == (("an event of the file is not a JSON object",), 4)


@pytest.mark.parametrize("missing", ["seq", "body", "prev_hash"])
def test_an_event_without_its_seq_body_or_prev_hash_cannot_be_checked(missing: str) -> None:
    """Each of the three is needed to recompute its hash; the rest are still checked."""
    case, users, key = denied()
    event = dict(_last(case))
    seq = event["seq"]
    event[missing] = None
    case["events"].insert(0, event)
    proof = prove(case, users, key)
    named = "None" if missing == "seq" else str(seq)
    assert proof.problems == (
        f"event {named} lacks its seq, body or prev_hash: it cannot be checked",
    )
    assert proof.events == 4


def test_an_event_of_a_link_scheme_this_program_does_not_know_is_named() -> None:
    """Not hashed as anything known, and the rest still checked."""
    case, users, key = denied()
    event = dict(_last(case), scheme=7)
    case["events"].insert(0, event)
    assert prove(case, users, key).problems == (
        f"event {event['seq']} is not a ledger event this program knows",
    )


def test_an_event_of_scheme_1_is_named_as_unsealed_when_seals_are_checked() -> None:
    """A scheme-1 event (no scheme written) hashes with no key: with a system key it is named,
    without one it is checked by its hash and folded like any other."""
    case, users, key = denied()
    event = _last(case)
    _reseal(event, event["body"], Scheme.V1)
    del event["scheme"], event["seal"]
    assert prove(case, users, key).problems == (
        f"event {event['seq']} carries no seal (link scheme 1): nothing in the file vouches for"
        " it; check it against a ledger export and a checkpoint",
        "state is 'denied' in the file, but its events say 'in_review'",
    )
    proof = prove(case, users, None)
    assert (proof.problems, proof.events, proof.valid) == ((), 4, True)


def test_a_scheme_1_event_is_hashed_with_its_case() -> None:
    """Its case is part of its hash: a body naming no case (or not by text) is hashed
    without one, and is then another case's event."""
    case, users, _ = denied()
    event = _last(case)
    body = json.loads(event["body"])
    _reseal(event, json.dumps({**body, "case_id": 5}), Scheme.V1)
    del event["scheme"], event["case_id"]
    assert _event_problems(case, users, None) == [f"event {event['seq']} belongs to another case"]
    event["hash"] = link_hash(event["seq"], "5", event["prev_hash"], event["body"], Scheme.V1)
    assert _event_problems(case, users, None) == [f"event {event['seq']} does not match its hash"]


def test_an_event_whose_body_is_json_but_not_an_object_is_named_not_a_crash() -> None:
    """Hashed right (no seal asked for without a system key), but not an event: named, and
    the rest still checked."""
    case, users, _ = denied()
    first = case["events"][0]
    for body in ("[1]", "5", "null"):
        first["body"] = body
        first["hash"] = link_hash(first["seq"], None, first["prev_hash"], body, Scheme.V2)
        for name in ("type", "actor", "at", "payload", "case_id"):
            first.pop(name, None)
        proof = prove(case, users, None)
        assert proof.problems == (
            f"event {first['seq']}'s body is not a JSON object",
            NO_SUBMISSION,
        )
        assert proof.events == 3


def test_an_event_whose_hash_does_not_match_is_named_and_the_rest_still_checked() -> None:
    """The first event edited: the other events are still checked and folded."""
    case, users, key = denied()
    first = case["events"][0]
    first["hash"] = "sha256:00"
    proof = prove(case, users, key)
    assert proof.problems == (f"event {first['seq']} does not match its hash", NO_SUBMISSION)
    assert proof.events == 3


def test_an_event_not_sealed_by_the_system_key_is_named_and_the_rest_still_checked() -> None:
    """Without the system key, the same event is taken by its hash."""
    case, users, key = denied()
    first = case["events"][0]
    first["seal"] = case["events"][1]["seal"]
    assert prove(case, users, key).problems == (
        f"event {first['seq']} is not sealed by the system key",
        NO_SUBMISSION,
    )
    assert prove(case, users, None).problems == ()
    del first["seal"]
    assert prove(case, users, key).problems == (
        f"event {first['seq']} is not sealed by the system key",
        NO_SUBMISSION,
    )
    assert prove(case, users, key).events == 3


def test_an_event_whose_body_is_not_json_is_named_and_the_rest_still_checked() -> None:
    """Hashed and sealed, but not an event."""
    case, users, key = denied()
    first = case["events"][0]
    _reseal(first, "not JSON")
    proof = prove(case, users, key)
    assert proof.problems == (f"event {first['seq']}'s body is not JSON", NO_SUBMISSION)
    assert proof.events == 3


def test_an_event_of_another_case_is_named_and_the_rest_still_checked() -> None:
    """Hashed and sealed, but about another case."""
    case, users, key = denied()
    first = case["events"][0]
    _reseal(first, first["body"].replace(case["id"], "another case"))
    first["case_id"] = "another case"
    proof = prove(case, users, key)
    assert proof.problems == (f"event {first['seq']} belongs to another case", NO_SUBMISSION)
    assert proof.events == 3


def test_what_an_event_shows_beside_its_body_must_be_its_body_s() -> None:
    """Each key written beside the body is compared with it and named; one left out is not."""
    case, users, key = denied()
    first = case["events"][0]
    first["actor"] = "forger"
    first["at"] = "2025-01-01T00:00:00+00:00"
    del first["payload"], first["type"]
    proof = prove(case, users, key)
    assert proof.problems == (
        f"event {first['seq']}'s actor, at beside its body is not its body's",
        NO_SUBMISSION,
    )
    assert proof.events == 3


def test_the_events_are_folded_in_the_order_of_the_ledger() -> None:
    """A file listing its events in another order tells the same story; one listing an event
    twice names the copy and folds the event once."""
    case, users, key = denied()
    case["events"].reverse()
    assert prove(case, users, key).valid
    case, users, key = denied()
    case["events"].append(dict(case["events"][-1]))
    proof = prove(case, users, key)
    assert (proof.problems, proof.events) == (
        (f"event {case['events'][-1]['seq']} appears twice in the file",),
        4,
    )


# A file shown without another party's figures --------------------------------------------


def test_a_file_without_another_party_s_figures_is_valid_but_not_complete() -> None:
    """Its decision's event is checked by digest and seal; the rest is folded and checked."""
    case, users, key = withheld()
    submitted = case["events"][0]
    assert (submitted["type"], submitted["redacted"]) == ("case_submitted", True)
    assert prove(case, users, key).as_dict() == {
        "case": case["id"],
        "valid": True,
        "complete": False,
        "problems": [],
        "events_checked": 5,
        "seals_checked": True,
        "signatures": [
            {
                "authority": "us.president",
                "actor": "potus",
                "verdict": "waive",
                "valid": True,
                "problems": [],
            }
        ],
    }
    assert prove(case, users, None).valid


def test_a_withheld_file_does_not_compare_what_its_hidden_event_carries() -> None:
    """Number, submitter, request digest and outcome are what the hidden event says: not
    compared (the signed waiver still covers the request digest)."""
    case, users, key = withheld()
    case.update(number=99, submitted_by="usdp", outcome="prohibited")
    assert prove(case, users, key).valid


def test_a_withheld_file_still_tells_its_state_and_conditions() -> None:
    """The events shown fold to a state and to conditions met, compared with the file."""
    case, users, key = withheld()
    case["state"] = "approved"
    case["conditions"][0]["met"] = False
    assert prove(case, users, key).problems == (
        "state is 'approved' in the file, but its events say 'cleared'",
        "the conditions in the file are not the ones its events record",
    )


def test_a_withheld_file_s_conditions_are_the_hidden_decision_s_unmet_until_an_event_meets_them() -> (
    None
):
    """Its hidden event sets the decision's conditions, unmet: a file whose event meeting one
    is left out must show it unmet."""
    case, users, key = withheld()
    case["events"] = [e for e in case["events"] if e["type"] != "condition_met"]
    assert prove(case, users, key).problems == (
        "the conditions in the file are not the ones its events record",
    )
    case["conditions"][0]["met"] = False
    assert prove(case, users, key).problems == ()


def test_a_redacted_event_must_match_its_hash_and_its_seal() -> None:
    """Its body's digest links it; the system's seal vouches for it."""
    case, users, key = withheld()
    submitted = case["events"][0]
    seq = submitted["seq"]
    for forge in (
        {"body_hash": "sha256:00"},
        {"body_hash": None},
        {"body_hash": 5},
        {"hash": "sha256:00"},
    ):
        forged = json.loads(json.dumps(case))
        forged["events"][0].update(forge)
        proof = prove(forged, users, key)
        assert proof.problems[0] == f"event {seq} does not match its hash", forge
    forged = json.loads(json.dumps(case))
    forged["events"][0]["seal"] = case["events"][1]["seal"]
    assert prove(forged, users, key).problems == (f"event {seq} is not sealed by the system key",)
    assert prove(forged, users, None).problems == ()
    del forged["events"][0]["seal"]
    assert prove(forged, users, key).problems == (f"event {seq} is not sealed by the system key",)


def test_a_redacted_event_after_a_broken_one_is_still_checked() -> None:
    """What was named before it stays named."""
    case, users, key = withheld()
    case["events"].insert(0, "an event")
    assert prove(case, users, key).problems == ("an event of the file is not a JSON object",)


def test_a_whole_file_claiming_its_figures_withheld_is_checked_whole() -> None:
    """Its decision's event is shown: the file's word does not spare any check."""
    case, users, key = denied()
    case["decision"]["stockpile"] = {"figures_withheld": True}
    proof = prove(case, users, key)
    assert proof.complete
    assert proof.problems == ("the decision is not the one its events record",)


# The decision and the state --------------------------------------------------------------


def test_a_decision_about_another_request_is_named() -> None:
    """Its request digest must be the file's."""
    case, users, key = denied()
    case["decision"]["request_digest"] = "sha256:00"
    assert prove(case, users, key).problems == (
        "the decision is not about this request",
        "the decision is not the one its events record",
    )


def test_a_file_without_a_decision_or_events_list_is_named_not_a_crash() -> None:
    """Nothing to check is no event checked, and the decision is not about the request."""
    case, users, key = denied()
    case["decision"] = "a decision"
    case["events"] = "events"
    proof = prove(case, users, key)
    assert proof.events == 0
    assert proof.problems[:2] == ("the decision is not about this request", NO_SUBMISSION)


def test_a_prohibited_case_can_only_be_denied() -> None:
    """Not even withdrawn."""
    case, users, key = denied()
    case["decision"]["outcome"] = "prohibited"
    problems = prove(case, users, key).problems
    assert not any(p.startswith("the state") for p in problems)
    case["state"] = "withdrawn"
    problems = prove(case, users, key).problems
    assert problems[-1] == (
        "the state 'withdrawn' does not follow from the decision (prohibited) and the signed"
        " answers (expected one of denied)"
    )


def test_a_case_suspended_may_be_suspended_or_withdrawn_whatever_its_answers() -> None:
    """A suspension event in the file widens the states its answers allow."""
    case, users, key = denied()
    case["state"] = "suspended"
    following = (
        "the state 'suspended' does not follow from the decision (review_required) and the"
        " signed answers (expected one of denied, withdrawn)"
    )
    assert following in prove(case, users, key).problems
    case["events"].append({"type": "case_suspended"})
    problems = prove(case, users, key).problems
    assert not any(p.startswith("the state") for p in problems)
    case["state"] = "denied"
    problems = prove(case, users, key).problems
    assert not any(p.startswith("the state") for p in problems)


def test_the_answers_are_checked_against_the_registry_given() -> None:
    """An office no longer held on the day signed is named in the answer's check."""
    case, users, key = denied()
    users["hegseth"]["holdings"] = [{**h, "to": "2025-06-15"} for h in users["hegseth"]["holdings"]]
    proof = prove(case, users, key)
    assert [list(s.problems) for s in proof.signatures] == [
        ["hegseth did not hold us.secdef on 2025-06-16"]
    ]


def test_a_scheme_1_event_is_named_and_the_rest_still_checked() -> None:
    """The first event rewritten as scheme 1: named, and the events after it folded."""
    case, users, key = denied()
    first = case["events"][0]
    _reseal(first, first["body"], Scheme.V1)
    del first["scheme"], first["seal"]
    proof = prove(case, users, key)
    assert proof.problems == (
        f"event {first['seq']} carries no seal (link scheme 1): nothing in the file vouches for"
        " it; check it against a ledger export and a checkpoint",
        NO_SUBMISSION,
    )
    assert proof.events == 3


def test_the_events_are_folded_by_their_seq_not_by_their_links() -> None:
    """Without a system key the links are the file's to write: the story still follows the
    order of the ledger (only the answer's signed point of the ledger is then not its own)."""
    case, users, _ = denied()
    for event, prev in zip(
        case["events"], ("sha256:d", "sha256:c", "sha256:b", "sha256:a"), strict=True
    ):
        event["prev_hash"] = prev
        event["hash"] = link_hash(event["seq"], None, prev, event["body"], Scheme.V2)
    [answer] = [e["seq"] for e in case["events"] if e["type"] == "approval_denied"]
    proof = prove(case, users, None)
    assert (proof.problems, proof.events) == (
        (
            f"event {answer}: its signed statement names another point of the ledger than the"
            " one before it",
        ),
        4,
    )


def test_two_events_at_one_place_of_the_ledger_are_refused() -> None:
    """Without a system key anyone can hash a second event at a seq the case already has
    (here the denial told at another time): a ledger holds one event at each place, so the
    second is named and not folded, whichever of the two comes first in the file."""
    case, users, _ = denied()
    last = _last(case)
    fork = dict(last)
    body = json.loads(last["body"])
    body["at"] = "2025-06-16T10:00:00+00:00"
    fork["body"] = json.dumps(body)
    fork["at"] = body["at"]
    fork["hash"] = link_hash(fork["seq"], None, fork["prev_hash"], fork["body"], Scheme.V2)
    case["events"].append(fork)
    proof = prove(case, users, None)
    assert (proof.problems, proof.events) == (
        (f"event {fork['seq']} appears twice in the file",),
        4,
    )
    case["events"].insert(0, case["events"].pop())
    proof = prove(case, users, None)
    assert (proof.problems, proof.events) == (
        (f"event {fork['seq']} appears twice in the file",),
        4,
    )


def test_an_event_twice_is_named_beside_the_other_problems_and_the_rest_still_checked() -> None:
    """The copy is named among the problems found before it, and the events after it are
    still checked and folded."""
    case, users, key = denied()
    events = case["events"]
    copy = dict(events[1])
    case["events"] = ["an event", *events[:2], copy, *events[2:]]
    proof = prove(case, users, key)
    assert (proof.problems, proof.events) == (
        (
            "an event of the file is not a JSON object",
            f"event {copy['seq']} appears twice in the file",
        ),
        4,
    )


def test_a_redacted_event_and_another_at_its_place_are_refused() -> None:
    """A place of the ledger shown once without its body and once with one is still twice."""
    case, users, _ = withheld()
    [hidden] = [e for e in case["events"] if e.get("redacted") is True]
    shown = dict(_last(case), seq=hidden["seq"], prev_hash=hidden["prev_hash"])
    shown["hash"] = link_hash(
        shown["seq"], _case_of(shown["body"]), shown["prev_hash"], shown["body"], Scheme.V2
    )
    case["events"].append(shown)
    assert prove(case, users, None).problems == (
        f"event {hidden['seq']} appears twice in the file",
    )


def test_a_withheld_file_showing_only_its_hidden_submission_is_a_submitted_case() -> None:
    """The hidden event starts the case submitted, its conditions unmet."""
    case, users, key = withheld()
    case["events"] = case["events"][:1]
    assert prove(case, users, key).problems == (
        "state is 'cleared' in the file, but its events say 'submitted'",
        "the conditions in the file are not the ones its events record",
    )


def test_a_withheld_file_whose_decision_lists_no_conditions_sets_none() -> None:
    """Conditions that are not a list are none."""
    case, users, key = withheld()
    case["decision"]["conditions"] = None
    assert prove(case, users, key).problems == ()
