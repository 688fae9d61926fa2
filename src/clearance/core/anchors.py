"""Seals and checkpoints: the system's own signatures that anchor the ledger. Pure code.

A hash chain shows any change inside it, but not a tail cut off, an event
appended by someone who recomputed its hash, or a whole chain rewritten. The
system key (one Ed25519 key per installation; its public half is given to
auditors and recorded on the ledger) closes those holes:

- a **seal** is the system's signature over one event's sequence number and
  hash, written with the event: an event appended without the key has no
  valid seal;
- a **checkpoint** is the system's signature over ``(seq, head, at)``: at that
  time the ledger had ``seq`` events ending in ``head``. Checkpoints are kept
  in the database, written out for others to keep, and the last seal this
  installation wrote is kept beside the database (the *witness*). A ledger
  shorter than an anchor, or whose hash at the anchor's sequence number
  differs, was cut or rewritten.

The system signs a checkpoint only over a ledger it has checked since the one
before, so a checkpoint vouches for every event up to it. A seal, and so the
witness, is written with each event whatever the ledger it extends: it shows
that its event is there, not that the events before it are the ones sealed.

Both statements are RFC 8785 JSON objects, so any language can rebuild the
signed bytes (docs/verifying.md).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from clearance.core.chain import GENESIS
from clearance.core.digest import canonical_digest, canonical_json
from clearance.core.signing import Signer, verify

__all__ = [
    "CHECKPOINT_EVERY",
    "Anchor",
    "Checkpoint",
    "Redaction",
    "check_anchors",
    "seal_message",
    "seal_valid",
]

SEAL_KIND = "clearance.seal"
CHECKPOINT_KIND = "clearance.checkpoint"

CHECKPOINT_EVERY = 1000
"""A checkpoint is written with every event whose sequence number is a multiple of this, so a
verifier never has to check more than this many seals after the last checkpoint."""


def seal_message(seq: int, hash: str) -> bytes:
    """The bytes an event's seal signs."""
    return canonical_json({"kind": SEAL_KIND, "seq": seq, "hash": hash})


def seal_valid(public_key: str, seq: int, hash: str, seal: str | None) -> bool:
    return bool(seal) and verify(public_key, seal_message(seq, hash), str(seal))


@dataclass(frozen=True, slots=True)
class Anchor:
    """A ``(seq, head)`` pair the system signed, which the chain must contain; ``source`` says
    in words where it comes from, for the report. ``vouches``: whether it also vouches for
    the events before it (a checkpoint), or only that event ``seq`` is there (the witness)."""

    seq: int
    head: str
    source: str
    vouches: bool = True


def _statement_problem(
    statement: str, signature: str, told: dict[str, Any], trusted_key: str
) -> str | None:
    """Why a signed statement is not the system's word for ``told``, or None when it is."""
    # A lone surrogate cannot be in what the system signed: its bytes then match nothing.
    if not verify(trusted_key, statement.encode(errors="surrogatepass"), signature):
        return "its signature does not verify against the system's public key"
    try:
        signed = json.loads(statement)
    except ValueError:
        return "its statement is not JSON"
    return None if signed == told else "its statement does not say what its fields say"


_Signed = TypeVar("_Signed", "Checkpoint", "Redaction")
_KINDS: dict[str, type] = {"int": int, "str": str}


