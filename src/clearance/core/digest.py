"""Canonical JSON and its SHA-256 digest.

Digests identify requests, decisions, catalogs and policy bundles by content,
and signatures are taken over statements: both must come out the same on
every machine, in every later version and in every language. The encoding is
the JSON Canonicalization Scheme of RFC 8785 (the ``rfc8785`` package), which
anyone can reproduce from the RFC alone (docs/verifying.md).

Versions: ledger events of scheme 1 (before RFC 8785 was adopted) were
encoded with Python's ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``. For every value clearance ever stored (strings,
integers, booleans, null, lists and objects with ASCII keys; no non-integer
numbers) that text is byte for byte RFC 8785's, so their digests are
reproduced by RFC 8785 too; a verifier never re-encodes an event's body, it
hashes the text stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import rfc8785

__all__ = ["ENCODING", "canonical_digest", "canonical_json", "canonical_json_with", "sha256_hex"]

ENCODING = "RFC 8785"
"""The name of the encoding, as docs/verifying.md gives it."""


def canonical_json(value: Any) -> bytes:
    """The one byte encoding of a JSON-ready value that every digest and signature is taken over.

    Raises ``ValueError`` for what RFC 8785 cannot encode (integers beyond
    2**53 - 1, NaN, non-string keys); inputs are checked before they get here.
    """
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_digest(value: Any) -> str:
    """``sha256:<hex>`` over the canonical JSON of ``value``."""
    return sha256_hex(canonical_json(value))


def canonical_json_with(value: dict[str, Any], within: str, known: Mapping[str, str]) -> str:
    """``canonical_json(value)`` as text, where ``known`` gives the canonical text of some
    members of the object ``value[within]``, already encoded: spliced in, not encoded again.

    RFC 8785 orders an object's members by their keys alone, so a member's text does not
    depend on what surrounds it: each known member is encoded as a marker, and the marker's
    text replaced by the member's. A marker found other than once (a value holding the
    marker's text) falls back to encoding the whole. ``known`` must be what
    ``canonical_json`` gives for those members: the caller encoded them with it.
    """
    marks = {key: f"\x00clearance-known-member\x00{key}" for key in known}
    text = canonical_json({**value, within: {**value[within], **marks}}).decode()
    for key, mark in marks.items():
        quoted = canonical_json(mark).decode()
        if text.count(quoted) != 1:
            return canonical_json(value).decode()
        text = text.replace(quoted, known[key])
    return text
