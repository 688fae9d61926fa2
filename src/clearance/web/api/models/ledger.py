"""The ledger as the API shows it: events, a verification report, checkpoints, the key."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from . import Body, Recorded

__all__ = ["CheckpointBody", "LedgerEvent", "PublicKey", "StoredCheckpoint", "VerifyReport"]


class LedgerEvent(Recorded):
    """An event: where it sits in the chain, then its body's keys as recorded."""

    seq: int
    case_id: str | None
    hash: str
    actor: str
    at: str
    payload: dict[str, Any] = Field(description="What happened; its keys depend on ``type``.")
    type: str


class Problem(Body):
    seq: int | None = Field(description="The first event it concerns; None: no single one.")
    problem: str


class VerifyReport(Body):
    """What checking the whole chain found."""

    ok: bool
    events: int
    head: str
    first_bad_seq: int | None
    problem: str
    problems: list[Problem]
    anchored_to: int
    checkpoints_checked: int
    seals_checked: int
    rows_checked: int
    file_checked: bool = Field(
        description="Whether the database checked its own file (SQLite's integrity check)."
    )
    unverifiable: int
    redacted: int
    system_key: str | None
    system_key_source: str | None


class CheckpointBody(Body):
    """A signed statement that the ledger had ``seq`` events ending in ``head`` at ``at``."""

    seq: int
    head: str
    at: str
    statement: str
    signature: str
    public_key: str


class StoredCheckpoint(CheckpointBody):
    """A checkpoint kept in the database, with what made it (``interval``, ``on demand``, …)."""

    reason: str


class PublicKey(Body):
    system_public_key: str | None = Field(description="None until the installation has one.")
