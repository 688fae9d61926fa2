"""Typed ledger payloads (``core.events``) and their words (``core.event_words``).

A payload's dict is what is hashed and sealed: reading a stored dict and
writing it again must give the same dict, for every shape ever written, or
the bodies of existing ledgers would no longer be the ones their hashes and
seals vouch for. Every event type has a payload class and words, and no
sentence shows a payload as JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
import typing
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearance.core.chain import EventType
from clearance.core.digest import canonical_json
from clearance.core.event_words import WORDS, event_words, words_of
from clearance.core.events import (
    ABSENT,
    PAYLOADS,
    Absent,
    CaseStateChanged,
    CaseSubmitted,
    Event,
    Payload,
    PayloadError,
    StockMove,
    StockMoved,
    read_event,
    read_payload,
)
from clearance.core.stockpile import MovementKind

T0 = dt.datetime(2025, 6, 15, 9, 30, tzinfo=dt.UTC)

_JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)


def _values(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """What a stored decision, request or statement may hold (no floats: none is written)."""
    return st.recursive(
        _JSON_SCALARS | text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=8,
    )


def _strategy(kind: Any, text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Values of a payload field's type."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_strategy(a, text) for a in args))
    if origin is tuple:
        return st.lists(_strategy(args[0], text), max_size=3).map(tuple)
    if origin is dict:
        return st.dictionaries(text, _values(text) if args[1] is Any else _strategy(args[1], text))
    if dataclasses.is_dataclass(kind):
        return _payloads(kind, text)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: text,
        int: st.integers(-(2**53) + 1, 2**53 - 1),
        dt.date: st.dates(),
        dt.datetime: st.datetimes(timezones=st.just(dt.UTC)),
        MovementKind: st.sampled_from(MovementKind),
        Absent: st.just(ABSENT),
        type(None): st.none(),
    }
    return simple[kind]


def _payloads(cls: Any, text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    return st.builds(
        cls, **{f.name: _strategy(hints[f.name], text) for f in dataclasses.fields(cls)}
    )


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_PLAIN = st.text(st.characters(categories=("L", "N", "Zs"), exclude_characters='{}"'), max_size=12)
"""Text as people give it, without braces or quotation marks, so a sentence that shows them
can only have made them itself."""

ANY_PAYLOAD = st.sampled_from(list(PAYLOADS.values())).flatmap(lambda c: _payloads(c, _TEXT))
PLAIN_PAYLOAD = st.sampled_from(list(PAYLOADS.values())).flatmap(lambda c: _payloads(c, _PLAIN))


def test_every_event_type_has_a_payload_class_and_words() -> None:
    assert set(PAYLOADS) == set(EventType)
    assert all(cls.TYPE is kind for kind, cls in PAYLOADS.items())
    assert set(WORDS) == set(EventType)


@given(ANY_PAYLOAD)
def test_a_payload_reads_back_from_the_dict_it_writes(payload: Payload) -> None:
    written = payload.to_payload()
    stored = json.loads(canonical_json(written))  # as a body holds it
    assert stored == written
    read = read_payload(payload.TYPE, stored)
    assert read == payload
    assert read.to_payload() == written
    assert canonical_json(read.to_payload()) == canonical_json(written)


@given(PLAIN_PAYLOAD, _PLAIN)
def test_every_event_has_words_and_none_is_json(payload: Payload, actor: str) -> None:
    sentence = event_words(Event(T0, actor, "case-1", payload))
    assert sentence.strip()
    assert "{" not in sentence
    assert '"' not in sentence


# every shape written before a key was added -------------------------------------

OLDER_SHAPES = [
    (EventType.USER_ADDED, {"user": "u", "name": "U", "party": "UA", "public_key": "k"}),
    (EventType.USER_ACCESS_CHANGED, {"user": "u", "password": "set"}),
    (EventType.API_TOKEN_ISSUED, {"token": "t", "user": "u", "name": "n"}),
    (
        EventType.API_TOKEN_ISSUED,
        {"token": "t", "user": "u", "name": "n", "expires_at": "2026-01-01T00:00:00+00:00"},
    ),
    (EventType.API_TOKEN_REVOKED, {"token": "t", "user": "u"}),
    (
        EventType.CASE_SUBMITTED,
        {"request": {"action": "employ"}, "request_digest": "sha256:x", "decision": {}},
    ),
    (
        EventType.CASE_SUBMITTED,
        {
            "request": {},
            "request_digest": "sha256:x",
            "classification": "SECRET",
            "decision": {"outcome": "permitted"},
        },
    ),
    (
        EventType.CASE_RESCREENED,
        {"was": "permitted", "would_be": "prohibited", "as_of": "2025-06-15", "decision": {}},
    ),
    (
        EventType.BUNDLE_ACTIVATED,
        {
            "holder": "US",
            "bundle": "US/2025-08-28",
            "revision": "r",
            "effective_from": "2025-08-28",
        },
    ),
    (
        EventType.BUNDLE_PROPOSED,
        {
            "proposal": "p",
            "number": 1,
            "holder": "US",
            "effective_from": "2099-01-01",
            "revision": "r",
            "title": "t",
            "tests": {"passed": 3, "failed": 0},
        },
    ),
]


@pytest.mark.parametrize(("kind", "stored"), OLDER_SHAPES)
def test_older_shapes_read_and_write_back_unchanged(
    kind: EventType, stored: dict[str, Any]
) -> None:
    assert read_payload(kind, stored).to_payload() == stored


@pytest.mark.parametrize(
    ("kind", "stored"),
    [
        (EventType.CONDITION_MET, {"condition": "c"}),
        (EventType.CONDITION_MET, {"condition": "c", "evidence": "e", "extra": 1}),
        (EventType.STOCK_MOVED, {"movements": [{"holder": "UA"}]}),
        (EventType.BUNDLE_PROPOSED, {**OLDER_SHAPES[-1][1], "number": True}),
        (EventType.HOLDING_GRANTED, {"user": "u", "authority": "a", "from": "soon", "to": None}),
        (EventType.CASE_STATE_CHANGED, ["from", "to"]),
        ("no_such_event", {}),
    ],
)
def test_a_payload_not_of_its_type_is_refused(kind: str, stored: Any) -> None:
    with pytest.raises(PayloadError):
        read_payload(kind, stored)


# words ---------------------------------------------------------------------------


def test_stock_moved_says_what_moved_where() -> None:
    moved = StockMoved(
        (
            StockMove("UA", "atacms", MovementKind.CONSUME, 40, dt.date(2025, 6, 15)),
            StockMove("US", "eram", MovementKind.COMMIT, 3350, dt.date(2025, 8, 28)),
        )
    )
    assert event_words(Event(T0, "ua.liaison", "case-1", moved)) == (
        "UA moved 40 × atacms from stock on hand to consumed, 2025-06-15;"
        " US committed 3350 × eram (still on hand), 2025-08-28"
    )


def test_a_case_moving_between_states_is_said_in_words_not_tokens() -> None:
    moved = CaseStateChanged("in_review", "approved_with_conditions", "screened: permitted")
    assert event_words(Event(T0, "clearance", "case-1", moved)) == (
        "in review → approved with conditions: screened: permitted"
    )
    submitted = CaseSubmitted(
        {
            "action": "employ",
            "requester": "UA",
            "system": "atacms",
            "quantity": 2,
            "target": {"territory": "RU"},
            "date": "2025-06-15",
        },
        "sha256:00",
        {"outcome": "review_required"},
    )
    assert event_words(Event(T0, "ua.liaison", "case-1", submitted)).endswith(
        "; screened: review required"
    )


def test_an_unreadable_event_is_said_in_words() -> None:
    body = {"at": T0.isoformat(), "actor": "a", "type": "stock_moved", "payload": {"x": "{"}}
    with pytest.raises(PayloadError):
        read_event(body)
    assert (
        words_of(body)
        == "a stock_moved event whose details cannot be read (audit verify names why)"
    )
    assert "{" not in words_of({**body, "type": '{"x"}'})
