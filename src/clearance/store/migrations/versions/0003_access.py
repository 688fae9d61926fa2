"""Who sees and does what: roles, clearances, classification levels, sign-in.

Users get roles, a clearance level and an optional password hash; cases a
classification level (existing ones are UNCLASSIFIED, existing users keep
full access as requesters and reviewers with TOP SECRET clearance, as the
command line had it). Sessions, API tokens and failed sign-ins get tables.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(
            sa.Column("roles", sa.String(200), nullable=False, server_default="requester reviewer")
        )
        users.add_column(
            sa.Column("clearance", sa.SmallInteger(), nullable=False, server_default="3")
        )
        users.add_column(sa.Column("password_hash", sa.String(200), nullable=True))
    with op.batch_alter_table("cases") as cases:
        cases.add_column(
            sa.Column("classification", sa.SmallInteger(), nullable=False, server_default="0")
        )
    # A reader's page walks the open cases oldest first and skips, inside the index,
    # those above their clearance.
    op.drop_index("ix_cases_open_age", table_name="cases")
    op.create_index(
        "ix_cases_open_age", "cases", ["is_open", "created_at", "number", "classification"]
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(80), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(80), nullable=False),
        _time("created_at"),
        _time("expires_at"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("token_hash", sa.String(80), nullable=False, unique=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        _time("created_at"),
        _time("revoked_at", nullable=True),
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(64), nullable=False, index=True),
        _time("at"),
    )


def downgrade() -> None:
    op.drop_table("sign_in_failures")
    op.drop_table("api_tokens")
    op.drop_table("sessions")
    op.drop_index("ix_cases_open_age", table_name="cases")
    op.create_index("ix_cases_open_age", "cases", ["is_open", "created_at", "number"])
    with op.batch_alter_table("cases") as cases:
        cases.drop_column("classification")
    with op.batch_alter_table("users") as users:
        users.drop_column("password_hash")
        users.drop_column("clearance")
        users.drop_column("roles")
