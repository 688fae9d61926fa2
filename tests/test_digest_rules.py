"""The rules of canonical JSON and its digest, stated on the pure code (``core.digest``).

Digests identify requests, decisions and policy bundles, and signatures are
taken over canonical JSON (RFC 8785, docs/verifying.md): these state the exact
bytes and digests, and when ``canonical_json_with`` splices in members already
encoded and when it encodes the whole again; and that the fast path for plain values
(the standard library's encoder) writes RFC 8785's bytes, byte for byte, as ``rfc8785``
does for everything else.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.core.digest import (
    ENCODING,
    _plain,
    canonical_digest,
    canonical_json,
    canonical_json_with,
    sha256_hex,
)

VALUE = {"z": [3, "é", None, True], "a": {"y": 1, "b": "x"}}
CANONICAL = b'{"a":{"b":"x","y":1},"z":[3,"\xc3\xa9",null,true]}'


def test_the_encoding_is_rfc_8785() -> None:
    assert ENCODING == "RFC 8785"


def test_canonical_json_sorts_keys_with_no_spaces_in_utf8() -> None:
    assert canonical_json(VALUE) == CANONICAL


def test_canonical_json_refuses_what_rfc_8785_cannot_encode() -> None:
    with pytest.raises(ValueError, match=r"^9007199254740992 exceeds safe integer domain"):
        canonical_json(2**53)


def test_a_digest_is_sha256_in_lower_case_hex_after_its_name() -> None:
    assert sha256_hex(b"abc") == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert canonical_digest(VALUE) == "sha256:" + hashlib.sha256(CANONICAL).hexdigest()


def test_members_already_encoded_are_spliced_in_as_given() -> None:
    value = {"kind": "case", "body": {"b": "kept", "a": 1, "c": [2]}}
    text = canonical_json_with(value, "body", {"b": '"spliced"', "c": "[9]"})
    assert text == '{"body":{"a":1,"b":"spliced","c":[9]},"kind":"case"}'


def test_members_encoded_as_canonical_json_give_canonical_json() -> None:
    value = {"kind": "case", "body": {"b": {"é": [1, 2]}, "a": 1}}
    known = {"b": canonical_json(value["body"]["b"]).decode()}
    assert canonical_json_with(value, "body", known) == canonical_json(value).decode()


def test_with_nothing_known_it_is_canonical_json() -> None:
    value = {"kind": "case", "body": {"a": 1}}
    assert canonical_json_with(value, "body", {}) == '{"body":{"a":1},"kind":"case"}'


def test_a_value_holding_a_markers_text_is_encoded_whole_instead() -> None:
    marker = "\x00clearance-known-member\x00b"
    value = {"kind": marker, "body": {"b": "kept", "a": 1}}
    text = canonical_json_with(value, "body", {"b": '"spliced"'})
    assert text == canonical_json(value).decode()
    assert text == '{"body":{"a":1,"b":"kept"},"kind":"\\u0000clearance-known-member\\u0000b"}'


# The plain path and rfc8785 ------------------------------------------------------

_keys = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=6),
    st.text(max_size=4),  # any code point, astral and lone surrogates included
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) - 2, max_value=2**53 + 2),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-5, max_value=1e17),  # around the edges of the plain notation
    st.sampled_from([1e-4, 0.0001000001, 9.999e15, 1e16, 0.1, 0.3, 1 / 3, 2.0, -0.25]),
    st.text(max_size=8),
    st.text(alphabet=st.characters(max_codepoint=0x20), max_size=4),  # control characters
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_keys, inner, max_size=4),
    ),
    max_leaves=20,
)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)
    except ValueError:
        return ValueError


def _ours(value: Any) -> bytes | type[Exception]:
    try:
        return canonical_json(value)
    except ValueError:
        return ValueError


@settings(max_examples=200, deadline=None)
@given(_values)
def test_canonical_json_is_rfc8785_byte_for_byte_or_refused_as_rfc8785_refuses(
    value: Any,
) -> None:
    assert _ours(value) == _reference(value)


def test_a_plain_value_takes_the_fast_path_and_is_rfc8785() -> None:
    """A request's shape is plain: the fast path is what writes every request's digest."""
    request: dict[str, Any] = {
        "action": "transfer",
        "requester": "US",
        "recipient": "UA",
        "system": "eram",
        "quantity": 3350,
        "value_usd": 825_000_000,
        "funding": None,
        "date": "2025-08-28",
        "notes": ["line\nbreak", 'quote " and \\ slash', "\x01\x1f\x7f", "Київ ✓ 😀"],
        "flags": {"b": True, "a": False},
        "shares": [0.3, 1 / 3, -0.25, 0.0001, 123456789.25],
    }
    assert _plain(request)
    assert canonical_json(request) == rfc8785.dumps(request)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({"\ue000": 1, "\U0001f600": 2}, "UTF-16 order differs from code point order"),
        ({"é": 1}, "a non-ASCII key"),
        ([2.0], "a whole float"),
        ([1e-5], "a float written with an exponent"),
        ([1e16], "a float written with an exponent"),
        ([2**53], "an integer beyond 2**53 - 1"),
        ((1, 2), "a tuple"),
        ({1: "a"}, "a key that is not text"),
    ],
)
def test_a_value_of_another_shape_goes_to_rfc8785(value: Any, why: str) -> None:
    assert not _plain(value), why
    assert _ours(value) == _reference(value)


def test_keys_are_ordered_by_utf16_code_units_not_code_points() -> None:
    """RFC 8785 3.2.3: U+1F600 is the surrogate pair D83D DE00, which sorts before U+E000."""
    assert canonical_json({"\ue000": 1, "\U0001f600": 2}) == (
        '{"\U0001f600":2,"\ue000":1}'.encode()
    )


def test_a_string_enum_member_is_written_as_its_value() -> None:
    class Colour(enum.StrEnum):
        RED = "red"

    assert not _plain(Colour.RED)
    assert canonical_json({"colour": Colour.RED}) == b'{"colour":"red"}'


@pytest.mark.parametrize(
    "value",
    [[2**53], [-(2**53)], ["\ud800"], {"k": float("nan")}, {"k": float("inf")}, {1: 2}],
    ids=["big-int", "big-negative-int", "lone-surrogate", "nan", "infinity", "int-key"],
)
def test_what_rfc8785_cannot_encode_is_refused(value: Any) -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical_json(value)


def test_nesting_deeper_than_the_plain_check_still_encodes_the_same() -> None:
    value: Any = "leaf"
    for _ in range(80):
        value = {"k": [value]}
    assert not _plain(value)
    assert canonical_json(value) == rfc8785.dumps(value)


def test_the_digest_is_sha256_of_the_canonical_text() -> None:
    assert canonical_digest({"b": 1, "a": [True, None]}) == (
        "sha256:" + hashlib.sha256(b'{"a":[true,null],"b":1}').hexdigest()
    )
