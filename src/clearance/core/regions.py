"""Regions of a target: ISO 3166-2 subdivision codes, read from ``pycountry``'s data.

A request's target may name a region (``RU-BEL``, Belgorod region) as well as
its territory. The region must be a subdivision ISO 3166-2 lists, and it must
belong to the territory: a target in ``RU`` cannot be in ``UA-43``. Nothing
finer than a region is ever taken: clearance decides who must approve, it does
not locate targets.

The list of codes is read once, on first use, and kept: pycountry's lookups
are slow enough to matter when every request of a long stream is checked.
It is read from the ISO 3166-2 table pycountry ships, as the JSON file it is:
building pycountry's 5,000 subdivision objects took 0.08 s, paid by every
command that loads a pack (its zones name regions), and reading the same
file takes 0.01 s. tests/test_region_rules.py holds the two readings equal.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pycountry

from clearance.core.codes import upper_case_hint

__all__ = [
    "REGION_CODE",
    "region_country",
    "region_name",
    "region_names",
    "region_problem",
    "regions_of",
]

REGION_CODE = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
"""The shape of an ISO 3166-2 code: the country's alpha-2, a hyphen, one to three more."""


@cache
def _regions() -> dict[str, tuple[str, str]]:
    """Every ISO 3166-2 code → (country alpha-2, name)."""
    table = json.loads((Path(pycountry.DATABASE_DIR) / "iso3166-2.json").read_bytes())
    return {row["code"]: (row["code"].partition("-")[0], row["name"]) for row in table["3166-2"]}


def region_country(code: str) -> str | None:
    """The country (alpha-2) a region belongs to, or None when ISO 3166-2 has no such code."""
    found = _regions().get(code)
    return None if found is None else found[0]


def region_name(code: str) -> str:
    """The region's name as ISO 3166-2 writes it (``Belgorodskaya oblast'``), or the code."""
    found = _regions().get(code)
    return code if found is None else found[1]


@cache
def region_names() -> dict[str, str]:
    """Every ISO 3166-2 code → its name, for finding regions by name."""
    return {code: name for code, (_, name) in _regions().items()}


@cache
def regions_of(country: str) -> tuple[str, ...]:
    """Every region of ``country``, sorted by code."""
    return tuple(sorted(c for c, (of, _) in _regions().items() if of == country))


def region_problem(code: str, territory: str | None = None) -> str | None:
    """What is wrong with ``code`` as a region (of ``territory``, when given), or None.

    The words are the ones every interface shows after the field's name.
    """
    hint = upper_case_hint(code, lambda upper: region_country(upper) is not None)
    if hint is not None:
        return f"unknown region '{code}': {hint}"
    country = region_country(code)
    if country is None:
        if not REGION_CODE.fullmatch(code):
            return f"'{code}' is not an ISO 3166-2 region code such as 'RU-BEL'"
        return f"unknown region '{code}': ISO 3166-2 has no such subdivision"
    if territory is not None and country != territory:
        return f"region '{code}' is in {country}, not in the target's territory {territory}"
    return None
