"""Case search terms: the words a case is found by beyond its system and requester.

``case_terms`` holds, for each case, its target territory and region, its recipient,
the offices its decision says must approve it and the policies that decided it
(each as ``party/policy`` and as ``policy``), lower case, keyed by the word so that
a search stays an index lookup however many cases there are. Existing cases get
theirs from their stored request and decision; one whose text does not read gets
none (``audit verify`` names it).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _terms(request: Any, decision: Any) -> set[str]:
    """The words of ``store.case_text.search_terms`` as they were when this was written."""
    words: set[str] = set()
    if isinstance(request, dict):
        target = request.get("target")
        if isinstance(target, dict):
            words.update(str(target[k]) for k in ("territory", "region") if target.get(k))
        if request.get("recipient"):
            words.add(str(request["recipient"]))
    if isinstance(decision, dict):
        for approval in decision.get("required_approvals") or []:
            if isinstance(approval, dict) and approval.get("authority"):
                words.add(str(approval["authority"]))
        for reason in decision.get("reasons") or []:
            words.add(str(reason))
            words.add(str(reason).partition("/")[2] or str(reason))
    return {w.lower()[:200] for w in words if w}


def _read(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def upgrade() -> None:
    terms = op.create_table(
        "case_terms",
        sa.Column("term", sa.String(200), primary_key=True),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), primary_key=True),
    )
    op.create_index("ix_case_terms_case_id", "case_terms", ["case_id"])
    cases = sa.table(
        "cases", sa.column("id", sa.String), sa.column("request"), sa.column("decision")
    )
    connection = op.get_bind()
    for case_id, request, decision in connection.execute(
        sa.select(cases.c.id, cases.c.request, cases.c.decision)
    ):
        rows = [{"term": t, "case_id": case_id} for t in _terms(_read(request), _read(decision))]
        if rows:
            connection.execute(terms.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_case_terms_case_id", table_name="case_terms")
    op.drop_table("case_terms")
