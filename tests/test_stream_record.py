"""``screen - --json`` writes a decision's record from parts encoded once per judgement
(``cli.screen_stream._decision_bytes``): the bytes must be ``json_record`` encoded, always.

The records are a documented format (docs/formats.md, "Streams") that scripts read and
digest; the parts are a second writer of it, so every generated decision is written both
ways and compared byte for byte.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.cli import screen_stream
from clearance.cli.screen_stream import Record, json_bytes, json_record
from clearance.core.decision import Decision
from clearance.core.request import AnyRequest, parse_request
from clearance.errors import RequestError
from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack

from .test_properties import RECIPIENTS, SEED_REQUESTS, SYSTEMS
from .worlds import ATACMS, G5

_encode = screen_stream._encode


def _as_records(text: str) -> list[str]:
    """Each record of a text (split at ``\\n`` only: a value may hold other line breaks, such
    as U+0085 or U+2028, written as they are)."""
    return [f"{record}\n" for record in text.split("\n")[:-1]]


def _expected(records: list[Record]) -> list[str]:
    return [_encode(json_record(line, item)) + "\n" for line, item in records]


@st.composite
def sales(draw: st.DrawFn) -> AnyRequest:
    """Transfers by the United States with a stated value: the ones that get a legislature's
    waiting period (``waiting_period`` in the record) or stockpile facts."""
    data: dict[str, Any] = {
        "action": "transfer",
        "requester": "US",
        "system": draw(st.sampled_from(SYSTEMS)),
        "quantity": draw(st.sampled_from([1, 2, 50, 500])),
        "recipient": draw(RECIPIENTS),
        "date": draw(st.dates(dt.date(2024, 11, 1), dt.date(2026, 12, 31))).isoformat(),
        "value_usd": draw(st.sampled_from([1, 14_000_000, 825_000_000])),
    }
    return parse_request(data)


DECIDED = st.lists(SEED_REQUESTS | sales(), min_size=1, max_size=6)
TIMES = st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))


@settings(max_examples=60, deadline=None)
@given(
    requests=DECIDED,
    ids=st.lists(st.text(max_size=8), min_size=6, max_size=6),
    lines=st.lists(st.integers(1, 10**12), min_size=6, max_size=6),
    durations=st.lists(st.integers(0, 10**9), min_size=6, max_size=6),
    now=TIMES,
)
def test_a_record_from_parts_is_the_record_encoded(
    seed_pack: ScenarioPack,
    requests: list[AnyRequest],
    ids: list[str],
    lines: list[int],
    durations: list[int],
    now: dt.datetime,
) -> None:
    """Any decision id, line number, duration and time, any request of the seed catalog; and
    the same batch decided again, its judgements then the memo's (the parts held before)."""
    screener = Screener(seed_pack)
    for round_ in range(2):
        decisions = screener.decide_many(
            requests, decision_ids=ids[: len(requests)], now=now + dt.timedelta(hours=round_)
        )
        records: list[Record] = [
            (line, dataclasses.replace(d, duration_us=duration))
            for line, d, duration in zip(lines, decisions, durations, strict=False)
        ]
        assert _as_records(json_bytes(records).decode()) == _expected(records)


def test_waiting_periods_stockpile_facts_and_errors_are_written_as_encoded(
    screener: Screener,
) -> None:
    """The examples above reach these parts of a record by chance; here each is there."""
    sale = parse_request({**G5, "value_usd": 825_000_000})
    decisions = screener.decide_many(
        [sale, parse_request(ATACMS)], decision_ids=["d", "e"], now=dt.datetime.now(dt.UTC)
    )
    assert decisions[0].waiting_period is not None
    assert decisions[1].stockpile is not None
    records: list[Record] = [
        (1, decisions[0]),
        (2, RequestError("system", "unknown system 'x'")),
        (3, decisions[1]),
        (4, decisions[0]),
    ]
    assert _as_records(json_bytes(records).decode()) == _expected(records)


def test_the_parts_held_stay_bounded_and_right(
    screener: Screener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for two judgements, a stream of many keeps at most two, and each record is
    still its own: a part is never another judgement's."""
    monkeypatch.setattr(screen_stream, "_PARTS_HELD", 2)
    monkeypatch.setattr(screen_stream, "_parts_held", {})
    requests = [
        parse_request(
            {
                "action": "employ",
                "requester": "UA",
                "system": system,
                "quantity": 1,
                "target": {"territory": "RU"},
                "date": "2025-06-15",
            }
        )
        for system in SYSTEMS
    ]
    decisions: list[Decision] = screener.decide_many(
        requests, decision_ids=[str(i) for i in range(len(requests))], now=dt.datetime.now(dt.UTC)
    )
    assert sum(len(d.judgements) for d in decisions) > 2
    records: list[Record] = list(enumerate(decisions, start=1))
    for _ in range(2):
        assert _as_records(json_bytes(records).decode()) == _expected(records)
        assert len(screen_stream._parts_held) <= 2


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-(2**80), 2**80) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
"""What the parts of a record written by orjson hold: no floats (the parts that hold value
shares keep the standard encoder, ``screen_stream._fast``), any text, any integer."""


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES)
def test_what_orjson_writes_is_what_the_standard_encoder_writes(value: object) -> None:
    """Escapes, line separators, control characters, astral characters, integers beyond 64
    bits (which orjson refuses, so the standard encoder writes them): the same bytes."""
    assert screen_stream._fast(value) == _encode(value).encode()
