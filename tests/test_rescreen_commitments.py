"""Re-screening a transfer does not count the stock the transfer itself committed.

An approved transfer commits its quantity from the giver's stock. Judged
again (``clearance cases rescreen``, and the re-screening after an
activation), it must be judged on the stock as it would stand without its
own commitment, or every approved transfer would look short by its own size:
the ERAM sale (3,350 of 5,000, 1,000 required) read as `available 1650`,
`available_after -1700`, red, `permitted → review_required`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.core.signing import new_key_pair
from clearance.core.workflow import CaseState
from clearance.policy.engine import Screener
from clearance.service.anchoring import SystemKey
from clearance.service.cases import CaseService
from clearance.service.people import People
from clearance.store.db import open_database
from clearance.store.repository import Store

from .worlds import G5, T0, World

LATER = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
"""After every request date used here, under the same (latest) US bundle."""


def test_the_eram_sale_judged_again_is_judged_as_it_was(world: World) -> None:
    case, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    assert case.state is CaseState.APPROVED_WITH_CONDITIONS
    assert case.decision.stockpile is not None
    assert case.decision.stockpile.available_after == 1650
    found = world.cases.rescreen(actor="admin", now=LATER)
    assert found.changed == ()
    assert found.suspended == ()
    with world.store.reading() as tx:
        assert tx.stock.committed_by_case(case.id) == 3350  # still committed, still counted
        types = [r.event.type for r in tx.ledger.of_case(case.id)]
    assert "case_rescreened" not in types


_TRANSFERS = st.fixed_dictionaries(
    {
        "action": st.just("transfer"),
        "requester": st.just("US"),
        "recipient": st.just("UA"),
        "system": st.sampled_from(["eram", "demo-interceptor"]),
        "quantity": st.integers(1, 6000),
        "funding": st.just("european-partners"),
        "date": st.dates(dt.date(2025, 8, 28), dt.date(2026, 6, 30)).map(dt.date.isoformat),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=_TRANSFERS)
def test_rescreening_an_approved_transfer_under_the_same_policy_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory,
    screener: Screener,
    system_key: SystemKey,
    request: dict[str, object],
) -> None:
    """Each example in a database of its own: nothing leaks from one to the next."""
    folder: Path = tmp_path_factory.mktemp("rescreen")
    database = open_database(f"sqlite:///{folder / 'clearance.db'}")
    database.migrate()
    try:
        store = Store(database, sealer=system_key)
        public, _ = new_key_pair("a passphrase")
        People(store, screener.catalog).add_user(
            user_id="us.liaison", name="US", party="US", public_key=public, actor="admin", now=T0
        )
        cases = CaseService(store, screener, default_sla_days=14)
        case, _ = cases.submit(request, actor="us.liaison", now=T0)
        found = cases.rescreen(actor="admin", now=LATER)
        if case.state in (CaseState.APPROVED, CaseState.APPROVED_WITH_CONDITIONS):
            assert found.changed == ()
            assert found.suspended == ()
    finally:
        database.dispose()
