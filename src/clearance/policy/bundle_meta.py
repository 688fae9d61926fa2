"""A bundle's ``bundle.yaml``, read and checked field by field (policy/bundle.py builds the
bundle; this module holds what each metadata field may say and the words of its errors).

Every error names the file and the field (``review_sla_days``,
``approval_lifetime.employ``), and nothing is read from a field it does not know.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from clearance.core.catalog import Catalog
from clearance.core.dates import MAX_SLA_DAYS
from clearance.core.request import iso_date
from clearance.core.stockpile import Thresholds
from clearance.errors import PackError

__all__ = [
    "BundleFiles",
    "approval_days",
    "check_meta",
    "meta_text",
    "policy_authority",
    "sla_days",
    "thresholds",
]


@dataclass(frozen=True, slots=True)
class BundleFiles:
    """The raw content of a bundle folder, as read from disk (names relative to the pack)."""

    meta_file: str
    meta: dict[str, Any]
    policy_files: tuple[tuple[str, str], ...]
    schema_file: str
    schema_text: str
    entities_file: str | None = None
    entities_text: str | None = None


def meta_date(files: BundleFiles) -> dt.date:
    try:
        day = iso_date(files.meta.get("effective_from"))
    except ValueError as exc:
        raise PackError(files.meta_file, "effective_from", str(exc)) from None
    assert isinstance(day, dt.date)
    return day


def meta_text(files: BundleFiles, key: str, *, required: bool = False) -> str:
    value = files.meta.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise PackError(
            files.meta_file, key, "must be a non-empty text" if required else "must be text"
        )
    return value


def sla_days(files: BundleFiles) -> int | None:
    value = files.meta.get("review_sla_days")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SLA_DAYS:
        raise PackError(
            files.meta_file,
            "review_sla_days",
            f"must be a whole number of days from 1 to {MAX_SLA_DAYS}",
        )
    return value


def thresholds(files: BundleFiles) -> Thresholds | None:
    """``stockpile_thresholds: {green_percent: 120, yellow_percent: 100}``, both whole percent."""
    key = "stockpile_thresholds"
    value = files.meta.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PackError(
            files.meta_file, key, "must be a mapping of green_percent and yellow_percent"
        )
    extra = sorted(set(value) - {"green_percent", "yellow_percent"})
    if extra:
        raise PackError(files.meta_file, f"{key}.{extra[0]}", "is not a known field")
    for name in ("green_percent", "yellow_percent"):
        number = value.get(name)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 10_000:
            raise PackError(
                files.meta_file, f"{key}.{name}", "must be a whole percent from 0 to 10000"
            )
    try:
        return Thresholds(value["green_percent"], value["yellow_percent"])
    except ValueError as exc:
        raise PackError(files.meta_file, key, str(exc)) from None


def approval_days(files: BundleFiles) -> tuple[tuple[str, int], ...]:
    """``approval_lifetime: {employ: 30, transfer: 730}``: whole days from 1 to the longest
    deadline clearance takes, per action."""
    key = "approval_lifetime"
    value = files.meta.get(key)
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise PackError(files.meta_file, key, "must be a mapping of employ and/or transfer to days")
    days: list[tuple[str, int]] = []
    for action, number in sorted(value.items(), key=lambda item: str(item[0])):
        if action not in ("employ", "transfer"):
            raise PackError(
                files.meta_file, f"{key}.{action}", "is not an action (employ, transfer)"
            )
        if (
            not isinstance(number, int)
            or isinstance(number, bool)
            or not 1 <= number <= MAX_SLA_DAYS
        ):
            raise PackError(
                files.meta_file,
                f"{key}.{action}",
                f"must be a whole number of days from 1 to {MAX_SLA_DAYS}",
            )
        days.append((action, number))
    return tuple(days)


def policy_authority(files: BundleFiles, catalog: Catalog, holder: str) -> str | None:
    """The office that may activate the holder's next bundle while this one is in force."""
    value = files.meta.get("policy_authority")
    if value is None:
        return None
    authority = catalog.authority(value) if isinstance(value, str) else None
    if authority is None:
        raise PackError(files.meta_file, "policy_authority", f"unknown authority '{value}'")
    if authority.party != holder:
        raise PackError(
            files.meta_file,
            "policy_authority",
            f"'{value}' is an office of {authority.party}, not {holder}",
        )
    return authority.id


def check_meta(files: BundleFiles, catalog: Catalog) -> tuple[str, dt.date]:
    allowed = {
        "holder",
        "effective_from",
        "title",
        "summary",
        "sources",
        "illustrative",
        "review_sla_days",
        "review_limits",
        "stockpile_thresholds",
        "policy_authority",
        "legislative_review",
        "approval_lifetime",
    }
    extra = sorted(set(files.meta) - allowed)
    if extra:
        raise PackError(files.meta_file, extra[0], "is not a known field")
    holder = files.meta.get("holder")
    if not isinstance(holder, str) or catalog.party(holder) is None:
        raise PackError(files.meta_file, "holder", f"unknown party '{holder}'")
    return holder, meta_date(files)
