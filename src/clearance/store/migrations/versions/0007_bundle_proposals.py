"""Proposed policy bundles, their golden-case results and their signed activation.

A policy change is proposed with its files, tested against the pack's golden
cases, and activated from a date by the office the holder's bundle in force
names; the row keeps the files exactly as proposed and the activator's signed
statement over their revision.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundle_proposals",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("number", sa.Integer(), nullable=False, unique=True),
        sa.Column("holder", sa.String(40), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("revision", sa.String(80), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("tests", sa.Text(), nullable=False),
        sa.Column("tests_passed", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("proposed_by", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_by", sa.String(64), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("authority", sa.String(80), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("signature", sa.String(200), nullable=True),
    )
    op.create_index("ix_bundle_proposals_state", "bundle_proposals", ["state"])


def downgrade() -> None:
    op.drop_index("ix_bundle_proposals_state", "bundle_proposals")
    op.drop_table("bundle_proposals")
