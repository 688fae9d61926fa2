"""Every holder's bundles over time, and which one is in force on a date.

A new bundle replaces the previous one from its effective date; the old one
is kept, so that a request is always judged by the policy in force on its date
and a past decision can be shown with the policy that made it.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Iterator

from clearance.core.stockpile import STANDARD_THRESHOLDS, Thresholds
from clearance.policy.bundle import PolicyBundle

__all__ = ["BundleHistory"]


class BundleHistory:
    """Bundles per holder, sorted by effective date; two on one date are refused by the loader."""

    def __init__(self, bundles: Iterable[PolicyBundle]) -> None:
        by_holder: dict[str, list[PolicyBundle]] = {}
        for bundle in bundles:
            by_holder.setdefault(bundle.holder, []).append(bundle)
        self._bundles = {
            holder: sorted(items, key=lambda b: b.effective_from)
            for holder, items in sorted(by_holder.items())
        }
        self._dates = {h: [b.effective_from for b in items] for h, items in self._bundles.items()}
        self._by_revision: dict[str | None, PolicyBundle] = {
            b.revision: b for items in self._bundles.values() for b in items
        }

    def __iter__(self) -> Iterator[PolicyBundle]:
        for items in self._bundles.values():
            yield from items

    def __len__(self) -> int:
        return len(self._by_revision)

    @property
    def holders(self) -> tuple[str, ...]:
        return tuple(self._bundles)

    def of(self, holder: str) -> tuple[PolicyBundle, ...]:
        """A holder's bundles, oldest first."""
        return tuple(self._bundles.get(holder, ()))

    def bundle_in_force(self, holder: str, on: dt.date) -> PolicyBundle | None:
        """The bundle that governs ``holder`` on ``on``, or None before its first bundle."""
        dates = self._dates.get(holder)
        if not dates:
            return None
        index = bisect.bisect_right(dates, on) - 1
        return self._bundles[holder][index] if index >= 0 else None

    def in_force_until(self, bundle: PolicyBundle) -> dt.date | None:
        """The last day ``bundle`` governs, or None while it is the latest."""
        items = self._bundles[bundle.holder]
        index = items.index(bundle)
        if index + 1 == len(items):
            return None
        return items[index + 1].effective_from - dt.timedelta(days=1)

    def thresholds_on(self, holder: str, on: dt.date) -> Thresholds:
        """The stockpile thresholds of ``holder``'s bundle in force on ``on`` (standard if none)."""
        bundle = self.bundle_in_force(holder, on)
        if bundle is None or bundle.thresholds is None:
            return STANDARD_THRESHOLDS
        return bundle.thresholds

    def by_revision(self, revision: str | None) -> PolicyBundle | None:
        """The bundle of that revision; None for an unknown one, or none (a holder judged
        with no bundle in force)."""
        return self._by_revision.get(revision)
