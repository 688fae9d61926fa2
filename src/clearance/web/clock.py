"""Checkpoints by the clock: while the server runs, the ledger's head is signed every
``CLEARANCE_CHECKPOINT_MINUTES`` (service/anchoring.py ``checkpoint_if_due``).

One thread per server process; the database serialises them, so a fleet of
processes signs one checkpoint per interval between them. A failure is
logged and tried again at the next tick: it never stops the server.
"""

from __future__ import annotations

import logging
import threading

from clearance.errors import ClearanceError
from clearance.service.anchoring import checkpoint_if_due, installation_key
from clearance.service.runtime import Runtime

__all__ = ["ClockCheckpoints"]

log = logging.getLogger("clearance.web")


class ClockCheckpoints:
    """Every ``tick`` seconds (a minute), sign a checkpoint if none was signed for the
    setting's minutes; the first look is one tick after the server starts."""

    def __init__(self, server: Runtime, tick: float = 60.0) -> None:
        self.server = server
        self.minutes = server.settings.checkpoint_minutes
        self.tick = min(tick, self.minutes * 60.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.minutes <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                made = None
                if installation_key(self.server.store) is not None:  # else: not set up yet
                    made = checkpoint_if_due(
                        self.server.store, now=self.server.now(), minutes=self.minutes
                    )
                if made is not None:
                    log.info("checkpoint", extra={"fields": {"seq": made.seq, "head": made.head}})
            except ClearanceError as exc:
                log.error("no checkpoint by the clock: %s", exc.message)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
