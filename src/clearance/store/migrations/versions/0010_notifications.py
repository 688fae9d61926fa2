"""Notifications: subscriptions (bound to the ledger) and the outbox (working state).

``subscriptions`` holds who is told of which kinds of event, by e-mail or
webhook: a user, or an office's shared address with the clearance it may be
told of. Each row is recorded on the ledger (``subscription_added``,
``subscription_ended``), so ``audit verify`` names a row added, changed or
removed behind clearance's back.

``outbox`` holds one row per notification to deliver, written in the
transaction of the event it tells of; a dispatcher takes due rows under a
lease and records each attempt's outcome on the row. The index on (state,
next_at) finds the due rows.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("office", sa.String(80), nullable=True),
        sa.Column("clearance", sa.SmallInteger(), nullable=True),
        sa.Column("kinds", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        _time("created_at"),
        sa.Column("created_by", sa.String(64), nullable=False),
        _time("ended_at", nullable=True),
    )
    op.create_index("ix_subscriptions_user_id", "subscriptions", ["user_id"])
    op.create_index("ix_subscriptions_office", "subscriptions", ["office"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "subscription_id", sa.String(40), sa.ForeignKey("subscriptions.id"), nullable=False
        ),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("case_id", sa.String(40), nullable=True),
        sa.Column("case_number", sa.BigInteger(), nullable=True),
        sa.Column("about", sa.String(200), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("seal", sa.String(100), nullable=False),
        _time("created_at"),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_at"),
        sa.Column("leased_by", sa.String(100), nullable=True),
        _time("lease_until", nullable=True),
        _time("last_attempt_at", nullable=True),
        _time("delivered_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_at"])
    op.create_index("ix_outbox_subscription_id", "outbox", ["subscription_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_subscription_id", "outbox")
    op.drop_index("ix_outbox_due", "outbox")
    op.drop_table("outbox")
    op.drop_index("ix_subscriptions_office", "subscriptions")
    op.drop_index("ix_subscriptions_user_id", "subscriptions")
    op.drop_table("subscriptions")
