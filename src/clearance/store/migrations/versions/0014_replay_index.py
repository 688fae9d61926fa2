"""Replay reads the columns it groups cases by from one index, not from the table.

The columns of migration 0013 sit at the end of each row, after the request's and
the decision's texts, so reading them read every case's texts from disk as well.
``ix_cases_replay`` holds them in case-number order: replay's first reading of a
period (``store/stored_cases.py``) is a walk of the index. ``ix_cases_undated`` holds
the few cases stored without an ``asked_on``, which a period still finds by the date
in their request's JSON; new cases never enter it.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_KEYED = ["number", "outcome", "asked_on", "quantity", "request_shape", "stockpile_digest"]


def upgrade() -> None:
    op.create_index("ix_cases_replay", "cases", _KEYED)
    undated = sa.text("asked_on IS NULL")
    op.create_index(
        "ix_cases_undated", "cases", ["number"], sqlite_where=undated, postgresql_where=undated
    )


def downgrade() -> None:
    op.drop_index("ix_cases_undated", table_name="cases")
    op.drop_index("ix_cases_replay", table_name="cases")
