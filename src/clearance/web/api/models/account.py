"""Sign-in bodies: the session, who is signed in, API tokens."""

from __future__ import annotations

from pydantic import Field

from . import Body

__all__ = ["InboxBody", "InboxItem", "IssuedToken", "Me", "SessionBody", "TokenList", "TokenRow"]


class SessionBody(Body):
    user: str
    csrf_token: str = Field(description="Send it back as X-CSRF-Token with every change.")


class Me(Body):
    user: str
    name: str
    party: str
    roles: list[str]
    clearance: str
    offices: list[str] = Field(description="The offices held today, or answered for as delegate.")


class IssuedToken(Body):
    id: str
    name: str
    token: str = Field(description="The token itself, shown this once.")
    expires_at: str


class TokenRow(Body):
    id: str
    user: str
    name: str
    created_at: str
    expires_at: str
    revoked_at: str | None
    state: str = Field(description="active, expired or revoked.")


class TokenList(Body):
    tokens: list[TokenRow]


class InboxItem(Body):
    kind: str = Field(description="decide, answer_question, record_condition or activate.")
    title: str
    case_number: int | None
    case_id: str | None
    classification: str | None
    office: str | None = Field(description="The office the item waits on, for a gate.")
    on_behalf_of: str | None = Field(description="The holder a delegate answers for.")
    proposal: int | None
    waiting_since: str
    waiting_days: float
    due_at: str | None
    overdue_days: float | None = Field(description="Days past the due date; 0 when not yet due.")


class InboxBody(Body):
    user: str
    items: list[InboxItem] = Field(description="Oldest first.")
