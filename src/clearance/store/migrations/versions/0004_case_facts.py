"""Facts of a case kept in columns, so that lists, searches and charts are one query each.

``system`` and ``requester`` (from the request) make a search by system or
party an indexed lookup instead of reading every request; ``decided_at`` and
``decided_as`` (when the case was first decided, and how: approved, approved
with conditions or denied) make decisions per month a GROUP BY; ``due_at``
(when a case in review passes its SLA) makes the overdue list an index range;
an index on age alone serves the list of every case, oldest first; covering
indexes let the dashboard's summaries read no table rows. For cases
stored before this migration, the decision time is taken as the time the
case entered its present state, and a cleared or executed case counts as
approved with conditions or approved: the ledger keeps the exact history.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_DECIDED = {
    "approved": "approved",
    "approved_with_conditions": "approved_with_conditions",
    "denied": "denied",
    "cleared": "approved_with_conditions",
    "executed": "approved",
}


def upgrade() -> None:
    with op.batch_alter_table("cases") as cases:
        cases.add_column(sa.Column("system", sa.String(80), nullable=False, server_default=""))
        cases.add_column(sa.Column("requester", sa.String(40), nullable=False, server_default=""))
        cases.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        cases.add_column(sa.Column("decided_as", sa.String(40), nullable=True))
        cases.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    table = sa.table(
        "cases",
        sa.column("id", sa.String),
        sa.column("request", sa.Text),
        sa.column("state", sa.String),
        sa.column("state_since", sa.DateTime(timezone=True)),
        sa.column("system", sa.String),
        sa.column("requester", sa.String),
        sa.column("decided_at", sa.DateTime(timezone=True)),
        sa.column("decided_as", sa.String),
        sa.column("sla_days", sa.Integer),
        sa.column("due_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(table.c.id, table.c.request, table.c.state, table.c.state_since, table.c.sla_days)
    ).all()
    for case_id, request, state, since, sla_days in rows:
        facts = json.loads(request)
        decided = _DECIDED.get(state)
        connection.execute(
            table.update()
            .where(table.c.id == case_id)
            .values(
                system=facts.get("system", ""),
                requester=facts.get("requester", ""),
                decided_at=since if decided else None,
                decided_as=decided,
                due_at=since + dt.timedelta(days=sla_days) if state == "in_review" else None,
            )
        )
    op.create_index("ix_cases_system", "cases", ["system"])
    op.create_index("ix_cases_requester", "cases", ["requester"])
    op.create_index(
        "ix_cases_open_summary", "cases", ["is_open", "state", "created_at", "classification"]
    )
    op.create_index("ix_cases_decisions", "cases", ["decided_at", "decided_as", "classification"])
    op.create_index("ix_cases_submitter", "cases", ["submitted_by", "created_at"])
    op.create_index("ix_cases_due", "cases", ["state", "due_at"])
    op.create_index("ix_cases_age", "cases", ["created_at", "number"])


def downgrade() -> None:
    op.drop_index("ix_cases_age", table_name="cases")
    op.drop_index("ix_cases_due", table_name="cases")
    op.drop_index("ix_cases_submitter", table_name="cases")
    op.drop_index("ix_cases_decisions", table_name="cases")
    op.drop_index("ix_cases_open_summary", table_name="cases")
    op.drop_index("ix_cases_requester", table_name="cases")
    op.drop_index("ix_cases_system", table_name="cases")
    with op.batch_alter_table("cases") as cases:
        cases.drop_column("due_at")
        cases.drop_column("decided_as")
        cases.drop_column("decided_at")
        cases.drop_column("requester")
        cases.drop_column("system")
