"""What the server does by the clock: one checkpoint per interval, and each escalation step
once, for every process alike."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

from clearance.core.chain import EventType
from clearance.core.events import EscalationReached
from clearance.core.workflow import CaseState
from clearance.policy.pack import default_pack_path
from clearance.web.clock import ClockCheckpoints, ClockDeadlines

from .api_support import Api, open_api
from .test_api import (  # noqa: F401 (the demo world's fixtures)
    postgresql_template,
    seeded,
    sqlite_template,
)


def _interval_checkpoints(api: Api) -> list[str]:
    with api.server.store.reading() as tx:
        return [s.checkpoint.at for s in tx.checkpoints.all() if s.reason == "interval"]


def test_a_running_server_signs_one_checkpoint_per_interval(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clearance.db'}"
    with open_api(tmp_path / "data", url, CLEARANCE_CHECKPOINT_MINUTES="1") as api:
        api.server.prepare()
        clocks = [ClockCheckpoints(api.server, tick=0.05) for _ in range(2)]  # two processes
        for clock in clocks:
            clock.start()
        try:
            deadline = time.monotonic() + 10
            while not _interval_checkpoints(api) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # ten more ticks each: none is due again within the minute
        finally:
            for clock in clocks:
                clock.stop()
        assert len(_interval_checkpoints(api)) == 1


def test_no_checkpoints_by_the_clock_when_the_setting_is_zero(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clearance.db'}"
    with open_api(tmp_path / "data", url, CLEARANCE_CHECKPOINT_MINUTES="0") as api:
        api.server.prepare()
        clock = ClockCheckpoints(api.server, tick=0.05)
        clock.start()
        time.sleep(0.3)
        clock.stop()
        assert _interval_checkpoints(api) == []


def _steps(api: Api) -> list[tuple[str | None, str, int]]:
    with api.server.store.reading() as tx:
        found = []
        for record in tx.ledger.of_type(EventType.ESCALATION_REACHED):
            payload = record.event.payload
            assert isinstance(payload, EscalationReached)
            found.append((record.case_id, payload.office, payload.step))
        return found


def test_two_running_servers_record_each_escalation_step_once(
    seeded: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The demo's cases in review were submitted 45 days ago: past the Secretary's first
    steps. Two processes looking every tick record each step one time between them."""
    with open_api(tmp_path / "data", seeded) as api:
        clocks = [ClockDeadlines(api.server, tick=0.05) for _ in range(2)]
        for clock in clocks:
            clock.start()
        try:
            deadline = time.monotonic() + 10
            while not _steps(api) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # ten more ticks each: nothing new comes due
        finally:
            for clock in clocks:
                clock.stop()
        steps = _steps(api)
    assert steps, "no escalation step was recorded by the clock"
    assert len(steps) == len(set(steps)), "a step was recorded twice"
    for case in {c for c, _, _ in steps}:
        numbers = [n for c, o, n in steps if c == case and o == "us.secdef"]
        assert numbers == list(range(1, len(numbers) + 1)), "steps out of order"


def test_on_the_day_a_bundle_takes_effect_a_running_server_suspends_what_it_no_longer_permits(
    seeded: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A copy of the seed pack with the review mechanism taking effect again on 1 January
    2030 (a new revision): the demo's strike of December 2024, approved and not executed,
    is suspended for the Secretary on that day, by the server's clock and nobody's act."""
    pack = tmp_path / "pack"
    shutil.copytree(default_pack_path(), pack)
    later = pack / "bundles" / "US" / "2030-01-01"
    shutil.copytree(pack / "bundles" / "US" / "2025-08-28", later)
    meta = (later / "bundle.yaml").read_text()
    (later / "bundle.yaml").write_text(meta.replace("2025-08-28", "2030-01-01"))
    with open_api(tmp_path / "data", seeded, CLEARANCE_SCENARIO=str(pack)) as api:
        assert not api.server.cases.bundle_took_effect(now=api.server.now())
        day = dt.datetime(2030, 1, 1, 0, 5, tzinfo=dt.UTC)
        api.server.now = lambda: day  # type: ignore[method-assign]
        assert api.server.cases.bundle_took_effect(now=day)
        clock = ClockDeadlines(api.server, tick=0.05)
        clock.start()
        try:
            deadline = time.monotonic() + 10
            while api.server.cases.bundle_took_effect(now=day) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            clock.stop()
        with api.server.store.reading() as tx:
            suspended = [c for c in tx.cases.page(limit=100) if c.state is CaseState.SUSPENDED]
        assert [c.decision.record["request"]["date"] for c in suspended] == ["2024-12-01"]
        assert [a.authority for a in suspended[0].decision.required_approvals] == ["us.secdef"]
