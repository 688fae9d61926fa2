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

That equality is also why ``canonical_json`` is fast: a value of that plain
shape (checked, not assumed; fractions such as a holder's share included) is
written by the standard library's C encoder, and anything else (a whole,
very large or very small float, a non-ASCII key, an integer beyond
2**53 - 1, a subclass, a tuple, a string with a lone surrogate) by
``rfc8785``, the reference. ``rfc8785`` is pure Python: about 10 µs for a request and 160 for a
decision record, where the check and the C encoder take about a third of that
(docs/benchmarks.md). A property test holds the two paths to the same bytes
(tests/test_digest_rules.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import rfc8785

__all__ = ["ENCODING", "canonical_digest", "canonical_json", "canonical_json_with", "sha256_hex"]

ENCODING = "RFC 8785"
"""The name of the encoding, as docs/verifying.md gives it."""

_SAFE_INTEGER = 2**53 - 1
_PLAIN_DEPTH = 64
_plain_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
).encode


def _plain(value: Any, depth: int = 0) -> bool:  # pragma: no mutate
    """Whether ``value`` has the shape for which sorted, compact standard JSON is RFC 8785:
    exact ``str``, ``bool``, ``None``, ``int`` within 2**53 - 1, a ``float`` with a fraction
    written without an exponent (a consent holder's share), ``list``, and ``dict``
    with ASCII string keys (code point order is then UTF-16 order), not nested deeper
    than the encoder needs to be careful about."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_SAFE_INTEGER <= value <= _SAFE_INTEGER)  # pragma: no mutate
    if kind is float:
        # Python's repr and ECMAScript's Number.toString give the same shortest digits (rfc8785
        # itself starts from repr); they agree on the notation too for a fraction whose
        # magnitude is within [1e-4, 1e16). Integral floats (repr "2.0", RFC "2") and the
        # exponent forms go to rfc8785.
        return bool(1e-4 <= abs(value) < 1e16) and not value.is_integer()  # pragma: no mutate
    if depth >= _PLAIN_DEPTH:  # pragma: no mutate
        return False
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            # text needs no call
            if type(item) is not str and not _plain(item, depth + 1):  # pragma: no mutate
                return False
        return True
    if kind is list:
        return all(type(x) is str or _plain(x, depth + 1) for x in value)  # pragma: no mutate
    return False


def canonical_json(value: Any) -> bytes:
    """The one byte encoding of a JSON-ready value that every digest and signature is taken over.

    Raises ``ValueError`` for what RFC 8785 cannot encode (integers beyond
    2**53 - 1, NaN, non-string keys, lone surrogates); inputs are checked before
    they get here.
    """
    if _plain(value):
        try:
            return _plain_encode(value).encode()
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 refuses it in its own words
            pass
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
