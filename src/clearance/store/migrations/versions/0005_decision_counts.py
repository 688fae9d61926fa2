"""Decisions counted per month, kind and level as they happen, for the dashboard's chart.

Counting the decisions of the last year from the cases read every one of
them; this table holds one row per (month, kind, level), kept up to date in
the transaction that decides a case, so the chart reads a few dozen rows
whatever the number of cases. Filled here from the cases already decided.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counts = op.create_table(
        "decision_counts",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("level", sa.SmallInteger(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    cases = sa.table(
        "cases",
        sa.column("decided_at", sa.DateTime(timezone=True)),
        sa.column("decided_as", sa.String),
        sa.column("classification", sa.SmallInteger),
    )
    found: Counter[tuple[str, str, int]] = Counter()
    rows = op.get_bind().execute(
        sa.select(cases.c.decided_at, cases.c.decided_as, cases.c.classification).where(
            cases.c.decided_at.is_not(None)
        )
    )
    for decided_at, kind, level in rows:
        found[(f"{decided_at:%Y-%m}", kind, level)] += 1
    if found:
        op.bulk_insert(
            counts,
            [
                {"month": month, "kind": kind, "level": level, "count": n}
                for (month, kind, level), n in found.items()
            ],
        )


def downgrade() -> None:
    op.drop_table("decision_counts")
