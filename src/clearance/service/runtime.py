"""The composition root: settings, the database, the pack, the screener and the services of
one process, built in one place for the command line and the web server alike.

A command opens a runtime and uses what it needs: the database is opened at
once (a pool that connects on first use) and the pack is loaded only when a
service asks for it, so a command that never screens never reads the pack.
A server keeps one runtime for its life.

Nothing here is state that two instances could disagree on for long:
sessions, tokens, idempotency keys, versions and the ledger all live in the
database, so any number of instances against one PostgreSQL behave as one.
The policy in force is the pack plus the activated proposals in the
database; a runtime looks for a new activation at most once a second
(``POLICY_RECHECK_S``) and then rebuilds its screener and case service.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from pathlib import Path

from clearance.core.signing import Signer
from clearance.errors import ClearanceError, InputError, StoreError
from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack, load_pack
from clearance.service.access import Action, check, may, principal
from clearance.service.accounts import Accounts
from clearance.service.activation import Activated
from clearance.service.anchoring import prepare, sealed_store
from clearance.service.cases import CaseService
from clearance.service.dispatch import Dispatcher
from clearance.service.inbox import InboxItem, inbox
from clearance.service.keyfiles import open_key_file
from clearance.service.notifications import Notifier
from clearance.service.notify_keys import NotifyKeys
from clearance.service.oversight import WaitingReport, waiting_report
from clearance.service.people import People
from clearance.service.proposals import PolicyProposals
from clearance.service.subscriptions import Subscriptions
from clearance.settings import Settings
from clearance.store.db import NOT_INITIALISED, not_made, open_database
from clearance.store.records import CaseRecord

# The store's names the interfaces use, given them here: they import nothing from the store.
__all__ = ["POLICY_RECHECK_S", "CaseRecord", "Runtime"]

POLICY_RECHECK_S = 1.0
INBOX_COUNTS_KEPT = 10_000
"""Users whose inbox count a runtime keeps at most (then it forgets them all and starts over)."""

log = logging.getLogger("clearance.runtime")


class Runtime:
    """Settings, store and services of one process; ``screener`` and ``cases`` follow
    activations (module doc)."""

    def __init__(
        self, settings: Settings, *, scenario: Path | None = None, create: bool = True
    ) -> None:
        """``create=False`` opens only a database that is there: a SQLite file not made yet
        is refused in the words that say to run ``clearance init``, and nothing is made
        (neither the file nor the data folder)."""
        self.settings = settings
        if not create and not_made(settings.database_url):
            raise StoreError(NOT_INITIALISED)
        # The data folder holds the database and private keys: its owner's only.
        try:
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            folder = f"CLEARANCE_DATA_DIR ({settings.data_dir})"
            raise InputError(folder, f"cannot be made a folder: {exc.strerror or exc}") from None
        self.database = open_database(
            settings.database_url, synchronous=settings.sqlite_synchronous
        )
        self.store = sealed_store(
            self.database, key_path=settings.system_key, data_dir=settings.data_dir
        )
        # Notifications are queued in the transaction of their event, and this process's
        # dispatcher is woken after it commits (service/notifications.py).
        self.notify_keys = NotifyKeys(self.store)
        self.notifier = Notifier(self.notify_keys, authority_of=self.policy_authority)
        self.store.reactors.append(self.notifier.react)
        self.store.observers.append(self.notifier.committed)
        self._scenario = scenario or settings.scenario
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._marker: tuple[int, int] | None = None
        self._built: tuple[Screener, CaseService] | None = None
        self._inbox_counts: dict[str, tuple[object, int]] = {}

    @functools.cached_property
    def pack(self) -> ScenarioPack:
        """The scenario pack on disk, loaded once, when first needed."""
        return load_pack(self._scenario)

    @functools.cached_property
    def people(self) -> People:
        return People(self.store, self.pack.catalog)

    @functools.cached_property
    def accounts(self) -> Accounts:
        return Accounts(self.store, token_days=self.settings.token_days)

    @functools.cached_property
    def proposals(self) -> PolicyProposals:
        return PolicyProposals(self.store, self.pack)

    def _current(self) -> tuple[Screener, CaseService]:
        now = time.monotonic()
        if self._built is None or now - self._checked >= POLICY_RECHECK_S:
            with self._lock:
                if self._built is None or now - self._checked >= POLICY_RECHECK_S:
                    self._refresh()
                    self._checked = now
        assert self._built is not None
        return self._built

    def _refresh(self) -> None:
        marker = self.proposals.activated_marker()
        if marker == self._marker and self._built is not None:
            return
        screener = Screener(self.proposals.in_force())
        cases = CaseService(self.store, screener, default_sla_days=self.settings.sla_days)
        self._built, self._marker = (screener, cases), marker

    def policy_changed(self) -> None:
        """Look for the new policy on the next use (this process has just activated one)."""
        self._checked = float("-inf")

    @property
    def screener(self) -> Screener:
        """The policy in force: the pack and the proposals activated in the database."""
        return self._current()[0]

    @property
    def cases(self) -> CaseService:
        return self._current()[1]

    def prepare(self) -> None:
        """Migrate the database and anchor the ledger, as ``clearance init`` does."""
        prepare(self.store, self.settings.system_key, now=self.now())

    def key_path(self, user: str, given: Path | None = None) -> Path:
        """A user's key file: ``given``, or the one under the data folder."""
        return given or self.settings.data_dir / "keys" / f"{user}.key"

    def signer(self, user: str, passphrase: str) -> Signer:
        """``user``'s own key on this server, unlocked with ``passphrase`` when it first signs:
        a use case signs only once the rest holds, so a case or proposal the user may not
        see is not found before their key is asked for (an old key file is resealed in the
        current format as it is)."""

        def sign(message: bytes) -> str:
            key = open_key_file(
                self.key_path(user),
                passphrase,
                missing=f"no signing key is registered on this server for {user}",
            )
            return key(message)

        return sign

    def may(self, actor: str, action: Action) -> bool:
        """``service.access.may`` for an action about no resource (a role), as ``actor``
        stands now: for an interface deciding what to offer, never instead of a use case."""
        with self.store.reading() as tx:
            return may(principal(tx, actor, self.now().date()), action)

    def check(self, actor: str, action: Action) -> None:
        """``service.access.check`` for an action about no resource, as ``may``."""
        with self.store.reading() as tx:
            check(principal(tx, actor, self.now().date()), action)

    def activate_proposal(self, number: int, *, actor: str, signer: Signer) -> Activated:
        """Activate a proposal as ``actor``, then re-screen the open cases under it.

        This process uses the new policy at once rather than within a second, and
        the re-screening puts any changed finding on the open cases' timelines.
        Once the activation is committed the answer says so, whatever happens to
        the re-screening after it: a re-screening that cannot run is reported with
        the activation, never as its failure.
        """
        view = self.proposals.activate(number, actor=actor, signer=signer, now=self.now())
        self.policy_changed()
        try:
            cases = self.cases
            found = cases.rescreen(actor=actor, now=self.now())
        except ClearanceError as exc:
            return Activated(view, (), rescreen_error=_not_rescreened(exc.message))
        except Exception:  # a bug: logged with its traceback, and the activation still stands
            log.exception("re-screening after activating proposal %s failed", number)
            return Activated(
                view, (), rescreen_error=_not_rescreened("internal error; it has been logged")
            )
        listed = [row[0] for row in found.changed] + [row[0] for row in found.failed]
        listed += [row[0] for row in found.suspended]
        seen = cases.seen_by(actor, listed)
        return Activated(
            view,
            tuple(row for row in found.changed if row[0].id in seen),
            tuple(row for row in found.failed if row[0].id in seen),
            suspended=tuple(row for row in found.suspended if row[0].id in seen),
        )

    def policy_authority(self, holder: str, day: dt.date) -> str | None:
        """The office that may activate ``holder``'s policy on ``day``: the bundle in force's
        ``policy_authority``, by the policy in force in this process."""
        bundle = self.screener.history.bundle_in_force(holder, day)
        return None if bundle is None else bundle.policy_authority

    def inbox(self, *, actor: str) -> list[InboxItem]:
        """What waits for ``actor`` today (``service.inbox``), proposals judged by the policy
        in force in this process."""
        return inbox(
            self.store,
            actor=actor,
            now=self.now(),
            clocks=self.cases.clocks,
            authority_of=self.policy_authority,
        )

    @functools.cached_property
    def subscriptions(self) -> Subscriptions:
        def is_office(office: str) -> bool:
            return self.pack.catalog.authority(office) is not None

        return Subscriptions(
            self.store,
            self.notify_keys,
            is_office=is_office,
            timeout_s=self.settings.notify.timeout_s,
        )

    def dispatcher(self) -> Dispatcher:
        """A dispatcher of this process's outbox deliveries, woken by its commits."""
        return Dispatcher(
            self.store, self.notify_keys, self.settings.notify, wake=self.notifier.wake
        )

    def inbox_count(self, *, actor: str) -> int:
        """How many things wait for ``actor`` today: the length of their ``inbox``, by its
        rules, for the navigation of every page.

        An inbox reads every open case, so each count is kept, per user, with the point of
        the ledger and the day it was taken at, and taken again only once either has moved
        on: everything an inbox reads (cases, answers, conditions, proposals, offices,
        delegations, a user's access, the policy in force) changes only with an event on
        the ledger, so a page costs one small query while nothing has been recorded. What
        is kept is keyed by what is in the database, so two instances never disagree."""
        now = self.now()
        self._current()  # the policy in force, as ``inbox`` will judge proposals by
        with self.store.reading() as tx:
            seen = (now.date(), tx.ledger.last_seq(), self._marker)
        kept = self._inbox_counts.get(actor)
        if kept is not None and kept[0] == seen:
            return kept[1]
        count = len(self.inbox(actor=actor))
        if len(self._inbox_counts) >= INBOX_COUNTS_KEPT:
            self._inbox_counts.clear()
        self._inbox_counts[actor] = (seen, count)
        return count

    def waiting_report(
        self, *, actor: str, first: dt.date | None = None, last: dt.date | None = None
    ) -> WaitingReport:
        """The report of waiting per office and month (``service.oversight``) as ``actor``
        may see it now, by the review clocks of the policy in force in this process."""
        return waiting_report(
            self.store, self.cases.clocks, actor=actor, now=self.now(), first=first, last=last
        )

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def _not_rescreened(why: str) -> str:
    return f"the open cases were not re-screened ({why}); run 'clearance cases rescreen'"
