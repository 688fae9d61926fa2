"""Users, offices, delegations, cases, approvals, conditions and the ledger.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("party", sa.String(40), nullable=False),
        sa.Column("public_key", sa.String(100), nullable=False),
        _time("created_at"),
    )
    op.create_table(
        "holdings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("authority", sa.String(80), nullable=False, index=True),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
    )
    op.create_table(
        "delegations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("authority", sa.String(80), nullable=False, index=True),
        sa.Column("holder_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("delegate_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("number", sa.BigInteger, nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
        sa.Column("submitted_by", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("request_digest", sa.String(80), nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("sla_days", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _time("created_at"),
        _time("state_since"),
    )
    op.create_index("ix_cases_open_age", "cases", ["state", "created_at"])
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("authority", sa.String(80), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("on_behalf_of", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
        _time("at"),
        sa.UniqueConstraint("case_id", "authority"),
    )
    op.create_table(
        "conditions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        _time("met_at", nullable=True),
        sa.Column("met_by", sa.String(64), nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.UniqueConstraint("case_id", "text"),
    )
    op.create_table(
        "ledger",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.String(40), nullable=True, index=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("prev_hash", sa.String(80), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("hash", sa.String(80), nullable=False, unique=True),
    )


def downgrade() -> None:
    for table in ("ledger", "conditions", "approvals", "cases", "delegations", "holdings", "users"):
        op.drop_table(table)
