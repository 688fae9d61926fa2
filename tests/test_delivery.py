"""Delivery, end to end and through faults, on SQLite and PostgreSQL: a real mail server and a
real webhook receiver on loopback (tests/notify_support.py), real dispatchers, and a real
``clearance notify run`` process killed with SIGKILL mid-delivery.

The receiver verifies every request with the ``standardwebhooks`` package's verifier and
deduplicates by ``webhook-id``; the mail server keeps every message, read back by its
``Message-ID``. Waits are bounded, and nothing is sent past this machine.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from clearance.core.access import Level, Role
from clearance.core.notices import Kind
from clearance.core.signing import Signer
from clearance.policy.engine import Screener
from clearance.service.accounts import Accounts
from clearance.service.anchoring import prepare
from clearance.service.dispatch import Dispatcher
from clearance.service.notify_keys import NotifyKeys
from clearance.service.runtime import Runtime
from clearance.settings import Notify, Smtp, load_settings
from clearance.store.db import open_database
from clearance.store.notifications import DeliveryRecord
from clearance.store.repository import Store

from .notify_support import Mailbox, Receiver, wait_for
from .test_notifications import Notified, notified_world
from .worlds import G2, T0, World

PUBLIC = "https://clearance.example.gov"
SENT_ONLY = {"delivery", "kind", "about", "case_number", "link"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    found = Mailbox().start()
    yield found
    found.stop()


def settings(mailbox: Mailbox | None, **changes: int) -> Notify:
    values = {
        "max_attempts": 3,
        "backoff_s": 1,
        "backoff_max_s": 2,
        "timeout_s": 2,
        "lease_s": 4,
        "poll_s": 1,
    } | changes
    smtp = None if mailbox is None else Smtp("127.0.0.1", mailbox.port, "clearance@example.gov")
    return Notify(public_url=PUBLIC, smtp=smtp, **values)


@dataclass
class Delivery:
    notified: Notified
    mailbox: Mailbox
    receiver: Receiver

    @property
    def world(self) -> World:
        return self.notified.world

    def dispatcher(self, store: Store | None = None, **changes: int) -> Dispatcher:
        store = store or self.world.store
        return Dispatcher(
            store, NotifyKeys(store), settings(self.mailbox, **changes), draw=lambda: 1.0
        )

    def hook(self, user: str, *kinds: Kind) -> str:
        made = self.notified.subscriptions.subscribe(
            actor=user, kinds=[k.value for k in kinds], webhook=self.receiver.url, now=T0
        )
        assert made.signing_key is not None
        assert made.signing_key.startswith("whsec_")
        self.receiver.secret = made.signing_key
        return made.subscription.id

    def rows(self) -> list[DeliveryRecord]:
        return self.notified.outbox()


@pytest.fixture
def delivery(world: World, screener: Screener, mailbox: Mailbox, receiver: Receiver) -> Delivery:
    return Delivery(notified_world(world, screener), mailbox, receiver)


def test_mail_and_webhooks_are_delivered_saying_only_the_kind_the_case_and_a_link(
    delivery: Delivery,
) -> None:
    delivery.hook("hegseth", Kind.WAITING)
    delivery.notified.email("ua.liaison", Kind.DECIDED)
    case, _ = delivery.world.cases.submit(G2, actor="ua.liaison", now=T0)
    delivery.world.cases.answer(
        case.id,
        actor="hegseth",
        approve=False,
        reason="Escalation risk",
        signer=delivery.world.keys["hegseth"],
        now=T0 + dt.timedelta(hours=1),
    )
    tally = delivery.dispatcher().run_once()
    assert (tally.taken, tally.delivered) == (2, 2), tally.errors
    rows = {r.channel: r for r in delivery.rows()}
    assert {r.state for r in rows.values()} == {"delivered"}

    [hook] = delivery.receiver.taken  # verified with the package's own verifier
    assert hook.id == rows["webhook"].id
    assert hook.body["type"] == "clearance.waiting"
    assert hook.body["data"] == {
        "delivery": rows["webhook"].id,
        "kind": "waiting",
        "about": "case 1",
        "case_number": 1,
        "link": f"{PUBLIC}/cases/1",
    }
    assert set(hook.body) == {"type", "timestamp", "data"}

    [mail] = delivery.mailbox.messages
    assert mail["Message-ID"] == f"<{rows['email'].id}@example.gov>"
    assert mail["X-Clearance-Delivery"] == rows["email"].id
    assert mail["To"] == "ua.liaison@example.gov"
    assert mail["Subject"] == "clearance: case 1: decided"
    assert f"{PUBLIC}/cases/1" in mail.get_content()
    for said in (str(hook.body), mail.as_string()):
        for secret in ("atacms", "RU", "UA employs", "Escalation risk", "UNCLASSIFIED", "deny"):
            assert secret not in said, f"a notification carried {secret!r}"


def test_each_escalation_step_is_delivered_once_in_order_by_mail_and_webhook(
    delivery: Delivery,
) -> None:
    """The seed's ladder for us.secdef, end to end: step 1 (remind the office) reaches the
    Secretary by mail and webhook on its day; steps 2 and 3 reach the President's holder
    and the auditors; a run that finds nothing new sends nothing."""
    Accounts(delivery.world.store).set_access("us.liaison", roles=(Role.AUDITOR,), clearance=Level.SECRET, actor="admin", now=T0)  # fmt: skip
    delivery.world.people.grant(
        user_id="usdp",
        authority="us.president",
        valid_from=dt.date(2025, 1, 20),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    delivery.hook("hegseth", Kind.ESCALATION)
    for user in ("hegseth", "usdp", "us.liaison"):
        delivery.notified.email(user, Kind.ESCALATION)
    monday = dt.datetime(2025, 6, 16, 9, tzinfo=dt.UTC)
    delivery.world.cases.submit(G2, actor="ua.liaison", now=monday)

    day_10 = dt.datetime(2025, 7, 1, 0, 5, tzinfo=dt.UTC)  # 10 US working days on
    assert len(delivery.world.cases.escalate(actor="admin", now=day_10)) == 1
    tally = delivery.dispatcher().run_once()
    assert (tally.taken, tally.delivered) == (2, 2), tally.errors
    [hook] = delivery.receiver.taken  # its signature verified by the receiver
    assert hook.body["type"] == "clearance.escalation"
    assert hook.body["data"]["case_number"] == 1
    [mail] = delivery.mailbox.messages
    assert (mail["To"], mail["Subject"]) == (
        "hegseth@example.gov",
        "clearance: case 1: escalated",
    )

    later = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)  # past 30 working days: steps 2 and 3
    made = delivery.world.cases.escalate(actor="admin", now=later)
    assert [m.step.step for m in made] == [2, 3]
    assert delivery.world.cases.escalate(actor="admin", now=later) == []
    tally = delivery.dispatcher().run_once()
    assert (tally.taken, tally.delivered) == (2, 2), tally.errors
    # Steps 2 and 3 are on the ledger in order; their deliveries may arrive in either.
    assert sorted(m["To"] for m in delivery.mailbox.messages[1:]) == [
        "us.liaison@example.gov",
        "usdp@example.gov",
    ]
    assert len(delivery.receiver.taken) == 1, "the Secretary's webhook hears of step 1 only"
    assert delivery.dispatcher().run_once().taken == 0


def test_a_receiver_down_is_retried_with_back_off_then_dead_then_retried_once(
    delivery: Delivery,
) -> None:
    delivery.hook("hegseth", Kind.WAITING)
    delivery.receiver.stop()
    delivery.world.cases.submit(G2, actor="ua.liaison", now=T0)
    dispatcher = delivery.dispatcher(max_attempts=3, backoff_s=1, backoff_max_s=2)
    waits = []
    for attempt in (1, 2, 3):
        tally = dispatcher.run_once()
        assert tally.taken == 1, f"attempt {attempt} was due"
        [row] = delivery.rows()
        assert row.attempts == attempt
        assert row.last_error is not None
        assert "\n" not in row.last_error
        assert delivery.receiver.url in row.last_error
        if attempt < 3:
            assert row.state == "pending"
            assert row.next_at is not None
            assert row.last_attempt_at is not None
            waits.append((row.next_at - row.last_attempt_at).total_seconds())
            assert dispatcher.run_once().taken == 0, "not due again before its back-off"
            due = row.next_at
            wait_for(lambda: dt.datetime.now(dt.UTC) >= due, seconds=5, what="back-off")  # noqa: B023
    assert row.state == "dead"
    # 1 s, then doubled: 2 s (each from its attempt, plus the time the attempt took)
    assert 1.0 <= waits[0] <= 2.0, waits
    assert 2.0 <= waits[1] <= 3.0, waits
    [dead] = delivery.notified.subscriptions.dead(actor="admin")
    assert dead.record.id == row.id

    delivery.receiver.start()
    retried = delivery.notified.subscriptions.retry(row.id, actor="admin", now=T0)
    assert (retried.record.state, retried.record.attempts) == ("pending", 0)
    assert dispatcher.run_once().delivered == 1
    assert dispatcher.run_once().taken == 0
    assert [h.id for h in delivery.receiver.taken] == [row.id], "delivered once"
    assert delivery.notified.subscriptions.dead(actor="admin") == []
    dispatcher.close()


def test_a_mail_server_down_is_retried_and_delivered_when_it_is_back(
    delivery: Delivery,
) -> None:
    delivery.notified.email("ua.liaison", Kind.DECIDED)
    delivery.mailbox.stop()
    delivery.world.cases.submit({**G2, "date": "2024-12-01"}, actor="ua.liaison", now=T0)
    dispatcher = delivery.dispatcher()
    assert dispatcher.run_once().retrying == 1
    [row] = delivery.rows()
    assert row.last_error is not None
    assert "mail server 127.0.0.1" in row.last_error
    delivery.mailbox.start()
    wait_for(lambda: dispatcher.run_once().delivered == 1, seconds=5, what="the retry")
    assert list(delivery.mailbox.by_id) == [f"<{row.id}@example.gov>"]


def test_a_row_not_written_by_clearance_is_never_sent(delivery: Delivery) -> None:
    """Someone who can write the database but does not hold the system key can neither add a
    notification nor redirect one: the seal does not hold, and the row is dead, unsent."""
    subscription = delivery.hook("hegseth", Kind.WAITING)
    delivery.world.cases.submit(G2, actor="ua.liaison", now=T0)
    with delivery.world.store.database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO outbox (id, subscription_id, event_seq, kind, about, path, channel,"
                " address, seal, created_at, state, attempts, next_at) VALUES ('forged', :s, 1,"
                " 'waiting', 'case 1', '/cases/1', 'webhook', :url, 'hmac-sha256:00',"
                " '2025-06-15 09:00:00', 'pending', 0, '2025-06-15 09:00:00')"
            ),
            {"s": subscription, "url": delivery.receiver.url + "?forged"},
        )
        connection.execute(
            text("UPDATE outbox SET address = :url WHERE id <> 'forged'"),
            {"url": delivery.receiver.url + "?redirected"},
        )
    tally = delivery.dispatcher().run_once()
    assert (tally.taken, tally.dead, tally.delivered) == (2, 2, 0)
    assert delivery.receiver.taken == []
    assert {r.last_error for r in delivery.rows()} == {
        "not sealed by this installation: never sent"
    }


def test_what_a_reader_may_no_longer_see_or_no_longer_wants_is_dropped(
    delivery: Delivery,
) -> None:
    accounts = Accounts(delivery.world.store)
    for user in ("ua.liaison", "hegseth"):
        accounts.set_access(user, roles=(Role.REQUESTER,), clearance=Level.CONFIDENTIAL, actor="admin", now=T0)  # fmt: skip
    delivery.hook("hegseth", Kind.WAITING)
    delivery.notified.email("usdp", Kind.POLICY_ACTIVATED)
    delivery.world.cases.submit(G2, actor="ua.liaison", now=T0, classification=1)
    with delivery.world.store.transaction() as tx:
        from clearance.core.events import BundleActivated

        tx.append(BundleActivated("US", "US/x", "r", T0.date()), actor="admin", at=T0)
    accounts.set_access("hegseth", roles=(), clearance=Level.UNCLASSIFIED, actor="admin", now=T0)
    [usdp] = [
        s for s in delivery.notified.subscriptions.listed(actor="admin") if s.user_id == "usdp"
    ]
    delivery.notified.subscriptions.end(usdp.id, actor="usdp", now=T0)
    tally = delivery.dispatcher().run_once()
    assert (tally.taken, tally.dropped) == (2, 2)
    assert {(r.state, r.last_error) for r in delivery.rows()} == {
        ("dropped", "its reader may no longer see the case"),
        ("dropped", "the subscription ended before delivery"),
    }
    assert delivery.receiver.taken == []
    assert delivery.mailbox.messages == []


# several dispatchers, one database ------------------------------------------------------


@pytest.mark.parametrize("takers", [2, 4])
def test_dispatchers_sharing_a_database_deliver_each_notification_exactly_once(
    delivery: Delivery, system_key: object, takers: int
) -> None:
    """As several server instances would: each dispatcher with its own engine and pool over
    the same database, taking rows under leases (SKIP LOCKED on PostgreSQL) at once."""
    delivery.hook("hegseth", Kind.WAITING)
    cases = 30
    for _ in range(cases):
        delivery.world.cases.submit(G2, actor="ua.liaison", now=T0)
    assert len(delivery.rows()) == cases
    url = delivery.world.store.database.engine.url.render_as_string(hide_password=False)
    stores = [Store(open_database(url), sealer=delivery.world.store.sealer) for _ in range(takers)]
    dispatchers = [delivery.dispatcher(store) for store in stores]
    for dispatcher in dispatchers:
        dispatcher.batch = 3
    threads = [threading.Thread(target=d.run, kwargs={"poll_s": 1}) for d in dispatchers]
    for thread in threads:
        thread.start()
    try:
        wait_for(
            lambda: {r.state for r in delivery.rows()} == {"delivered"},
            seconds=60,
            what="every notification delivered",
        )
    finally:
        for dispatcher in dispatchers:
            dispatcher.halt()
        for thread in threads:
            thread.join(timeout=20)
        for dispatcher, store in zip(dispatchers, stores, strict=True):
            dispatcher.close()
            store.database.dispose()
    sent = [h.id for h in delivery.receiver.taken]
    assert len(sent) == cases, "no notification sent twice"
    assert set(sent) == {r.id for r in delivery.rows()}


# the dispatcher of a server, and of a process killed mid-delivery -------------------------


def _installation(
    tmp_path: Path, database_url: str, keys: dict[str, tuple[str, Signer]], **env: str
) -> tuple[dict[str, str], Runtime]:
    environ = {
        "CLEARANCE_DATA_DIR": str(tmp_path / "data"),
        "CLEARANCE_DATABASE_URL": database_url,
        "CLEARANCE_PUBLIC_URL": PUBLIC,
        **env,
    }
    runtime = Runtime(load_settings(environ))
    prepare(runtime.store, runtime.settings.system_key, now=T0)
    for user, party in (("ua.liaison", "UA"), ("hegseth", "US")):
        runtime.people.add_user(
            user_id=user, name=user, party=party, public_key=keys[user][0], actor="admin", now=T0
        )
    runtime.people.grant(
        user_id="hegseth",
        authority="us.secdef",
        valid_from=dt.date(2025, 1, 25),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    return environ, runtime


def test_the_server_runs_a_dispatcher_woken_by_each_commit(
    tmp_path: Path,
    database_url: str,
    receiver: Receiver,
    world_keys: dict[str, tuple[str, Signer]],
) -> None:
    from clearance.web.app import create_app

    from .api_support import TestClient

    _, runtime = _installation(
        tmp_path, database_url, world_keys, CLEARANCE_NOTIFY_POLL_SECONDS="600"
    )
    try:
        made = runtime.subscriptions.subscribe(
            actor="hegseth", kinds=["waiting"], webhook=receiver.url, now=T0
        )
        receiver.secret = made.signing_key
        with TestClient(create_app(runtime)):
            started = time.monotonic()
            runtime.cases.submit(G2, actor="ua.liaison", now=T0)
            wait_for(lambda: bool(receiver.taken), seconds=10, what="the webhook")
            assert time.monotonic() - started < 5, "woken by the commit, not by its poll"
        threads = [t.name for t in threading.enumerate()]
        assert "notifications" not in threads, "stopped with the server"
    finally:
        runtime.database.dispose()


def _dispatcher_process(environ: dict[str, str]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARANCE_")}
    env |= environ
    return subprocess.Popen(
        [sys.executable, "-m", "clearance", "notify", "run", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_a_dispatcher_killed_mid_delivery_is_restarted_and_the_receiver_deduplicates(
    tmp_path: Path,
    database_url: str,
    receiver: Receiver,
    world_keys: dict[str, tuple[str, Signer]],
) -> None:
    environ, runtime = _installation(
        tmp_path,
        database_url,
        world_keys,
        CLEARANCE_NOTIFY_TIMEOUT_SECONDS="3",
        CLEARANCE_NOTIFY_LEASE_SECONDS="6",
        CLEARANCE_NOTIFY_POLL_SECONDS="1",
    )
    try:
        made = runtime.subscriptions.subscribe(
            actor="hegseth", kinds=["waiting"], webhook=receiver.url, now=T0
        )
        receiver.secret = made.signing_key
        runtime.cases.submit(G2, actor="ua.liaison", now=T0)
        receiver.hold = threading.Event()
        receiver.hold.set()
        first = _dispatcher_process(environ)
        try:
            arrived = receiver.arrived.wait(30)
            first.send_signal(signal.SIGKILL)  # mid-delivery: sent, not yet answered
            _, err = first.communicate(timeout=10)
            assert arrived, err
            assert first.returncode == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
            receiver.hold.clear()
        with runtime.store.reading() as tx:
            [row] = tx.notifications.deliveries()
        assert (row.state, row.attempts) == ("pending", 1)
        assert row.leased_by is not None, "still leased by the killed dispatcher"

        second = _dispatcher_process(environ)
        try:

            def delivered() -> bool:
                with runtime.store.reading() as tx:
                    return tx.notifications.deliveries()[0].state == "delivered"

            wait_for(delivered, seconds=30, what="delivery after the restart")
            second.send_signal(signal.SIGTERM)
            out, err = second.communicate(timeout=20)
        finally:
            if second.poll() is None:
                second.kill()
                second.communicate()
        assert second.returncode == 0, err
        assert '"delivered": 1' in out
        assert [h.id for h in receiver.taken] == [row.id, row.id], "sent again after the kill"
        assert list(receiver.unique) == [row.id], "the receiver keeps one"
    finally:
        runtime.database.dispose()
