"""Demo people and cases for ``clearance serve --demo``: the seed story, ready to click through.

Every demo user's password and key passphrase is ``DEMO_PASSWORD``; it is
printed when the server starts, and a demo database is for trying things
out only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.signing import new_key_pair
from clearance.service.accounts import Accounts
from clearance.service.cases import CaseService
from clearance.service.people import People

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "DemoUser", "seed_demo"]

DEMO_PASSWORD = "clearance-demo"


@dataclass(frozen=True, slots=True)
class DemoUser:
    id: str
    name: str
    party: str
    roles: tuple[Role, ...]
    clearance: Level
    office: str | None = None


DEMO_USERS = (
    DemoUser("ua.liaison", "Ukrainian liaison officer", "UA", (Role.REQUESTER,), Level.SECRET),
    DemoUser(
        "us.liaison", "US security cooperation officer", "US", (Role.REQUESTER,), Level.SECRET
    ),
    DemoUser("us.reviewer", "US review staff", "US", (Role.REVIEWER,), Level.TOP_SECRET),
    DemoUser(
        "conf.reviewer", "Reviewer cleared CONFIDENTIAL", "US", (Role.REVIEWER,), Level.CONFIDENTIAL
    ),
    DemoUser(
        "secdef", "US Secretary of Defense", "US", (Role.REVIEWER,), Level.TOP_SECRET, "us.secdef"
    ),
    DemoUser("auditor", "Inspector general", "US", (Role.AUDITOR,), Level.TOP_SECRET),
    DemoUser("admin.user", "Administrator", "US", (Role.ADMIN,), Level.TOP_SECRET),
)

_ATACMS_JUNE = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}
DEMO_CASES: tuple[tuple[str, dict[str, object], Level], ...] = (
    ("ua.liaison", _ATACMS_JUNE, Level.SECRET),
    ("ua.liaison", {**_ATACMS_JUNE, "system": "storm-shadow"}, Level.CONFIDENTIAL),
    ("ua.liaison", {**_ATACMS_JUNE, "date": "2024-12-01"}, Level.UNCLASSIFIED),
    (
        "us.liaison",
        {
            "action": "transfer",
            "requester": "US",
            "recipient": "UA",
            "system": "eram",
            "quantity": 3350,
            "funding": "european-partners",
            "value_usd": 825_000_000,
            "date": "2025-08-28",
        },
        Level.UNCLASSIFIED,
    ),
)


def seed_demo(
    people: People,
    accounts: Accounts,
    cases: CaseService,
    *,
    write_key: Callable[[str, bytes], None],
    now: dt.datetime,
) -> bool:
    """Add the demo users and cases to an empty database; False if it has users already."""
    if people.users():
        return False
    for user in DEMO_USERS:
        public, key = new_key_pair(DEMO_PASSWORD)
        write_key(user.id, key)
        people.add_user(
            user_id=user.id,
            name=user.name,
            party=user.party,
            public_key=public,
            actor=ADMIN,
            now=now,
        )
        accounts.set_access(
            user.id, roles=user.roles, clearance=user.clearance, actor=ADMIN, now=now
        )
        accounts.set_password(user.id, DEMO_PASSWORD, actor=ADMIN, now=now)
        if user.office:
            people.grant(
                user_id=user.id,
                authority=user.office,
                valid_from=dt.date(2025, 1, 25),
                valid_to=None,
                actor=ADMIN,
                now=now,
            )
    for index, (actor, request, level) in enumerate(DEMO_CASES):
        cases.submit(
            request,
            actor=actor,
            now=now,
            idempotency_key=f"demo-{index}",
            classification=int(level),
        )
    return True
