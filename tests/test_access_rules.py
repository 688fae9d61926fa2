"""The rules of classification levels and roles, stated on the pure code (``core.access``).

The access table tests who reads which case through the service; these
state how a level and a role are read from what a user or a file writes,
and how a wrong one is refused.
"""

from __future__ import annotations

import pytest

from clearance.core.access import Level, Role, parse_level, parse_roles
from clearance.errors import InputError


def test_levels_are_ordered_from_unclassified_to_top_secret() -> None:
    assert sorted(Level, reverse=True) == [
        Level.TOP_SECRET,
        Level.SECRET,
        Level.CONFIDENTIAL,
        Level.UNCLASSIFIED,
    ]
    assert Level.SECRET <= Level.TOP_SECRET


def test_a_level_is_written_with_a_space_where_its_name_has_an_underscore() -> None:
    assert Level.TOP_SECRET.label == "TOP SECRET"
    assert Level.SECRET.label == "SECRET"


@pytest.mark.parametrize(
    "written", ["TOP SECRET", "top secret", "top_secret", "Top-Secret", "  top secret\n"]
)
def test_a_level_is_read_in_any_case_with_spaces_underscores_or_hyphens(written: str) -> None:
    assert parse_level(written) is Level.TOP_SECRET


def test_a_wrong_level_is_refused_naming_the_field_and_every_level() -> None:
    with pytest.raises(InputError) as refused:
        parse_level("cosmic", "clearance")
    assert refused.value.where == "clearance"
    assert refused.value.problem == (
        "'cosmic' is not a level (one of UNCLASSIFIED, CONFIDENTIAL, SECRET, TOP SECRET)"
    )


def test_a_wrong_level_names_the_classification_unless_told_otherwise() -> None:
    with pytest.raises(InputError) as refused:
        parse_level("")
    assert refused.value.where == "classification"


def test_roles_are_read_in_any_case_once_each_in_order() -> None:
    assert parse_roles([" Reviewer", "admin", "REVIEWER"]) == (Role.ADMIN, Role.REVIEWER)
    assert parse_roles(()) == ()


def test_a_wrong_role_is_refused_naming_the_field_and_every_role() -> None:
    with pytest.raises(InputError) as refused:
        parse_roles(["reviewer", "king"])
    assert refused.value.where == "roles"
    assert refused.value.problem == (
        "'king' is not a role (one of requester, reviewer, auditor, admin)"
    )
    with pytest.raises(InputError) as refused:
        parse_roles(["king"], "user roles")
    assert refused.value.where == "user roles"
