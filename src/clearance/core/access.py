"""Who may see and do what: classification levels and roles. Pure code.

Every case carries a classification level and every user a clearance; a user
reads a case only when their clearance is at least its level. Levels are
totally ordered, so "at or below my clearance" is one comparison, and the
store filters on the level's rank so that no count or total includes a case
its reader may not see.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from clearance.errors import InputError

__all__ = ["Level", "Role", "parse_level", "parse_roles"]


class Level(IntEnum):
    UNCLASSIFIED = 0
    CONFIDENTIAL = 1
    SECRET = 2
    TOP_SECRET = 3

    @property
    def label(self) -> str:
        """As banners and forms write it: ``TOP SECRET``."""
        return self.name.replace("_", " ")


class Role(StrEnum):
    """What a user may do, beyond reading. Approving follows from holding an office."""

    REQUESTER = "requester"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    ADMIN = "admin"


def parse_level(value: str, field: str = "classification") -> Level:
    """``SECRET``, ``secret``, ``TOP SECRET`` or ``top_secret``; anything else names the field."""
    key = value.strip().upper().replace(" ", "_").replace("-", "_")
    try:
        return Level[key]
    except KeyError:
        names = ", ".join(level.label for level in Level)
        raise InputError(field, f"'{value}' is not a level (one of {names})") from None


def parse_roles(values: list[str] | tuple[str, ...], field: str = "roles") -> tuple[Role, ...]:
    roles = []
    for value in values:
        try:
            roles.append(Role(value.strip().lower()))
        except ValueError:
            names = ", ".join(role.value for role in Role)
            raise InputError(field, f"'{value}' is not a role (one of {names})") from None
    return tuple(sorted(set(roles)))
