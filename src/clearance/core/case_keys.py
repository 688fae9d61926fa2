"""What a stored case is grouped by when history is judged again, kept in columns of its own.

Replay under a candidate bundle judges every stored case of a period, and most
of them ask what others asked, on another date or for another quantity.
Reading each case's request and decision back from their JSON was most of what
replay cost; these columns let it recognise a case it has, in effect, already
judged without reading either:

- the request's *shape*: the digest of the request with its date and quantity
  left out (what is asked, by whom, of which system, against or for whom);
- the date it is asked for, and the quantity, beside it;
- the digest of the stockpile facts its decision was judged on, if any.

They are copies of the record, written with the case and checked against the
ledger by ``audit verify`` like every other copy (service/state_check.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clearance.core.digest import canonical_digest
from clearance.core.stockpile import StockpileFacts

__all__ = ["LEFT_OUT_OF_SHAPE", "recorded_stockpile_digest", "request_shape", "stockpile_digest"]

LEFT_OUT_OF_SHAPE = frozenset({"date", "quantity"})
"""The members of a request its shape leaves out: each has a column of its own."""


def request_shape(request: Mapping[str, Any]) -> str:
    """The digest of ``request`` (as JSON holds it) less its date and quantity."""
    return canonical_digest({k: v for k, v in request.items() if k not in LEFT_OUT_OF_SHAPE})


def stockpile_digest(facts: StockpileFacts | None) -> str | None:
    """The digest of the stockpile facts a decision was judged on (their ``as_dict``)."""
    return None if facts is None else canonical_digest(facts.as_dict())


def recorded_stockpile_digest(decision: Mapping[str, Any]) -> str | None:
    """``stockpile_digest`` of the facts a decision record holds, read as replay reads them;
    of the member as it stands, where it does not read as facts (a record changed since)."""
    facts = decision.get("stockpile")
    if facts is None:
        return None
    try:
        return stockpile_digest(StockpileFacts.from_dict(facts))
    except (KeyError, TypeError, ValueError, AttributeError):
        return canonical_digest(facts)