def _read(cls: type[_Signed], data: object, what: str) -> _Signed:
    """A signed statement read back from a file: every field there, of its type;
    ``ValueError`` names the first that is not."""
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be a JSON object")
    values: dict[str, Any] = {}
    for field in fields(cls):
        kind = _KINDS[str(field.type)]
        value = data.get(field.name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"'{field.name}' is missing or not a {kind.__name__}")
        values[field.name] = value
    return cls(**values)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that the ledger had ``seq`` events ending in ``head`` at ``at``."""

    seq: int
    head: str
    at: str
    statement: str
    signature: str
    public_key: str

    @classmethod
    def sign(
        cls, *, seq: int, head: str, at: dt.datetime, signer: Signer, public_key: str
    ) -> Checkpoint:
        when = at.astimezone(dt.UTC).isoformat()
        statement = canonical_json(
            {"kind": CHECKPOINT_KIND, "seq": seq, "head": head, "at": when}
        ).decode()
        return cls(seq, head, when, statement, signer(statement.encode()), public_key)

    def problem(self, trusted_key: str) -> str | None:
        """Why this checkpoint cannot be trusted under ``trusted_key``, or None when it can."""
        texts = (self.head, self.at, self.statement, self.signature)
        if not isinstance(self.seq, int) or not all(isinstance(t, str) for t in texts):
            return "it is damaged: a field is missing or not of its type"
        told = {"kind": CHECKPOINT_KIND, "seq": self.seq, "head": self.head, "at": self.at}
        return _statement_problem(self.statement, self.signature, told, trusted_key)

    def anchor(self, where: str) -> Anchor:
        return Anchor(self.seq, self.head, f"the checkpoint of {self.at} ({where})")

    def as_dict(self) -> dict[str, Any]:
        """The checkpoint as a file holds it (``audit checkpoint --out``, exports)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Checkpoint:
        """A checkpoint read back; ``ValueError`` names the first field that is wrong."""
        return _read(cls, data, "a checkpoint")


REDACTION_KIND = "clearance.redaction"


@dataclass(frozen=True, slots=True)
class Redaction:
    """The system's signed word on what an export hides from its reader: of the events up to
    ``seq`` (ending in ``head``), for a reader cleared to ``level``, exactly those whose sequence
    numbers give the digest ``hidden``. Whoever carries the file cannot hide one more: an event
    the reader may see, redacted, makes the set differ."""

    seq: int
    head: str
    level: str
    hidden: str
    statement: str
    signature: str

    @staticmethod
    def digest(seqs: Iterable[int]) -> str:
        """The digest of a set of sequence numbers: of their canonical JSON list, ascending."""
        return canonical_digest(sorted(seqs))

    @classmethod
    def sign(
        cls, *, seq: int, head: str, level: str, hidden: Iterable[int], signer: Signer
    ) -> Redaction:
        digest = cls.digest(hidden)
        statement = canonical_json(
            {"kind": REDACTION_KIND, "seq": seq, "head": head, "level": level, "hidden": digest}
        ).decode()
        return cls(seq, head, level, digest, statement, signer(statement.encode()))

    def problem(self, trusted_key: str) -> str | None:
        """Why this statement cannot be trusted under ``trusted_key``, or None when it can."""
        told = {
            "kind": REDACTION_KIND,
            "seq": self.seq,
            "head": self.head,
            "level": self.level,
            "hidden": self.hidden,
        }
        return _statement_problem(self.statement, self.signature, told, trusted_key)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Redaction:
        """A redaction statement read back; ``ValueError`` names the first field that is wrong."""
        return _read(cls, data, "a redaction")


def check_anchors(
    length: int, seen: Mapping[int, str], anchors: Iterable[Anchor]
) -> tuple[int, tuple[int, str] | None]:
    """How far the chain of ``length`` events is vouched for, and the first anchor it does not
    hold.

    Returns the sequence number of the last anchor that vouches for the events
    before it (a checkpoint: ``Anchor.vouches``) held before any anchor that is
    not (0: none), and ``(seq, problem)`` for that one, or None when all hold.
    ``seen`` holds the chain's hash at each anchor's sequence number (the empty
    ledger, at 0, ends in the genesis hash). A rewrite lies between the last
    anchor held and the first that is not; a cut tail is named by the events
    that are missing.
    """
    held = vouched = 0
    for anchor in sorted(anchors, key=lambda a: a.seq):
        if anchor.seq > length:
            return vouched, (
                length + 1,
                f"events {length + 1} to {anchor.seq} are missing: {anchor.source} vouches"
                f" for event {anchor.seq}, and the ledger ends at {length}",
            )
        if seen.get(anchor.seq, GENESIS if anchor.seq == 0 else None) != anchor.head:
            return vouched, (
                anchor.seq,
                f"event {anchor.seq} is not the one {anchor.source} vouches for: the ledger"
                f" was rewritten between events {held + 1} and {anchor.seq}",
            )
        held = anchor.seq
        if anchor.vouches:
            vouched = anchor.seq
    return vouched, None
