"""Which stored cases replay may judge as one: the outcome a candidate gives, kept by what
decides it.

Under a candidate bundle, a case's outcome is a function of its request and of
what its date chooses (each holder's bundle in force, the zones holding its
target's region), and, for a transfer, of the stockpile facts it is judged on.
So two cases with the same request shape (core/case_keys.py), dated between
the same two changes of any bundle or zone, and, where some bundle reads
them, judged on the same recorded stockpile facts and for the same quantity,
get the same outcome.
``OutcomeKeys`` names that class of a case from its columns alone, and keeps
each class's outcome once a case of it has been judged whole: the cases that
follow are compared with it without reading their JSON. A plain dict does the
keeping: a case costs a few microseconds here, and a memo's lock and order
would be a third of them.

Two things a class cannot tell are left to the case's own reading: a shape
not yet seen whole (is it a transfer?), and a transfer whose decision
recorded no stockpile facts, whose facts are worked out again from the pack's
figures for its exact date and quantity (its class names both, where some
bundle reads stockpile facts). The property
test in tests/test_replay_keys.py holds replay by class equal to replay case
by case.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from clearance.core.catalog import Catalog
from clearance.policy.bundle import PolicyBundle
from clearance.policy.evaluate import context_read
from clearance.policy.memo import DEFAULT_CAPACITY, MemoStats
from clearance.store.stored_cases import KeyedCase

__all__ = ["Class", "OutcomeKeys"]

Class = tuple[object, ...]
"""A class of cases: the shape, the period (or, where the facts are worked out again, the
date), the quantity where it is read, the stockpile facts' digest where they are read."""


class OutcomeKeys:
    """The classes of cases judged alike, and the outcome kept for each class seen.

    ``bundles`` are every bundle that can be in force during the replay: the candidate, and
    the other holders' (the candidate's holder's own never are)."""

    def __init__(self, bundles: Iterable[PolicyBundle], catalog: Catalog) -> None:
        bundles = list(bundles)
        changes = {b.effective_from for b in bundles}
        changes.update(span.effective_from for zone in catalog.zones for span in zone.history)
        self._changes = sorted(day.isoformat() for day in changes)
        self._periods: dict[str, int] = {}
        read = frozenset().union(*(context_read(b) for b in bundles))
        self._reads_quantity = "quantity" in read
        self._reads_stockpile = "stockpile" in read
        self._transfers: dict[str | None, bool] = {}
        self._outcomes: dict[Class, str] = {}
        self.hits = 0
        self.misses = 0

    def _period(self, asked_on: str) -> int:
        """How many changes of bundle or zone fall on or before ``asked_on`` (ISO dates
        compare as text)."""
        period = self._periods.get(asked_on)  # pragma: no mutate
        if period is None:
            period = self._periods[asked_on] = bisect_right(self._changes, asked_on)
        return period

    def key(self, case: KeyedCase) -> Class | None:
        """The class of ``case``; None where its columns cannot tell it (read it whole): one
        stored without them, or with a date SQLite hands back in another type (a BLOB)."""
        shape, asked_on, quantity = case.request_shape, case.asked_on, case.quantity
        transfer = self._transfers.get(shape)  # never known for a case without a shape
        if transfer is None or not isinstance(asked_on, str) or quantity is None:
            return None
        if transfer and self._reads_stockpile and case.stockpile_digest is None:
            return (shape, asked_on, quantity)
        key: list[object] = [shape, self._period(asked_on)]
        if self._reads_quantity:
            key.append(quantity)
        if self._reads_stockpile:
            key.append(case.stockpile_digest)
        return tuple(key)

    def outcome(self, key: Class) -> str | None:
        """The outcome kept for the class ``key``, if one of its cases has been judged."""
        found = self._outcomes.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def sift(
        self, cases: Iterable[KeyedCase], tried: set[object]
    ) -> tuple[list[KeyedCase], list[KeyedCase], set[object]]:
        """``(read now, look at again later, tried now)``: which ``cases`` must be read whole
        now, and which may wait for what those teach.

        A case whose class is kept is done if its outcome on record is the class's, and read
        now if not (it changes). Of the others, the first of each class, or of each shape
        not yet seen whole, is read now and the rest wait for it; where the first of a
        class or shape was read in the round before (``tried``) and taught nothing (it
        could not be judged), every case of it is read now, so no case waits twice."""
        now: list[KeyedCase] = []
        later: list[KeyedCase] = []
        firsts: set[object] = set()
        for case in cases:
            key = self.key(case)
            if key is not None:
                kept = self.outcome(key)
                if kept is not None:
                    if kept != case.outcome:
                        now.append(case)
                    continue
            group = key if key is not None else case.request_shape
            if group is None or group in tried:
                now.append(case)
            elif group in firsts:
                later.append(case)
            else:
                firsts.add(group)
                now.append(case)
        return now, later, firsts

    def learn(self, case: KeyedCase, transfer: bool, outcome: str) -> None:
        """What judging ``case`` whole taught: whether its shape is a transfer's, and its
        class's outcome. Both maps are bounded as the memos are: emptied when full."""
        if case.request_shape is None:
            return
        if len(self._transfers) >= DEFAULT_CAPACITY:
            self._transfers.clear()
        self._transfers[case.request_shape] = transfer
        key = self.key(case)
        if key is not None:
            if len(self._outcomes) >= DEFAULT_CAPACITY:
                self._outcomes.clear()
            self._outcomes[key] = outcome

    def stats(self) -> MemoStats:
        """Classes found and not found so far, as a memo counts them."""
        return MemoStats(self.hits, self.misses, len(self._outcomes), DEFAULT_CAPACITY)
