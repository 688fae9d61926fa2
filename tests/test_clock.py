"""Checkpoints by the clock: while the server runs, one per interval, for every process alike."""

from __future__ import annotations

import time
from pathlib import Path

from clearance.web.clock import ClockCheckpoints

from .api_support import Api, open_api


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
