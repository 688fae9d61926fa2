"""A stream's line read straight by pydantic's JSON reader (``core.request.parse_request_json``)
is taken only when the exact reading (``cli.json_input.read_json_line``, then
``parse_request``) takes it too, as the same request: over generated lines, whole and
damaged, every shape JSON allows and some it does not."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.cli.json_input import read_json_line
from clearance.core.request import parse_request, parse_request_json
from clearance.errors import RequestError

from .test_request_rules import EMPLOY, TRANSFER

_FIELDS = sorted({*EMPLOY, *TRANSFER, "region"})

_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["UA", "RU", "US", "2025-06-15", "2025-6-15", "employ", "transfer", "1e3"])
    | st.sampled_from(["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31", "+10000-01-01"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def _lines(draw: st.DrawFn) -> bytes:
    """A request's JSON line, changed a field at a time and then, perhaps, as text."""
    value: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from([EMPLOY, TRANSFER]))))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        key = draw(st.sampled_from(_FIELDS) | st.text(max_size=6))
        if draw(st.booleans()):
            value.pop(key, None)
        else:
            value[key] = draw(_VALUES)
    text = json.dumps(value, ensure_ascii=draw(st.booleans()), allow_nan=True)
    damage = draw(
        st.sampled_from(
            [
                *("none", "none", "none", "twice", "surrogate", "bytes"),
                *("spaces", "mark", "cut", "deep", "huge"),
            ]
        )
    )
    if damage == "twice":  # a field given twice: the last one counts, in both readings
        key = draw(st.sampled_from(_FIELDS))
        text = text[:-1] + f', "{key}": {json.dumps(draw(_VALUES), allow_nan=True)}}}'
    elif damage == "surrogate":  # half of a surrogate pair, escaped, in some string
        text = text.replace('"atacms"', '"atacms\\ud800"').replace('"eram"', '"\\udc00eram"')
    elif damage == "spaces":
        text = (
            draw(st.sampled_from([" ", "\t", "\r", ""])) + text + draw(st.sampled_from([" ", "\r"]))
        )
    elif damage == "mark":
        text = "\ufeff" + text
    elif damage == "cut":
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
    elif damage == "huge":  # a field a megabyte long, or a number of 5,000 digits
        key = draw(st.sampled_from(["system", "quantity", "requester"]))
        value = '"' + "a" * 1_000_000 + '"' if key != "quantity" else "9" * 5_000
        text = text[:-1] + f', "{key}": {value}}}'
    elif damage == "deep":
        text = text[:-1] + ', "x": ' + "[" * 600 + "]" * 600 + "}"
    raw = text.encode("utf-8", "surrogatepass")
    if damage == "bytes":
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=3)) + raw[at:]
    return raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lines())
def test_a_line_the_json_reader_takes_is_the_request_the_exact_reading_makes(raw: bytes) -> None:
    fast = parse_request_json(raw)
    try:
        exact = parse_request(read_json_line(raw))
    except RequestError:
        assert fast is None
    else:
        assert fast is None or fast == exact


def test_a_whole_line_is_read_by_the_json_reader_alone() -> None:
    for value in (EMPLOY, TRANSFER, {**EMPLOY, "target": {"territory": "UA", "region": "UA-30"}}):
        raw = json.dumps(value).encode()
        assert parse_request_json(raw) == parse_request(read_json_line(raw))
        assert parse_request_json(raw) is not None
