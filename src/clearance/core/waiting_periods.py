"""A legislature's waiting period before a transfer may be executed. Pure code.

A holder's policy may require that a legislature be notified of a transfer and
given a number of days to review it before it is carried out (the US Arms
Export Control Act, section 36(b), is the model). The decision records the
period it found (``Decision.waiting_period``), worked out by
``policy.legislative_review`` from the bundle in force on the request's date,
which is taken as the day of notification. The period counts calendar days
after that day: notified on 28 August with 30 days, its last day is 27
September and the transfer may be executed from 28 September. An emergency
waiver by the office the policy names lifts it (``service.waiting_periods``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

__all__ = ["WaitingPeriod"]


@dataclass(frozen=True, slots=True)
class WaitingPeriod:
    """The waiting period a transfer must let pass, and why.

    ``holder``'s bundle requires notifying ``legislature`` of a transfer worth
    ``value_usd`` because it reaches ``threshold_usd`` (``rule`` says which, in
    words); ``days`` calendar days must pass after ``notified_on``, unless
    ``waiver`` (an office's id) waives it.
    """

    holder: str
    legislature: str
    rule: str
    value_usd: int
    threshold_usd: int
    days: int
    notified_on: dt.date
    waiver: str

    @property
    def ends_on(self) -> dt.date:
        """The period's last day: execution on it is still refused."""
        return self.notified_on + dt.timedelta(days=self.days)

    @property
    def executable_from(self) -> dt.date:
        """The first day the transfer may be executed without a waiver."""
        return self.ends_on + dt.timedelta(days=1)

    def blocks(self, day: dt.date) -> bool:
        """Whether execution on ``day`` falls within the period (without a waiver)."""
        return day <= self.ends_on

    def describe(self) -> str:
        """The period in one line, as every interface shows it."""
        return (
            f"{self.legislature} notified on {self.notified_on.isoformat()}: waiting period of"
            f" {self.days} days ends {self.ends_on.isoformat()}; executable from"
            f" {self.executable_from.isoformat()} unless {self.waiver} waives it"
        )

    def as_dict(self) -> dict[str, Any]:
        """The documented JSON form (docs/formats.md, ``waiting_period`` of a decision)."""
        return {
            "holder": self.holder,
            "legislature": self.legislature,
            "rule": self.rule,
            "value_usd": self.value_usd,
            "threshold_usd": self.threshold_usd,
            "days": self.days,
            "notified_on": self.notified_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "executable_from": self.executable_from.isoformat(),
            "waiver": self.waiver,
        }

    @classmethod
    def from_dict(cls, data: Any) -> WaitingPeriod:
        """Read ``as_dict``'s form back; ``KeyError``/``TypeError``/``ValueError`` if it is not."""
        if not isinstance(data, dict):
            raise TypeError("a waiting period is a JSON object")
        whole = {k: data[k] for k in ("value_usd", "threshold_usd", "days")}
        if any(isinstance(v, bool) or not isinstance(v, int) for v in whole.values()):
            raise TypeError("value_usd, threshold_usd and days are whole numbers")
        return cls(
            holder=str(data["holder"]),
            legislature=str(data["legislature"]),
            rule=str(data["rule"]),
            value_usd=whole["value_usd"],
            threshold_usd=whole["threshold_usd"],
            days=whole["days"],
            notified_on=dt.date.fromisoformat(str(data["notified_on"])),
            waiver=str(data["waiver"]),
        )
