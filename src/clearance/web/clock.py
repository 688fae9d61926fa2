"""What the server does by the clock while it runs: sign the ledger's head every
``CLEARANCE_CHECKPOINT_MINUTES`` (service/anchoring.py ``checkpoint_if_due``), and record
the escalation steps whose day has come (service/escalation.py), and expire the
approvals whose lifetime has passed (service/expiry.py).

One thread per job per server process; the database serialises them, so a
fleet of processes signs one checkpoint per interval and records each
escalation step once between them. A failure is logged and tried again at the
next tick: it never stops the server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from clearance.core.actors import ADMIN
from clearance.errors import ClearanceError
from clearance.service.anchoring import checkpoint_if_due, installation_key
from clearance.service.runtime import Runtime

__all__ = ["ClockCheckpoints", "ClockDeadlines"]

log = logging.getLogger("clearance.web")

DEADLINES_TICK_S = 300.0
"""How often a running server looks for escalation steps and lapsed approvals (5 minutes:
both fall due by the day, so the first look after midnight finds them soon enough)."""


class _Ticker:
    """Run ``job`` every ``tick`` seconds in a thread of its own, from one tick after start."""

    def __init__(self, name: str, tick: float, job: Callable[[], None]) -> None:
        self.name = name
        self.tick = tick
        self._job = job
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self._job()
            except ClearanceError as exc:
                log.error("%s by the clock failed: %s", self.name, exc.message)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class ClockCheckpoints(_Ticker):
    """Every ``tick`` seconds (a minute), sign a checkpoint if none was signed for the
    setting's minutes; the first look is one tick after the server starts."""

    def __init__(self, server: Runtime, tick: float = 60.0) -> None:
        self.server = server
        self.minutes = server.settings.checkpoint_minutes
        super().__init__("checkpoints", min(tick, self.minutes * 60.0), self._checkpoint)

    def start(self) -> None:
        if self.minutes > 0:
            super().start()

    def _checkpoint(self) -> None:
        if installation_key(self.server.store) is None:
            return  # not set up yet
        made = checkpoint_if_due(self.server.store, now=self.server.now(), minutes=self.minutes)
        if made is not None:
            log.info("checkpoint", extra={"fields": {"seq": made.seq, "head": made.head}})


class ClockDeadlines(_Ticker):
    """Every ``tick`` seconds, what the calendar has made due: expire the approvals whose
    lifetime has passed, re-screen on the day a bundle of the pack takes effect by its date
    (which suspends the approved cases it would no longer permit), and record the
    escalation steps whose day has come."""

    def __init__(self, server: Runtime, tick: float = DEADLINES_TICK_S) -> None:
        self.server = server
        super().__init__("deadlines", tick, self._run_due)

    def _run_due(self) -> None:
        if installation_key(self.server.store) is None:
            return  # not set up yet: nothing can be recorded
        now = self.server.now()
        for case in self.server.cases.expire(actor=ADMIN, now=now):  # lapsed: not judged again
            log.info("expired", extra={"fields": {"case": case.number}})
        if self.server.cases.bundle_took_effect(now=now):
            found = self.server.cases.rescreen(actor=ADMIN, now=now)
            counts = {"changed": len(found.changed), "suspended": len(found.suspended)}
            log.info("bundle took effect: re-screened", extra={"fields": counts})
        for made in self.server.cases.escalate(actor=ADMIN, now=now):
            fields = {"case": made.case.number, "office": made.step.office, "step": made.step.step}
            log.info("escalation", extra={"fields": fields})
