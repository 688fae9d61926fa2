"""Replay's lean reading of stored cases gives what the full reading gives.

``store.compared_parts`` reads a stored request straight from its text and
only three fields of a stored decision; ``store.case_text`` decodes both
whole. Replay's results hang on the two agreeing, so they are compared here
on requests and decisions as submission stores them, on texts no request
validates (same ``UnreadableRequest``, same words), on damaged decision
records (same ``PayloadError``), and on a store's rows.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.core.decision import RecordedDecision
from clearance.core.digest import canonical_json
from clearance.core.events import PayloadError
from clearance.core.request import parse_request
from clearance.policy.engine import Screener
from clearance.store.case_text import decision_text, read_decision, read_request
from clearance.store.compared_parts import ComparedParts, read_compared, read_request_text
from tests.worlds import ATACMS

from .conftest import NOW

_DATES = st.dates(dt.date(2022, 1, 1), dt.date(2026, 12, 31)).map(dt.date.isoformat)
_REQUESTS = st.fixed_dictionaries(
    {
        "action": st.just("employ"),
        "requester": st.sampled_from(["UA", "GB", "US"]),
        "system": st.sampled_from(["atacms", "storm-shadow", "eram"]),
        "quantity": st.integers(1, 100),
        "target": st.sampled_from(
            [
                {"territory": "UA"},
                {"territory": "RU"},
                {"territory": "BY"},
                {"territory": "RU", "region": "RU-BEL"},
                {"territory": "RU", "region": "RU-KRS"},
                {"territory": "UA", "region": "UA-09"},
            ]
        ),
        "date": _DATES,
    }
) | st.fixed_dictionaries(
    {
        "action": st.just("transfer"),
        "requester": st.sampled_from(["US", "GB", "DE"]),
        "recipient": st.sampled_from(["UA", "RU"]),
        "system": st.sampled_from(["atacms", "storm-shadow", "eram"]),
        "quantity": st.integers(1, 5000),
        "date": _DATES,
    },
    optional={
        "funding": st.sampled_from(["european-partners", "US", "DE"]),
        "value_usd": st.integers(0, 10**9),
    },
)

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
"""Any JSON value, to put where a field is expected."""

_FIELD_VALUES = st.one_of(
    _JSON,
    st.sampled_from(
        [
            "2025-02-30",
            "2025-06-15T00:00:00",
            "2025-W24-1",
            "1800-01-01",
            "ua",
            "UA",
            "RU-BEL",
            1.0,
            True,
            0,
            2**53,
            "3",
        ]
    ),
)


@st.composite
def _damaged(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request with fields changed, dropped or added."""
    data: dict[str, Any] = dict(draw(_REQUESTS))
    for name in draw(st.lists(st.sampled_from([*data, "target", "extra", "action"]), max_size=3)):
        how = draw(st.sampled_from(["change", "drop"]))
        if how == "drop":
            data.pop(name, None)
        else:
            data[name] = draw(_FIELD_VALUES)
    return data


@settings(max_examples=400, deadline=None)
@given(data=_REQUESTS)
def test_a_stored_request_reads_the_same_lean(data: dict[str, Any]) -> None:
    text = canonical_json(parse_request(data).as_dict()).decode()  # as submission keeps it
    lean = read_request_text(text)
    assert lean == read_request(text)
    assert type(lean) is type(read_request(text))


@settings(max_examples=600, deadline=None)
@given(
    text=st.one_of(
        _damaged().map(json.dumps),
        _damaged().map(lambda d: json.dumps(d, indent=1, sort_keys=True)),
        _JSON.map(json.dumps),
        st.text(max_size=30),
        st.sampled_from(["", "{", "NaN", '{"action": "employ"} x', '{"a": 1, "a": 2}']),
    )
)
def test_any_text_reads_the_same_lean_unreadable_with_the_same_words(text: str) -> None:
    lean, full = read_request_text(text), read_request(text)
    assert lean == full
    assert type(lean) is type(full)


def _parts(decision: RecordedDecision) -> ComparedParts:
    return ComparedParts(decision.outcome, decision.reasons, decision.stockpile)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_REQUESTS)
def test_a_stored_decision_reads_the_same_lean(screener: Screener, data: dict[str, Any]) -> None:
    decision = screener.decide(parse_request(data), decision_id="d", now=NOW)
    text = decision_text(RecordedDecision.of(decision.as_dict()))
    assert read_compared(text, "7") == _parts(read_decision(text, "7"))


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.pop("outcome"),
        lambda r: r.update(outcome="maybe"),
        lambda r: r.update(outcome=None),
        lambda r: r.update(reasons=None),
        lambda r: r.update(reasons=7),
        lambda r: r.update(stockpile={"holder": "US"}),
        lambda r: r.update(stockpile=[1, 2]),
        lambda r: r.update(stockpile=dict(r["stockpile"], on="2025-02-30")),
        lambda r: r.pop("consent_holders"),
    ],
)
def test_a_damaged_decision_is_refused_the_same_lean(screener: Screener, change: Any) -> None:
    request = parse_request(ATACMS)
    record = screener.decide(request, decision_id="d", now=NOW).as_dict()
    assert record["stockpile"] is not None
    change(record)
    text = json.dumps(record)
    try:
        full: ComparedParts | str = _parts(read_decision(text, "7"))
    except PayloadError as exc:
        full = str(exc)
    try:
        lean: ComparedParts | str = read_compared(text, "7")
    except PayloadError as exc:
        lean = str(exc)
    if "consent_holders" in record:
        assert lean == full
    else:  # a field replay does not compare is not read, so not missed: audit verify names it
        assert isinstance(full, str)
        assert lean == _parts(RecordedDecision.read({**record, "consent_holders": []}, ""))


@pytest.mark.parametrize("text", ["[]", "{not json", '{"outcome": "permitted"} x', "NaN"])
def test_a_decision_that_is_no_record_is_refused_in_the_same_words(text: str) -> None:
    with pytest.raises(PayloadError) as full:
        read_decision(text, "7")
    with pytest.raises(PayloadError) as lean:
        read_compared(text, "7")
    assert str(lean.value) == str(full.value)
