"""The rules of canonical JSON and its digest, stated on the pure code (``core.digest``).

Digests identify requests, decisions and policy bundles, and signatures are
taken over canonical JSON (RFC 8785, docs/verifying.md): these state the exact
bytes and digests, and when ``canonical_json_with`` splices in members already
encoded and when it encodes the whole again.
"""

from __future__ import annotations

import hashlib

import pytest

from clearance.core.digest import (
    ENCODING,
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
