"""Notification bodies: subscriptions, and the notifications given up on (dead letters)."""

from __future__ import annotations

from pydantic import Field

from . import Body

__all__ = ["DeadLetters", "Delivery", "NewSubscription", "Subscription", "SubscriptionList"]


class Subscription(Body):
    id: str
    user: str | None = Field(description="The user told; null for an office's subscription.")
    office: str | None = Field(description="The office whose shared address is told.")
    clearance: str | None = Field(
        description="For an office: the highest level of case its address is told of."
    )
    kinds: list[str] = Field(
        description="waiting, decided, condition_due, question, escalation, policy_activated."
    )
    channel: str = Field(description="email or webhook.")
    address: str
    created_at: str
    created_by: str
    ended_at: str | None


class NewSubscription(Subscription):
    signing_key: str | None = Field(
        description="A webhook's Standard Webhooks signing key (whsec_…), shown here once;"
        " null for e-mail."
    )


class SubscriptionList(Body):
    subscriptions: list[Subscription] = Field(description="Oldest first.")


class Delivery(Body):
    id: str = Field(description="The delivery id: the webhook-id header, the Message-ID.")
    subscription: str
    kind: str
    about: str = Field(description="What it tells of: case 12, proposal 3, the policy of US.")
    case_number: int | None
    classification: str | None = Field(description="The level of the case it tells of.")
    channel: str
    address: str
    state: str = Field(description="pending, delivered, dead or dropped.")
    attempts: int
    created_at: str
    last_attempt_at: str | None
    next_at: str | None
    last_error: str | None = Field(description="Why the last attempt failed, in one line.")


class DeadLetters(Body):
    notifications: list[Delivery] = Field(description="Newest first.")
