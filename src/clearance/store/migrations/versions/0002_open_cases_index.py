"""Open cases, oldest first, from one index: an ``is_open`` flag kept with the state.

Listing open cases filtered on three states and sorted by age made the
database sort every open case for each page; with the flag first in the
index, a page is a walk of its first entries.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OPEN = ("submitted", "in_review", "approved_with_conditions")


def upgrade() -> None:
    op.add_column(
        "cases", sa.Column("is_open", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    cases = sa.table("cases", sa.column("state", sa.String), sa.column("is_open", sa.Boolean))
    op.execute(cases.update().values(is_open=cases.c.state.in_(_OPEN)))
    op.drop_index("ix_cases_open_age", table_name="cases")
    op.create_index("ix_cases_state_age", "cases", ["state", "created_at", "number"])
    op.create_index("ix_cases_open_age", "cases", ["is_open", "created_at", "number"])


def downgrade() -> None:
    op.drop_index("ix_cases_open_age", table_name="cases")
    op.drop_index("ix_cases_state_age", table_name="cases")
    op.create_index("ix_cases_open_age", "cases", ["state", "created_at"])
    op.drop_column("cases", "is_open")
