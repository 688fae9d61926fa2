"""The pack's bundles that have taken effect, put on the ledger in the order things happen.

A pack's bundle takes effect by its date, not by anyone's act, so nothing
records it on that day: the first writing transaction that looks for it does,
as the system (``SYSTEM``). Two do: a re-screening (before it judges cases
again by that policy), and an activation of a proposal (before its own
``bundle_activated``). So the ledger reads in the order things took effect: the
bundles a pack brought into force before an activation come before the
activation, whatever date the activated proposal takes effect from.
"""

from __future__ import annotations

import datetime as dt

from clearance.core.actors import SYSTEM
from clearance.core.chain import EventType
from clearance.core.events import BundleActivated
from clearance.policy.bundle import PolicyBundle
from clearance.policy.pack import ScenarioPack
from clearance.store.protocol import Transaction

__all__ = ["record_taken_effect", "taken_effect_unrecorded"]


def taken_effect_unrecorded(
    tx: Transaction, pack: ScenarioPack, now: dt.datetime
) -> list[PolicyBundle]:
    """The bundles of ``pack`` in force by ``now`` (superseded ones too) that the ledger
    does not hold yet, by revision."""
    recorded = {
        event.payload.revision
        for event in (e.event for e in tx.ledger.of_type(EventType.BUNDLE_ACTIVATED))
        if isinstance(event.payload, BundleActivated)
    }
    return [
        bundle
        for bundle in pack.history
        if bundle.effective_from <= now.date() and bundle.revision not in recorded
    ]


def record_taken_effect(tx: Transaction, pack: ScenarioPack, *, now: dt.datetime) -> None:
    """Put on the ledger every bundle of ``pack`` in force by ``now`` that it does not hold
    yet: which policy text (by revision) took effect for which holder from which date, so
    that what follows can be traced to it."""
    for bundle in taken_effect_unrecorded(tx, pack, now):
        tx.append(bundle.in_force(), actor=SYSTEM, at=now)
