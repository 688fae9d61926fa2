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
from typing import Any

import rfc8785

__all__ = ["ENCODING", "canonical_digest", "canonical_json", "sha256_hex"]

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
