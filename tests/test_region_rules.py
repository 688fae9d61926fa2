"""The rules of a target's region, stated on the pure code (``core.regions``).

The request and interface tests refuse real targets; these state the rules of
the ISO 3166-2 list itself: which country a code is of, its name, the regions of
a country, and the exact words of each refusal.
"""

from __future__ import annotations

import pycountry
import pytest

from clearance.core.regions import (
    region_country,
    region_name,
    region_names,
    region_problem,
    regions_of,
)


def test_the_regions_are_pycountry_s_subdivisions_every_one() -> None:
    """The table is read from pycountry's own file, not through its objects (for speed):
    each of its codes, countries and names is the one pycountry gives."""
    listed = {s.code: (s.country_code, s.name) for s in pycountry.subdivisions}
    assert len(listed) > 5000
    assert region_names() == {code: name for code, (_, name) in listed.items()}
    assert {code: region_country(code) for code in listed} == {
        code: country for code, (country, _) in listed.items()
    }


def test_a_region_belongs_to_the_country_iso_lists_it_under() -> None:
    """``RU-BEL`` is of ``RU``; a code ISO 3166-2 lacks is of no country."""
    assert region_country("RU-BEL") == "RU"
    assert region_country("UA-43") == "UA"
    assert region_country("XX-9") is None
    assert region_country("ru-bel") is None


def test_a_region_is_named_as_iso_writes_it_or_else_by_its_code() -> None:
    """The name is ISO 3166-2's; an unknown code is shown as itself."""
    assert region_name("RU-BEL") == "Belgorodskaya oblast'"
    assert region_name("XX-9") == "XX-9"


def test_every_region_can_be_found_by_its_name() -> None:
    """The names by code hold every region of the list, each under its own code."""
    names = region_names()
    assert names["RU-BEL"] == "Belgorodskaya oblast'"
    assert names["LU-LU"] == "Luxembourg"
    assert all(region_country(code) is not None for code in names)


def test_the_regions_of_a_country_are_all_of_them_sorted_by_code() -> None:
    """A country's regions, every one and only its own, in code order; none for no country."""
    assert regions_of("LU") == (
        "LU-CA", "LU-CL", "LU-DI", "LU-EC", "LU-ES", "LU-GR",
        "LU-LU", "LU-ME", "LU-RD", "LU-RM", "LU-VD", "LU-WI",
    )  # fmt: skip
    assert regions_of("XX") == ()


@pytest.mark.parametrize(
    ("code", "territory"), [("RU-BEL", None), ("RU-BEL", "RU"), ("UA-43", "UA")]
)
def test_a_listed_region_of_the_territory_has_no_problem(code: str, territory: str | None) -> None:
    """A region ISO lists, of the territory when one is given, is taken."""
    assert region_problem(code, territory) is None


@pytest.mark.parametrize(
    ("code", "territory", "problem"),
    [
        ("ru-bel", None, "unknown region 'ru-bel': codes are upper case, did you mean 'RU-BEL'?"),
        ("ru-bel", "UA", "unknown region 'ru-bel': codes are upper case, did you mean 'RU-BEL'?"),
        ("XX-9", None, "unknown region 'XX-9': ISO 3166-2 has no such subdivision"),
        ("RU-ABC", "RU", "unknown region 'RU-ABC': ISO 3166-2 has no such subdivision"),
        ("RU-ABCD", None, "'RU-ABCD' is not an ISO 3166-2 region code such as 'RU-BEL'"),
        ("R-BEL", None, "'R-BEL' is not an ISO 3166-2 region code such as 'RU-BEL'"),
        ("xx-9", None, "'xx-9' is not an ISO 3166-2 region code such as 'RU-BEL'"),
        ("RU-BEL", "UA", "region 'RU-BEL' is in RU, not in the target's territory UA"),
    ],
)
def test_a_bad_region_is_refused_in_its_own_words(
    code: str, territory: str | None, problem: str
) -> None:
    """Lower case gets the hint; a well-formed code ISO lacks, a code of the wrong shape and a
    region of another territory each have their words."""
    assert region_problem(code, territory) == problem
