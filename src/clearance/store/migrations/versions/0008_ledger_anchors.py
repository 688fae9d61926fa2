"""Ledger anchors: the link scheme and seal of every event, and signed checkpoints.

Events already on the ledger keep scheme 1 and have no seal: their hashes
are unchanged, so they verify as before, and the first checkpoint after the
upgrade (``clearance init`` writes one) vouches for them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing events are of scheme 1; new ones always name theirs.
    op.add_column(
        "ledger", sa.Column("scheme", sa.SmallInteger(), nullable=False, server_default="1")
    )
    op.add_column("ledger", sa.Column("seal", sa.String(100), nullable=True))
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.String(80), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.Column("public_key", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
    )
    op.create_index("ix_checkpoints_seq", "checkpoints", ["seq"])


def downgrade() -> None:
    op.drop_index("ix_checkpoints_seq", "checkpoints")
    op.drop_table("checkpoints")
    with op.batch_alter_table("ledger") as batch:
        batch.drop_column("seal")
        batch.drop_column("scheme")
