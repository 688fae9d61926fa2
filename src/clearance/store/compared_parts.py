"""The parts of a stored case that replay compares, read without decoding the rest.

Replay reads every case of a period and uses three things of each recorded
decision: its outcome, its reasons and the stockpile facts it was judged on.
The record holds much more (every holder's judgement, the policy paths), and
decoding all of it with ``json`` was most of replay's time. Pydantic's JSON
reader, in Rust, picks out the three fields and makes no Python objects of the
rest; it reads the request the same way, straight from its text, where
``case_text.read_request`` decodes the text first and then validates it.

What is read is exactly what ``case_text`` reads: the same validator, and the
same conversions of the three fields as ``RecordedDecision.read``. Any text the
lean reading refuses is read again by ``case_text``, so what a damaged case
gives (an ``UnreadableRequest`` with its words, a ``PayloadError`` naming the
case) is the same too. One difference is deliberate: a record that lacks a
field replay does not compare is not refused here (``audit verify`` names it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from clearance.core.decision import Outcome
from clearance.core.request import StoredRequest, parse_request_json
from clearance.core.stockpile import StockpileFacts
from clearance.store.case_text import read_decision, read_request

__all__ = ["ComparedParts", "read_compared", "read_request_text"]


@dataclass(frozen=True, slots=True)
class ComparedParts:
    """What replay compares of a recorded decision (the fields of ``RecordedDecision``)."""

    outcome: Outcome
    reasons: tuple[str, ...]
    stockpile: StockpileFacts | None


class _Fields(BaseModel):
    """The three fields as JSON holds them; every other field is skipped unread."""

    model_config = ConfigDict(extra="ignore")

    outcome: Any
    reasons: Any = ()
    stockpile: Any = None


_CONVERSION = (ValueError, TypeError, KeyError, AttributeError, RecursionError)
"""What converting fields that do not hold what a decision records raises."""


def read_request_text(text: str) -> StoredRequest:
    """The stored request, as ``case_text.read_request`` reads it."""
    return parse_request_json(text) or read_request(text)


def read_compared(text: str, case_id: str) -> ComparedParts:
    """The outcome, reasons and stockpile facts of a stored decision, as
    ``case_text.read_decision`` reads them; its ``PayloadError`` for a damaged one."""
    try:
        fields = _Fields.model_validate_json(text)
        facts = fields.stockpile
        return ComparedParts(
            Outcome(fields.outcome),
            tuple(map(str, fields.reasons)),
            None if facts is None else StockpileFacts.from_dict(facts),
        )
    except (ValidationError, *_CONVERSION):
        decision = read_decision(text, case_id)
        return ComparedParts(decision.outcome, decision.reasons, decision.stockpile)
