"""How long an approval lives: the time an approved case lapses unless it is executed.

A bundle may limit how long an approval it takes part in stays valid
(``approval_lifetime`` in bundle.yaml: employment approvals 30 days, say, and
transfers 24 months). A case's approval lives as long as the shortest
lifetime any bundle that decided it gives its kind of request: every holder
consented to the request as it stood then, and the one that consented for
the shortest time is the one whose consent runs out first. Days are counted
in whole UTC days from the day of the approval: approved on 1 May with 30
days, the approval holds to the end of 31 May and lapses at the first moment
of 1 June.

The time is fixed on the ledger in the ``case_state_changed`` event of the
approval (``expires_at``), so every reader of the record finds the same
lapse, and ``service.expiry`` moves the case to ``expired`` once it passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from clearance.policy.history import BundleHistory

__all__ = ["approval_expiry", "lifetime_days"]


def lifetime_days(
    history: BundleHistory, bundles: Mapping[str, str | None], action: str
) -> int | None:
    """The shortest lifetime the deciding ``bundles`` (holder → revision) give ``action``."""
    days = [
        d
        for revision in bundles.values()
        if revision is not None
        and (bundle := history.by_revision(revision)) is not None
        and (d := bundle.approval_lifetime(action)) is not None
    ]
    return min(days) if days else None


def approval_expiry(
    history: BundleHistory,
    bundles: Mapping[str, str | None],
    action: str,
    approved_at: dt.datetime,
) -> dt.datetime | None:
    """When an approval given at ``approved_at`` lapses (module doc), or None if it does not."""
    days = lifetime_days(history, bundles, action)
    if days is None:
        return None
    last = approved_at.astimezone(dt.UTC).date() + dt.timedelta(days=days)
    return dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
