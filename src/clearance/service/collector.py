"""The cycle collector set for work that makes many small objects and few or no cycles.

CPython's collector starts a pass after every 700 new objects, and a full
pass walks every object the process holds (the pack, the modules, what the
work has kept so far). Building the stockpile board, replaying stored cases
and screening a long stream each make a few objects per position, case or
line, hundreds of thousands in all, so the passes cost more than the work
(docs/benchmarks.md measures each). The board and replay make no cycles per
position or case, so the collector is paused around them
(``collector_paused``; tests hold that more positions or cases leave no more
cycles: tests/test_stock_move_rules.py, tests/test_replay.py). A stream's bad
line leaves a cycle now and then (its error and traceback), so screening keeps
the collector on, only less often (``for_a_long_stream``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["YOUNG_PASS_EVERY", "collector_paused", "for_a_long_stream"]

YOUNG_PASS_EVERY = 10_000
"""New objects between passes over the youngest objects on a long stream (CPython: 700)."""


_pauses = 0
"""How many ``collector_paused`` blocks are open in this process, in any thread."""
_was_enabled = False
"""Whether the collector was on when the first of the open blocks began."""
_pausing = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector for the block. Blocks may overlap, in threads of a server
    (the board): the first to begin notes whether the collector was on, and the last to end
    puts it back so; each on its own would read the others' pause as the caller's choice,
    and could leave the collector off for good."""
    global _pauses, _was_enabled
    with _pausing:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pausing:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


def for_a_long_stream() -> None:
    """Set this process's collector for a stream that runs until the process ends: what is
    loaded so far (the modules, the pack) is frozen out of every pass, and the youngest
    objects are looked at every ``YOUNG_PASS_EVERY`` new ones. Passes still run, so the
    cycles bad lines leave are collected and memory stays bounded however long the stream."""
    gc.freeze()
    gc.set_threshold(YOUNG_PASS_EVERY)
