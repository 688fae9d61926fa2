"""Sign-in bodies: the session, who is signed in, API tokens."""

from __future__ import annotations

from pydantic import Field

from . import Body

__all__ = ["IssuedToken", "Me", "SessionBody", "TokenList", "TokenRow"]


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
