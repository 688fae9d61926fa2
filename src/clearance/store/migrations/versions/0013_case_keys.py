"""The columns replay groups stored cases by (core/case_keys.py), so that it judges again
without reading each case's JSON.

``asked_on`` and ``quantity`` are the request's date and quantity; ``request_shape`` the
digest of the request less those two; ``stockpile_digest`` the digest of the stockpile
facts the case's decision was judged on. Existing cases get them from their stored request
and decision; a case whose request does not read gets none, and replay reads it whole as
before (``audit verify`` names it).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from clearance.core.digest import canonical_digest
from clearance.core.stockpile import StockpileFacts

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _read(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _facts_digest(decision: Any) -> str | None:
    """The digest of the facts as replay reads them (``StockpileFacts``), or None."""
    facts = decision.get("stockpile") if isinstance(decision, dict) else None
    if facts is None:
        return None
    try:
        return canonical_digest(StockpileFacts.from_dict(facts).as_dict())
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _keys(request: Any, decision: Any) -> dict[str, Any] | None:
    """The four columns of a case whose request reads as one, else None."""
    if not isinstance(request, dict):
        return None
    date, quantity = request.get("date"), request.get("quantity")
    if not isinstance(date, str) or type(quantity) is not int:
        return None
    try:
        dt.date.fromisoformat(date)
        shape = canonical_digest(
            {k: v for k, v in request.items() if k not in ("date", "quantity")}
        )
    except (ValueError, TypeError, RecursionError):
        return None
    return {
        "asked_on": date,
        "quantity": quantity,
        "request_shape": shape,
        "stockpile_digest": _facts_digest(decision),
    }


def upgrade() -> None:
    with op.batch_alter_table("cases") as cases:
        cases.add_column(sa.Column("asked_on", sa.String(10), nullable=True))
        cases.add_column(sa.Column("quantity", sa.BigInteger, nullable=True))
        cases.add_column(sa.Column("request_shape", sa.String(80), nullable=True))
        cases.add_column(sa.Column("stockpile_digest", sa.String(80), nullable=True))
    table = sa.table(
        "cases",
        sa.column("id", sa.String),
        sa.column("request", sa.Text),
        sa.column("decision", sa.Text),
        sa.column("asked_on", sa.String),
        sa.column("quantity", sa.BigInteger),
        sa.column("request_shape", sa.String),
        sa.column("stockpile_digest", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.request, table.c.decision)).all()
    for case_id, request, decision in rows:
        keys = _keys(_read(request), _read(decision))
        if keys is not None:
            connection.execute(table.update().where(table.c.id == case_id).values(**keys))


def downgrade() -> None:
    with op.batch_alter_table("cases") as cases:
        cases.drop_column("stockpile_digest")
        cases.drop_column("request_shape")
        cases.drop_column("quantity")
        cases.drop_column("asked_on")
