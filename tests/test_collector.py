"""``service.collector``: pauses of the cycle collector that overlap, as they do in the
threads of a server, leave it as the first found it."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator

import pytest

from clearance.service.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_on_after() -> Iterator[None]:
    yield
    gc.enable()


def test_overlapping_pauses_end_with_the_last_and_leave_it_on() -> None:
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second block is still open
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    gc.disable()
    with collector_paused(), collector_paused():
        pass
    assert not gc.isenabled()


def test_pauses_in_many_threads_at_once_leave_it_on() -> None:
    """Without one lock over a pause's beginning and end, a thread could read the collector
    off (another's pause), the other end its pause and turn it on, and the first then turn
    it off and, having found it off, leave it so for good."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch between any two steps of a pause
    try:

        def pause_often() -> None:
            for _ in range(300):
                with collector_paused():
                    pass

        threads = [threading.Thread(target=pause_often) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    assert gc.isenabled()
