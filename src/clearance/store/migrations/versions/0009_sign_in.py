"""Sign-in hardening: API tokens expire; failed sign-ins are counted per client address.

``api_tokens.expires_at`` is required. Tokens issued before this migration did
not expire; they now expire 90 days after the upgrade, so no system that uses
one is cut off at the upgrade, and none lives for ever.

``sign_in_failures.client`` is the address a failed sign-in came from, so that a
stranger's failures from one address cannot stop the user signing in from
another. Failures recorded before the upgrade have no address; they are
dropped (they only ever counted for 15 minutes).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EXISTING_TOKENS_LIVE = dt.timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as tokens:
        tokens.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    api_tokens = sa.table("api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    op.execute(
        api_tokens.update().values(expires_at=dt.datetime.now(dt.UTC) + EXISTING_TOKENS_LIVE)
    )
    with op.batch_alter_table("api_tokens") as tokens:
        tokens.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)

    op.execute(sa.table("sign_in_failures").delete())
    op.drop_index("ix_sign_in_failures_user_id", table_name="sign_in_failures")
    with op.batch_alter_table("sign_in_failures") as failures:
        failures.add_column(sa.Column("client", sa.String(64), nullable=False))
    op.create_index(
        "ix_sign_in_failures_user_client", "sign_in_failures", ["user_id", "client", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_user_client", table_name="sign_in_failures")
    with op.batch_alter_table("sign_in_failures") as failures:
        failures.drop_column("client")
    op.create_index("ix_sign_in_failures_user_id", "sign_in_failures", ["user_id"])
    with op.batch_alter_table("api_tokens") as tokens:
        tokens.drop_column("expires_at")
