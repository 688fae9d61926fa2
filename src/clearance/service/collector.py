"""The cycle collector paused around work that makes many small objects and no cycles.

CPython's collector starts a pass after every few hundred new objects, and a
full pass walks every object the process holds (the pack, parsed Cedar, the
modules). Building the stockpile board and replaying stored cases each make
one or a few acyclic objects per position or case, hundreds of thousands in
all, so the passes cost more than the work (docs/benchmarks.md measures
both). Nothing is lost by pausing it there: reference counting frees what
that work makes, and tests hold each free of reference cycles
(tests/test_stockpile.py, tests/test_replay.py).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector for the block; a collector paused before stays paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
