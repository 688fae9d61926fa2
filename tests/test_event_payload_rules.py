"""The rules of the typed ledger payloads, stated on the pure code (``core.events``).

``tests/test_events.py`` reads back every payload it can draw; these state
each rule of writing and reading one, exactly: the dict written for a payload
(its keys, a key named otherwise than its field, a key never written left
out), what is read back from a stored dict, and the words of each refusal,
which ``audit verify`` shows when a body was changed outside clearance.

The codec builders (``_as``, ``_maybe``, ``_nested``, ``_many``, ``_checked``)
are stated on their own too: the payload classes call them once, when the
module is imported, so a test of a payload alone could not tell a changed
builder from the right one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clearance.core.chain import EventType
from clearance.core.events import (
    ABSENT,
    DAY,
    KIND,
    TEXT,
    TEXTS,
    TIME,
    WHOLE,
    ApiTokenIssued,
    BundleProposed,
    ConditionMet,
    Event,
    GoldenTally,
    HoldingGranted,
    PayloadError,
    StockMove,
    StockMoved,
    UserAdded,
    _as,
    _checked,
    _many,
    _maybe,
    _nested,
    read_event,
    read_payload,
)
from clearance.core.stockpile import MovementKind

T0 = dt.datetime(2025, 6, 15, 9, 30, tzinfo=dt.UTC)
MOVE = StockMove("US", "atacms", MovementKind.TRANSFER_OUT, 5, dt.date(2025, 6, 15))
MOVE_STORED = {
    "holder": "US",
    "system": "atacms",
    "kind": "transfer_out",
    "quantity": 5,
    "day": "2025-06-15",
}
PROPOSED_STORED = {
    "proposal": "p-1",
    "number": 3,
    "holder": "US",
    "effective_from": "2099-01-01",
    "revision": "r",
    "title": "t",
    "tests": {"passed": 12, "failed": 1},
}
BODY = {
    "at": "2025-06-15T09:30:00+00:00",
    "actor": "ua.liaison",
    "case_id": "case-1",
    "type": "condition_met",
    "payload": {"condition": "end-use report", "evidence": "report 7"},
}


def refusal(kind: EventType | str, stored: Any) -> str:
    """The words of ``PayloadError`` for reading ``stored`` as a payload of ``kind``."""
    with pytest.raises(PayloadError) as refused:
        read_payload(kind, stored)
    return str(refused.value)


# writing ---------------------------------------------------------------------------


def test_absent_is_shown_as_absent() -> None:
    assert repr(ABSENT) == "ABSENT"


def test_a_payload_writes_its_fields_and_leaves_out_the_keys_it_lacks() -> None:
    added = UserAdded("ua.liaison", "Olena K.", "UA", "key", roles=("requester",))
    assert added.to_payload() == {
        "user": "ua.liaison",
        "name": "Olena K.",
        "party": "UA",
        "public_key": "key",
        "roles": ["requester"],
    }


def test_a_field_with_a_key_of_its_own_is_written_under_that_key() -> None:
    held = HoldingGranted("us.secdef", "us.dod", dt.date(2025, 1, 1), None)
    assert held.to_payload() == {
        "user": "us.secdef",
        "authority": "us.dod",
        "from": "2025-01-01",
        "to": None,
    }


def test_times_days_and_nested_payloads_are_written_as_json_holds_them() -> None:
    issued = ApiTokenIssued("t", "u", "ci", expires_at=T0)
    assert issued.to_payload() == {
        "token": "t",
        "user": "u",
        "name": "ci",
        "expires_at": "2025-06-15T09:30:00+00:00",
    }
    assert StockMoved((MOVE, MOVE)).to_payload() == {"movements": [MOVE_STORED, MOVE_STORED]}


# reading ---------------------------------------------------------------------------


def test_a_stored_payload_reads_back_typed_and_a_key_it_lacks_is_absent() -> None:
    stored = {"token": "t", "user": "u", "name": "ci", "expires_at": "2025-06-15T09:30:00+00:00"}
    assert read_payload(EventType.API_TOKEN_ISSUED, stored) == ApiTokenIssued(
        "t", "u", "ci", token_hash=ABSENT, expires_at=T0
    )
    assert read_payload("stock_moved", {"movements": [MOVE_STORED]}) == StockMoved((MOVE,))
    assert read_payload("bundle_proposed", PROPOSED_STORED) == BundleProposed(
        "p-1", 3, "US", dt.date(2099, 1, 1), "r", "t", GoldenTally(12, 1)
    )


def test_a_key_of_its_own_is_read_from_that_key() -> None:
    stored = {"user": "u", "authority": "us.dod", "from": "2025-01-01", "to": "2025-12-31"}
    assert read_payload("holding_granted", stored) == HoldingGranted(
        "u", "us.dod", dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    )


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    assert refusal("condition_met", ["c", "e"]) == "the payload is not a JSON object"


def test_a_payload_lacking_a_key_its_type_always_carries_is_refused_naming_it() -> None:
    assert refusal("condition_met", {"condition": "c"}) == "it lacks its evidence"
    assert refusal("holding_granted", {"user": "u", "authority": "a", "to": None}) == (
        "it lacks its from"
    )


def test_a_payload_carrying_keys_its_type_does_not_is_refused_naming_them_sorted() -> None:
    stored = {"condition": "c", "evidence": "e", "zone": 1, "actor": "a"}
    assert refusal("condition_met", stored) == "it carries keys its type does not: actor, zone"


@pytest.mark.parametrize(
    ("kind", "stored", "words"),
    [
        (
            "condition_met",
            {"condition": 7, "evidence": "e"},
            "its condition is not what it holds: 7 is not a str",
        ),
        (
            "bundle_proposed",
            {**PROPOSED_STORED, "number": True},
            "its number is not what it holds: True is not a int",
        ),
        (
            "bundle_proposed",
            {**PROPOSED_STORED, "number": "3"},
            "its number is not what it holds: '3' is not a int",
        ),
        (
            "holding_granted",
            {"user": "u", "authority": "a", "from": "soon", "to": None},
            "its from is not what it holds: Invalid isoformat string: 'soon'",
        ),
        (
            "holding_granted",
            {"user": "u", "authority": "a", "from": 20250101, "to": None},
            "its from is not what it holds: 20250101 is not a str",
        ),
        (
            "api_token_issued",
            {"token": "t", "user": "u", "name": "n", "expires_at": "soon"},
            "its expires_at is not what it holds: Invalid isoformat string: 'soon'",
        ),
        (
            "user_added",
            {"user": "u", "name": "n", "party": "UA", "public_key": "k", "roles": "admin"},
            "its roles is not what it holds: 'admin' is not a list",
        ),
        (
            "user_added",
            {"user": "u", "name": "n", "party": "UA", "public_key": "k", "roles": ["a", 1]},
            "its roles is not what it holds: 1 is not a str",
        ),
        (
            "case_rescreened",
            {"was": "permitted", "would_be": "p", "as_of": "2025-06-15", "decision": []},
            "its decision is not what it holds: [] is not a dict",
        ),
        (
            "stock_moved",
            {"movements": {"holder": "UA"}},
            "its movements is not what it holds: {'holder': 'UA'} is not a list",
        ),
        (
            "stock_moved",
            {"movements": [{"holder": "UA"}]},
            "its movements is not what it holds: it lacks its system",
        ),
        (
            "stock_moved",
            {"movements": [{**MOVE_STORED, "kind": "lend"}]},
            "its movements is not what it holds:"
            " its kind is not what it holds: 'lend' is not a valid MovementKind",
        ),
        (
            "bundle_proposed",
            {**PROPOSED_STORED, "tests": {"passed": 1}},
            "its tests is not what it holds: it lacks its failed",
        ),
    ],
)
def test_a_value_of_another_type_is_refused_naming_its_key_and_why(
    kind: str, stored: dict[str, Any], words: str
) -> None:
    assert refusal(kind, stored) == words


def test_a_type_that_is_no_event_type_is_refused() -> None:
    assert refusal("no_such_event", {}) == "'no_such_event' is not an event type"


# events ----------------------------------------------------------------------------


def test_an_event_body_reads_as_who_recorded_what_when_for_which_case() -> None:
    event = read_event(BODY)
    assert event == Event(T0, "ua.liaison", "case-1", ConditionMet("end-use report", "report 7"))
    assert event.type is EventType.CONDITION_MET


def test_an_event_of_no_case_reads_with_no_case() -> None:
    without = {k: v for k, v in BODY.items() if k != "case_id"}
    assert read_event(without).case_id is None
    assert read_event({**BODY, "case_id": None}).case_id is None


def _body_refusal(body: Any) -> str:
    with pytest.raises(PayloadError) as refused:
        read_event(body)
    return str(refused.value)


def test_a_body_that_is_not_an_object_is_refused() -> None:
    assert _body_refusal([BODY]) == "the body is not a JSON object"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({k: v for k, v in BODY.items() if k != "at"}, "'at'"),
        ({k: v for k, v in BODY.items() if k != "actor"}, "'actor'"),
        ({k: v for k, v in BODY.items() if k != "payload"}, "'payload'"),
        ({k: v for k, v in BODY.items() if k != "type"}, "'type'"),
        ({**BODY, "at": "noon"}, "Invalid isoformat string: 'noon'"),
        ({**BODY, "at": 0}, "0 is not a str"),
        ({**BODY, "actor": 5}, "5 is not a str"),
        ({**BODY, "case_id": 5}, "5 is not a str"),
    ],
)
def test_a_body_whose_at_actor_type_or_payload_is_missing_or_garbled_is_refused(
    body: dict[str, Any], why: str
) -> None:
    assert _body_refusal(body) == f"its at, actor, type or payload is missing or garbled: {why}"


def test_a_body_whose_payload_is_not_of_its_type_is_refused_as_the_payload_is() -> None:
    assert _body_refusal({**BODY, "payload": {"condition": "c"}}) == "it lacks its evidence"
    assert _body_refusal({**BODY, "type": "no_such_event"}) == (
        "'no_such_event' is not an event type"
    )


# the codecs ------------------------------------------------------------------------


def test_a_checked_value_of_its_kind_is_read_as_it_is() -> None:
    assert _checked(int)(7) == 7
    assert _checked(str)("") == ""
    assert _checked((int, str))("x") == "x"


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        (int, True, "True is not a int"),
        (int, False, "False is not a int"),
        (int, 1.0, "1.0 is not a int"),
        (str, 5, "5 is not a str"),
        (list, (), "() is not a list"),
        (dict, True, "True is not a dict"),
        ((int, str), None, "None is not a (<class 'int'>, <class 'str'>)"),
    ],
)
def test_a_checked_value_of_another_kind_or_a_json_boolean_is_refused(
    kind: Any, value: Any, words: str
) -> None:
    """JSON's true and false are no numbers, though Python's bools are ints."""
    with pytest.raises(PayloadError) as refused:
        _checked(kind)(value)
    assert str(refused.value) == words


def test_a_field_names_its_codec_and_its_key_only_when_it_has_one_of_its_own() -> None:
    assert _as(TEXT) == {"codec": TEXT, "key": None}
    assert _as(DAY, "from") == {"codec": DAY, "key": "from"}


def test_a_codec_of_something_or_null_passes_null_both_ways() -> None:
    maybe = _maybe(DAY)
    assert maybe.write(None) is None
    assert maybe.read(None) is None
    assert maybe.write(dt.date(2025, 6, 15)) == "2025-06-15"
    assert maybe.read("2025-06-15") == dt.date(2025, 6, 15)
    with pytest.raises(PayloadError, match=r"^5 is not a str$"):
        maybe.read(5)


def test_a_nested_payload_is_written_as_its_dict_and_read_back_checked() -> None:
    nested = _nested(StockMove)
    assert nested.write(MOVE) == MOVE_STORED
    assert nested.read(MOVE_STORED) == MOVE
    with pytest.raises(PayloadError, match=r"^it lacks its day$"):
        nested.read({k: v for k, v in MOVE_STORED.items() if k != "day"})


def test_many_values_are_written_as_a_list_and_read_as_a_tuple_each_checked() -> None:
    many = _many(_nested(StockMove))
    assert many.write((MOVE, MOVE)) == [MOVE_STORED, MOVE_STORED]
    assert many.write(()) == []
    assert many.read([MOVE_STORED, MOVE_STORED]) == (MOVE, MOVE)
    assert many.read([]) == ()
    with pytest.raises(PayloadError, match=r"^'x' is not a list$"):
        many.read("x")
    with pytest.raises(PayloadError, match=r"^1 is not a str$"):
        _many(TEXT).read(["a", 1])


def test_the_simple_codecs_write_json_and_read_it_back_checked() -> None:
    assert TEXTS.write(("a", "b")) == ["a", "b"]
    assert TEXTS.read(["a", "b"]) == ("a", "b")
    assert KIND.write(MovementKind.CONSUME) == "consume"
    assert KIND.read("consume") is MovementKind.CONSUME
    assert WHOLE.read(3) == 3
    assert TIME.write(T0) == "2025-06-15T09:30:00+00:00"
    assert TIME.read("2025-06-15T09:30:00+00:00") == T0
    with pytest.raises(PayloadError, match=r"^3 is not a str$"):
        KIND.read(3)
