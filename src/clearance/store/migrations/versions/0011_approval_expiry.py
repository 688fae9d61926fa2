"""Approval lifetimes: when an approved case's approval lapses unless it is executed.

``expires_at`` is set when a case is approved (at once or by its last gate),
from the lifetimes the bundles that decided it give an approval
(policy/bundle.py, ``approval_lifetime``), kept while its conditions are met,
and cleared by every other move. It is a copy of the time the ledger fixes in
the ``case_state_changed`` event of the approval, as ``due_at`` is of a
review's. The index on it makes finding the approvals that have lapsed
(``clearance cases expire``, and a running server every few minutes) one
index range. Cases approved before this migration have no lifetime.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as cases:
        cases.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        cases.create_index("ix_cases_expiry", ["expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as cases:
        cases.drop_index("ix_cases_expiry")
        cases.drop_column("expires_at")
