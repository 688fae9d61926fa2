"""Canonical JSON and its SHA-256 digest.

Digests identify requests, catalogs and policy bundles by content. They must be
the same on every machine and in every later version, so the encoding is fixed
here once: keys sorted, no insignificant white space, UTF-8, no NaN.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_digest", "canonical_json", "sha256_hex"]


def canonical_json(value: Any) -> bytes:
    """The one byte encoding of a JSON-ready value that every digest is taken over."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_digest(value: Any) -> str:
    """``sha256:<hex>`` over the canonical JSON of ``value``."""
    return sha256_hex(canonical_json(value))
