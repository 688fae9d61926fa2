"""Approval lifetimes: an approved case not executed in time expires, once, on the right day.

The seed's review-mechanism bundles give an approval to strike 30 days and a
transfer's 24 months (730 days), illustrative figures. Days are whole UTC
days from the day of the approval: approved on 15 June, an approval to
strike holds to the end of 15 July and lapses at the first moment of 16 July.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from clearance.core.events import CaseStateChanged
from clearance.core.workflow import CaseState
from clearance.errors import ExecutionSuspended, IllegalTransition, NotFoundError, PackError
from clearance.policy.bundle import BundleFiles, build_bundle
from clearance.policy.engine import Screener
from clearance.service.lifetimes import approval_expiry
from clearance.service.state_check import check_tables
from clearance.web.clock import ClockDeadlines

from .api_support import Api, open_api
from .cli_support import Cli
from .test_api import (  # noqa: F401 (the demo world's fixtures)
    postgresql_template,
    seeded,
    sqlite_template,
)
from .worlds import G2, G5, T0, World

LAPSE = dt.datetime(2025, 7, 16, tzinfo=dt.UTC)
"""The first moment after the last day of an approval given on 15 June 2025 (30 days)."""
JUST_BEFORE = LAPSE - dt.timedelta(microseconds=1)


def _approved(world: World, *, at: dt.datetime = T0) -> str:
    """G2 (ATACMS in Russia, June 2025) submitted and approved by the Secretary at ``at``."""
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=at)
    world.cases.answer(
        case.id,
        actor="hegseth",
        approve=True,
        reason="Approved.",
        signer=world.keys["hegseth"],
        now=at + dt.timedelta(hours=1),
    )
    return case.id


def _expired_events(world: World, case_id: str) -> list[CaseStateChanged]:
    with world.store.reading() as tx:
        events = [r.event.payload for r in tx.ledger.of_case(case_id)]
    return [p for p in events if isinstance(p, CaseStateChanged) and p.to_state == "expired"]


def _findings(world: World) -> list[object]:
    """What the check of the tables against the ledger finds (nothing, when they agree)."""
    with world.store.reading() as tx:
        events = tx.ledger.head()[0]
    return list(check_tables(world.store, events)[1])


def test_an_approval_lapses_at_the_end_of_its_last_day_and_expires_once(world: World) -> None:
    case_id = _approved(world)
    shown = world.cases.view(case_id, actor="ua.liaison")
    assert shown.case.state is CaseState.APPROVED
    assert shown.case.expires_at == LAPSE
    assert shown.as_dict(T0)["expires_at"] == "2025-07-16T00:00:00+00:00"

    assert world.cases.expire(actor="admin", now=JUST_BEFORE) == []
    (expired,) = world.cases.expire(actor="admin", now=LAPSE)
    assert (expired.id, expired.state, expired.expires_at) == (case_id, CaseState.EXPIRED, None)
    assert world.cases.expire(actor="admin", now=LAPSE + dt.timedelta(days=400)) == []

    (event,) = _expired_events(world, case_id)
    assert event.from_state == "approved"
    assert "held to the end of 2025-07-15 (UTC)" in event.why
    assert _findings(world) == []


def test_executing_a_lapsed_approval_is_refused_before_any_run_expires_it(world: World) -> None:
    case_id = _approved(world)
    with pytest.raises(IllegalTransition, match=r"held to the end of 2025-07-15 \(UTC\)"):
        world.cases.execute(case_id, actor="ua.liaison", quantity=None, now=LAPSE)
    moves = world.cases.moves(case_id, actor="ua.liaison", now=LAPSE)
    assert moves.execute_up_to is None
    executed = world.cases.execute(case_id, actor="ua.liaison", quantity=None, now=JUST_BEFORE)
    assert executed.case.state is CaseState.EXECUTED
    assert executed.case.expires_at is None
    assert world.cases.expire(actor="admin", now=LAPSE) == []


def test_a_transfer_holds_24_months_keeps_them_while_cleared_and_releases_its_stock(
    world: World,
) -> None:
    case, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    assert case.state is CaseState.APPROVED_WITH_CONDITIONS
    assert case.expires_at == dt.datetime(2027, 6, 16, tzinfo=dt.UTC)  # 730 days after T0
    cleared = world.cases.condition_met(
        case.id,
        actor="us.liaison",
        condition="European partners fund the purchase",
        evidence="Letter of 2025-08-30",
        now=T0 + dt.timedelta(days=1),
    )
    assert cleared.case.state is CaseState.CLEARED
    assert cleared.case.expires_at == case.expires_at
    with world.store.reading() as tx:
        assert tx.stock.committed_by_case(case.id) == 3350
    (expired,) = world.cases.expire(actor="admin", now=dt.datetime(2027, 6, 16, tzinfo=dt.UTC))
    assert expired.state is CaseState.EXPIRED
    with world.store.reading() as tx:
        assert tx.stock.committed_by_case(case.id) == 0
    assert _findings(world) == []


def test_an_approval_under_a_bundle_without_lifetimes_never_lapses(world: World) -> None:
    """The December 2024 strike, permitted under the November 2024 authority."""
    case, _ = world.cases.submit({**G2, "date": "2024-12-01"}, actor="ua.liaison", now=T0)
    assert case.state is CaseState.APPROVED
    assert case.expires_at is None
    assert world.cases.expire(actor="admin", now=dt.datetime(2199, 1, 1, tzinfo=dt.UTC)) == []


def test_the_shortest_lifetime_of_the_deciding_bundles_counts(screener: Screener) -> None:
    us = screener.history.bundle_in_force("US", dt.date(2025, 6, 15))
    gb = screener.history.bundle_in_force("GB", dt.date(2025, 6, 15))
    assert us is not None
    assert gb is not None
    bundles = {"US": us.revision, "GB": gb.revision, "FR": None}
    at = dt.datetime(2025, 6, 15, 23, 59, tzinfo=dt.UTC)
    assert approval_expiry(screener.history, bundles, "employ", at) == LAPSE
    assert approval_expiry(screener.history, {"GB": gb.revision}, "employ", at) is None


def test_an_unknown_user_may_not_run_expiry(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.cases.expire(actor="nobody", now=LAPSE)


@pytest.mark.parametrize(
    ("value", "where", "problem"),
    [
        ({"employ": 0}, "approval_lifetime.employ", "from 1 to 3650"),
        ({"employ": "30"}, "approval_lifetime.employ", "whole number of days"),
        ({"employ": True}, "approval_lifetime.employ", "whole number of days"),
        ({"employ": 3651}, "approval_lifetime.employ", "from 1 to 3650"),
        ({"use": 30}, "approval_lifetime.use", "is not an action"),
        ({}, "approval_lifetime", "must be a mapping"),
        (30, "approval_lifetime", "must be a mapping"),
    ],
)
def test_a_bad_lifetime_is_refused_naming_the_field(
    screener: Screener, value: object, where: str, problem: str
) -> None:
    schema = (screener.pack.root / "schema.cedarschema").read_text()
    files = BundleFiles(
        meta_file="bundles/US/x/bundle.yaml",
        meta={
            "holder": "US",
            "effective_from": "2030-01-01",
            "title": "t",
            "approval_lifetime": value,
        },
        policy_files=(("p.cedar", '@id("p")\npermit (principal, action, resource);'),),
        schema_file="schema.cedarschema",
        schema_text=schema,
    )
    with pytest.raises(PackError) as caught:
        build_bundle(files, screener.catalog, "bundles/US/x")
    assert (caught.value.file, caught.value.where) == ("bundles/US/x/bundle.yaml", where)
    assert problem in caught.value.problem


# From the command line, and by the clock of a running server -------------------------

UA_USE = {**G2, "target": {"territory": "UA"}}
"""ATACMS in Ukrainian territory in June 2025: permitted at once, for 30 days."""


def _expired_by_clock(api: Api, case_id: str) -> int:
    with api.server.store.reading() as tx:
        return sum(
            1
            for r in tx.ledger.of_case(case_id)
            if isinstance(p := r.event.payload, CaseStateChanged) and p.to_state == "expired"
        )


def test_two_running_servers_expire_a_lapsed_approval_once(
    seeded: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    with open_api(tmp_path / "data", seeded) as api:
        long_ago = api.server.now() - dt.timedelta(days=32)
        case, _ = api.server.cases.submit(UA_USE, actor="ua.liaison", now=long_ago)
        assert case.state is CaseState.APPROVED
        clocks = [ClockDeadlines(api.server, tick=0.05) for _ in range(2)]
        for clock in clocks:
            clock.start()
        try:
            deadline = time.monotonic() + 10
            while not _expired_by_clock(api, case.id) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # ten more ticks each: nothing more lapses
        finally:
            for clock in clocks:
                clock.stop()
        assert _expired_by_clock(api, case.id) == 1


def test_the_command_expires_what_lapsed_and_says_so(cli: Cli) -> None:
    with open_api(cli.tmp / "data", cli.database_url) as api:
        now = api.server.now()
        lapsed, _ = api.server.cases.submit(
            UA_USE, actor="ua.liaison", now=now - dt.timedelta(days=31)
        )
        fresh, _ = api.server.cases.submit(
            UA_USE, actor="ua.liaison", now=now - dt.timedelta(days=29)
        )
    assert cli.json("cases", "expire", "--as", "ua.liaison") == [
        {"number": lapsed.number, "id": lapsed.id}
    ]
    assert "expired: 0 case(s)" in cli("cases", "expire", "--as", "ua.liaison").stdout
    shown = cli.json("cases", "show", str(lapsed.number), "--as", "ua.liaison")
    assert shown["state"] == "expired"
    assert shown["expires_at"] is None
    kept = cli("cases", "show", str(fresh.number), "--as", "ua.liaison").stdout
    assert "approval valid to the end of" in kept
    refused = cli("cases", "expire", "--as", "nobody", ok=False)
    assert refused.returncode != 0
    assert "unknown user 'nobody'" in refused.stderr


# With partial draws and suspension ---------------------------------------------------


def test_a_partly_drawn_approval_keeps_its_lapse_and_expires_with_the_rest(world: World) -> None:
    case_id = _approved(world)
    drawn = world.cases.execute(
        case_id, actor="ua.liaison", quantity=1, now=T0 + dt.timedelta(hours=2)
    )
    assert drawn.case.state is CaseState.PARTLY_EXECUTED
    assert drawn.case.expires_at == LAPSE
    (expired,) = world.cases.expire(actor="admin", now=LAPSE)
    assert (expired.id, expired.state) == (case_id, CaseState.EXPIRED)
    assert _findings(world) == []


def test_a_suspended_case_resumed_by_a_fresh_approval_gets_a_fresh_lifetime(world: World) -> None:
    """Approved in April 2025 under the November 2024 authority (no lifetime), drawn on
    10 May under the review mechanism: suspended for the Secretary, whose approval on
    11 May starts the mechanism's 30 days from that day."""
    april = dt.datetime(2025, 4, 10, 9, tzinfo=dt.UTC)
    case, _ = world.cases.submit({**G2, "date": "2025-04-10"}, actor="ua.liaison", now=april)
    assert (case.state, case.expires_at) == (CaseState.APPROVED, None)
    with pytest.raises(ExecutionSuspended):
        world.cases.execute(
            case.id, actor="ua.liaison", quantity=None, now=dt.datetime(2025, 5, 10, tzinfo=dt.UTC)
        )
    resumed = world.cases.answer(
        case.id,
        actor="hegseth",
        approve=True,
        reason="Reviewed under the mechanism",
        signer=world.keys["hegseth"],
        now=dt.datetime(2025, 5, 11, 15, tzinfo=dt.UTC),
    )
    assert resumed.case.state is CaseState.APPROVED
    assert resumed.case.expires_at == dt.datetime(2025, 6, 11, tzinfo=dt.UTC)
    assert _findings(world) == []
    (expired,) = world.cases.expire(actor="admin", now=dt.datetime(2025, 6, 11, tzinfo=dt.UTC))
    assert expired.id == case.id
