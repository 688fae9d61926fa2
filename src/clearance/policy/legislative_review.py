"""A bundle's legislative review: when the holder's own transfers must be notified to a
legislature, and how long it then has before they may be executed.

::

    legislative_review:
      legislature: United States Congress
      waiver: us.president              # the office whose emergency waiver lifts the period
      periods:                          # the first that takes the recipient applies
        - recipients: aeca-favoured     # optional: a party or a group of the catalog
          days: 15
          thresholds:                   # whole US dollars; at least one of the two
            major_defense_equipment: 25000000
            defense_articles: 100000000
        - days: 30                      # no recipients: any recipient
          thresholds: {major_defense_equipment: 14000000, defense_articles: 50000000}

It applies to transfers whose requester is the bundle's holder and that state a
``value_usd``. ``defense_articles`` is the threshold of every system;
``major_defense_equipment`` that of systems the catalog flags
``major_defense_equipment``; a system that has both takes the lower. A value at
or above the threshold must be notified: the decision then carries a
``core.waiting_periods.WaitingPeriod`` from the request's date. Every error
names the file and the field; a bundle with one is not loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearance.core.catalog import Catalog
from clearance.core.dates import MAX_SLA_DAYS
from clearance.core.request import MAX_VALUE_USD, TransferRequest
from clearance.core.waiting_periods import WaitingPeriod
from clearance.errors import PackError

__all__ = ["LegislativeReview", "Period", "read_legislative_review"]

FIELD = "legislative_review"
CLASSES = ("major_defense_equipment", "defense_articles")
"""The classes of article a threshold is set for, in the words of the Act."""


@dataclass(frozen=True, slots=True)
class Period:
    """One entry of ``periods``: for which recipients, how many days, from what values."""

    recipients: str | None
    days: int
    thresholds: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class LegislativeReview:
    """A holder's rule for notifying its legislature of its own transfers (module doc)."""

    holder: str
    legislature: str
    waiver: str
    periods: tuple[Period, ...]

    def _period_for(self, recipient: str, catalog: Catalog) -> Period | None:
        groups = {recipient, *catalog.groups_of(recipient)}
        return next((p for p in self.periods if p.recipients in (None, *groups)), None)

    def waiting_period(self, request: TransferRequest, catalog: Catalog) -> WaitingPeriod | None:
        """The period ``request`` must wait, notified on its date; None when it need not."""
        if request.requester != self.holder or request.value_usd is None:
            return None
        period = self._period_for(request.recipient, catalog)
        system = catalog.system(request.system)
        if period is None or system is None:
            return None
        classes = {"defense_articles"}
        if system.major_defense_equipment:
            classes.add("major_defense_equipment")
        found = [(usd, name) for name, usd in period.thresholds if name in classes]
        if not found:
            return None
        threshold, name = min(found)
        if request.value_usd < threshold:
            return None
        whom = f" to {period.recipients}" if period.recipients else ""
        rule = f"{name.replace('_', ' ')}{whom} from ${threshold:,}"
        return WaitingPeriod(
            holder=self.holder,
            legislature=self.legislature,
            rule=rule,
            value_usd=request.value_usd,
            threshold_usd=threshold,
            days=period.days,
            notified_on=request.date,
            waiver=self.waiver,
        )


def _text(file: str, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PackError(file, where, "must be a non-empty text")
    return value


def _period(file: str, where: str, value: Any, catalog: Catalog) -> Period:
    if not isinstance(value, dict):
        raise PackError(file, where, "must be a mapping of recipients, days, thresholds")
    extra = sorted(set(value) - {"recipients", "days", "thresholds"})
    if extra:
        raise PackError(file, f"{where}.{extra[0]}", "is not a known field")
    recipients = value.get("recipients")
    if recipients is not None and (
        not isinstance(recipients, str) or catalog.party(recipients) is None
    ):
        raise PackError(
            file,
            f"{where}.recipients",
            f"must be a party or group of the catalog, not {recipients!r}",
        )
    days = value.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_SLA_DAYS:
        raise PackError(
            file, f"{where}.days", f"must be a whole number of days from 1 to {MAX_SLA_DAYS}"
        )
    thresholds = value.get("thresholds")
    if not isinstance(thresholds, dict) or not thresholds:
        raise PackError(
            file, f"{where}.thresholds", f"must be a mapping of {' and/or '.join(CLASSES)}"
        )
    read: list[tuple[str, int]] = []
    for name, usd in thresholds.items():
        if name not in CLASSES:
            raise PackError(file, f"{where}.thresholds.{name}", "is not a known field")
        if not isinstance(usd, int) or isinstance(usd, bool) or not 0 <= usd <= MAX_VALUE_USD:
            raise PackError(
                file,
                f"{where}.thresholds.{name}",
                f"must be a whole number of US dollars from 0 to {MAX_VALUE_USD}",
            )
        read.append((str(name), usd))
    return Period(recipients, days, tuple(read))


def read_legislative_review(
    file: str, value: Any, catalog: Catalog, holder: str
) -> LegislativeReview | None:
    """The ``legislative_review`` of a bundle's meta (module doc); None when it sets none."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PackError(file, FIELD, "must be a mapping of legislature, waiver, periods")
    extra = sorted(set(value) - {"legislature", "waiver", "periods"})
    if extra:
        raise PackError(file, f"{FIELD}.{extra[0]}", "is not a known field")
    legislature = _text(file, f"{FIELD}.legislature", value.get("legislature"))
    waiver = value.get("waiver")
    authority = catalog.authority(waiver) if isinstance(waiver, str) else None
    if authority is None:
        raise PackError(file, f"{FIELD}.waiver", f"unknown office {waiver!r}")
    if authority.party != holder:
        raise PackError(
            file, f"{FIELD}.waiver", f"'{waiver}' is an office of {authority.party}, not {holder}"
        )
    periods = value.get("periods")
    if not isinstance(periods, list) or not periods:
        raise PackError(file, f"{FIELD}.periods", "must be a non-empty list of periods")
    return LegislativeReview(
        holder,
        legislature,
        authority.id,
        tuple(
            _period(file, f"{FIELD}.periods[{n}]", p, catalog)
            for n, p in enumerate(periods, start=1)
        ),
    )
