"""Stock movements and their running totals, for stockpile sufficiency ratings.

``stock_movements`` is the ledger of every change to a party's stock of a
system made by cases (commitments, deliveries, uses); an index on (holder,
system, day) makes the balance of one position on a past day one range sum.
``stock_totals`` holds each position's sum so far, kept in the transaction
that moves stock, so the board reads one row per position however many
movements there are.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_movements",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("holder", sa.String(40), nullable=False),
        sa.Column("system", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), nullable=True),
    )
    op.create_index(
        "ix_stock_movements_position_day", "stock_movements", ["holder", "system", "day"]
    )
    op.create_index("ix_stock_movements_case_id", "stock_movements", ["case_id"])
    op.create_table(
        "stock_totals",
        sa.Column("holder", sa.String(40), primary_key=True),
        sa.Column("system", sa.String(120), primary_key=True),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("committed", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stock_totals")
    op.drop_index("ix_stock_movements_case_id", "stock_movements")
    op.drop_index("ix_stock_movements_position_day", "stock_movements")
    op.drop_table("stock_movements")
