"""The tables are bound to the ledger: every row changed, added or removed behind clearance's
back is named by ``audit verify``, on SQLite and on PostgreSQL.

The world here has users with roles and clearances, offices, a delegation,
a TOP SECRET case denied personally, a transfer that moved stock, an API
token, a password and a subscription to notifications: every kind of fact the
tables hold.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from clearance.core.access import Level, Role
from clearance.core.chain import EventType, event_body
from clearance.core.events import ApprovalDenied
from clearance.service import audit
from clearance.service.accounts import Accounts
from clearance.service.anchoring import WITNESS_FILE, SystemKey, Witness
from clearance.service.notify_keys import NotifyKeys
from clearance.service.subscriptions import Subscriptions
from clearance.store.repository import Store

from .worlds import G2, G5, T0, World


@pytest.fixture
def story(world: World) -> World:
    accounts = Accounts(world.store)
    for user, role in (("ua.liaison", Role.REQUESTER), ("hegseth", Role.REVIEWER)):
        accounts.set_access(user, roles=(role,), clearance=Level.TOP_SECRET, actor="admin", now=T0)
    accounts.set_password("us.liaison", "a long enough password", actor="admin", now=T0)
    accounts.issue_token("us.liaison", "scripts", actor="us.liaison", now=T0)
    world.people.delegate(
        holder_id="usdp",
        delegate_id="us.liaison",
        authority="us.usdp",
        valid_from=T0.date(),
        valid_to=T0.date() + dt.timedelta(days=30),
        now=T0,
    )
    secret, _ = world.cases.submit(G2, actor="ua.liaison", now=T0, classification=3)
    world.cases.answer(
        secret.id,
        actor="hegseth",
        approve=False,
        reason="Not now.",
        signer=world.keys["hegseth"],
        now=T0 + dt.timedelta(hours=1),
    )
    world.cases.submit(G5, actor="us.liaison", now=T0)
    notices = Subscriptions(world.store, NotifyKeys(world.store), is_office=lambda office: True)
    notices.subscribe(actor="hegseth", kinds=["waiting"], email="hegseth@example.gov", now=T0)
    return world


def _verify(store: Store, system_key: SystemKey, tmp_path: Path) -> audit.AuditReport:
    return audit.verify(
        store,
        key=audit.TrustedKey(system_key.public_key, "tests"),
        witness=Witness(tmp_path / WITNESS_FILE),
    )


def _sql(store: Store, statement: str) -> None:
    with store.database.engine.begin() as connection:
        connection.execute(text(statement))


def test_an_untouched_world_agrees_with_its_ledger(
    story: World, system_key: SystemKey, tmp_path: Path
) -> None:
    report = _verify(story.store, system_key, tmp_path)
    assert report.ok, report.findings
    assert report.rows >= 18


def test_every_event_is_read_back_to_the_body_it_was_written_as(story: World) -> None:
    """The typed payloads write what was always written: each event's body, rebuilt from its
    typed reading, is the stored body byte for byte, so no hash or seal could differ."""
    with story.store.reading() as tx:
        events = tx.ledger.page(max_level=None, limit=1000)
    assert {e.type for e in events} >= {
        "user_added",
        "user_access_changed",
        "api_token_issued",
        "holding_granted",
        "delegation_granted",
        "case_submitted",
        "case_state_changed",
        "approval_denied",
        "stock_moved",
        "subscription_added",
    }
    for record in events:
        event = record.event
        rebuilt = event_body(
            at=event.at.isoformat(),
            actor=event.actor,
            type=event.type,
            case_id=event.case_id,
            payload=event.payload.to_payload(),
        )
        assert rebuilt == record.body


@pytest.mark.parametrize(
    ("tampering", "named"),
    [
        ("UPDATE cases SET classification = 0 WHERE number = 1", "cases: row"),
        ("UPDATE cases SET state = 'approved', is_open = false WHERE number = 1", "has state"),
        ("UPDATE cases SET outcome = 'permitted' WHERE number = 1", "has outcome"),
        ("UPDATE cases SET request = replace(request, '2', '200') WHERE number = 1", "has request"),
        ("UPDATE cases SET decision = '[]' WHERE number = 1", "has decision"),
        ("UPDATE cases SET state = 'bogus' WHERE number = 1", "has state"),
        ("UPDATE cases SET is_open = true WHERE number = 1", "has is_open"),
        ("UPDATE cases SET due_at = '2030-01-01 00:00:00' WHERE number = 2", "has due_at"),
        ("UPDATE cases SET expires_at = '2099-01-01 00:00:00' WHERE number = 2", "has expires_at"),
        ("UPDATE cases SET expires_at = NULL WHERE number = 2", "has expires_at"),
        ("UPDATE cases SET asked_on = '2024-01-01' WHERE number = 1", "has asked_on"),
        ("UPDATE cases SET quantity = quantity + 1 WHERE number = 1", "has quantity"),
        ("UPDATE cases SET request_shape = 'sha256:0' WHERE number = 1", "has request_shape"),
        ("UPDATE cases SET request_shape = NULL WHERE number = 1", "has request_shape"),
        ("UPDATE cases SET stockpile_digest = 'sha256:0' WHERE number = 1", "has stockpile_digest"),
        ("UPDATE approvals SET reason = 'Approved after all.'", "has reason"),
        ("UPDATE approvals SET verdict = 'approve'", "has verdict"),
        ("DELETE FROM approvals", "approvals: row"),
        ("UPDATE users SET roles = 'admin', clearance = 3 WHERE id = 'us.liaison'", "has roles"),
        ("UPDATE users SET public_key = 'AAAA' WHERE id = 'hegseth'", "has public_key"),
        ("UPDATE users SET password_hash = 'x' WHERE id = 'us.liaison'", "has password_hash"),
        (
            "INSERT INTO holdings (user_id, authority, valid_from) VALUES"
            " ('ua.liaison', 'us.secdef', '2025-01-01')",
            "is not recorded by any event",
        ),
        ("UPDATE holdings SET valid_to = NULL WHERE user_id = 'austin'", "has valid_to"),
        ("DELETE FROM delegations", "is missing"),
        ("UPDATE stock_movements SET quantity = quantity + 1", "has quantity"),
        ("UPDATE stock_totals SET committed = 0", "has committed"),
        ("UPDATE decision_counts SET count = count + 5", "has count"),
        (
            "INSERT INTO api_tokens (id, token_hash, user_id, name, created_at, expires_at)"
            " VALUES ('forged', 'sha256:00', 'hegseth', 'mine', '2025-06-15 09:00:00',"
            " '2030-01-01 00:00:00')",
            "is not recorded by any event",
        ),
        ("UPDATE api_tokens SET revoked_at = NULL, token_hash = 'sha256:11'", "has token_hash"),
        ("UPDATE conditions SET met_at = '2025-07-01 00:00:00', met_by = 'x'", "has met_at"),
        ("DELETE FROM cases WHERE number = 2", "is missing"),
        ("UPDATE subscriptions SET address = 'someone@example.org'", "has address"),
        ("UPDATE subscriptions SET ended_at = '2025-07-01 00:00:00'", "has ended_at"),
        ("DELETE FROM subscriptions", "is missing"),
        ("DELETE FROM case_terms WHERE term = 'us.secdef'", "case_terms: row"),
        ("UPDATE case_terms SET term = 'xx' WHERE term = 'ru'", "is not recorded by any event"),
        (
            "INSERT INTO case_terms (term, case_id) SELECT 'us.president', id FROM cases",
            "is not recorded by any event",
        ),
        (
            "INSERT INTO subscriptions (id, user_id, kinds, channel, address, created_at,"
            " created_by) VALUES ('forged', 'ua.liaison', 'waiting decided', 'email',"
            " 'someone@example.org', '2025-06-15 09:00:00', 'ua.liaison')",
            "is not recorded by any event",
        ),
    ],
)
def test_a_changed_table_row_is_named(
    story: World, system_key: SystemKey, tmp_path: Path, tampering: str, named: str | None
) -> None:
    if "stock" in tampering or "conditions" in tampering:
        with story.store.reading() as tx:
            assert tx.stock.totals() or "conditions" in tampering
    if tampering.startswith("DELETE FROM cases"):
        _sql(story.store, "DELETE FROM stock_movements")
        _sql(story.store, "DELETE FROM conditions")
        _sql(story.store, "DELETE FROM case_terms")
    _sql(story.store, tampering)
    report = _verify(story.store, system_key, tmp_path)
    assert not report.ok
    if named is not None:
        assert any(named in f.problem for f in report.findings), report.findings


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"prior_hash": "sha256:" + "0" * 64}, "another point of the ledger"),
        ({"reason": "changed after signing"}, "signature does not verify"),
    ],
)
def test_a_signed_statement_that_does_not_hold_is_named(
    story: World, system_key: SystemKey, tmp_path: Path, change: dict[str, str], named: str
) -> None:
    """Each answer's statement names the ledger head it was signed over and is signed by its
    actor: audit checks both on every event that records one. The events here are written
    with the system key, as a faulty or dishonest writer holding it would."""
    with story.store.reading() as tx:
        denial = tx.ledger.of_type(EventType.APPROVAL_DENIED)[0]
    payload = denial.event.payload
    assert isinstance(payload, ApprovalDenied)
    with story.store.transaction() as tx:
        prev_seq, prev_hash = tx.ledger.head()
        statement = {**payload.statement, "prior_seq": prev_seq, "prior_hash": prev_hash}
        signature = story.keys["hegseth"](
            json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
        )
        statement.update(change)
        tx.append(
            replace(payload, statement=statement, signature=signature),
            actor="hegseth",
            at=T0,
            case_id=denial.case_id,
        )
    report = _verify(story.store, system_key, tmp_path)
    assert any(named in f.problem for f in report.findings), report.findings


def _index_page(story: World, index: str) -> tuple[Path, bytearray, slice]:
    """The SQLite file's path, its bytes, and where in them the first page of ``index`` lies
    (its root; the whole index in a world this small), with every connection closed."""
    database = story.store.database
    database.dispose()
    path = Path(str(database.engine.url.database))
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (size,) = connection.execute("PRAGMA page_size").fetchone()
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = ?", (index,)
        ).fetchone()
    return path, bytearray(path.read_bytes()), slice((root - 1) * size, root * size)


def test_an_index_edited_in_the_file_to_disagree_with_its_table_is_named(
    story: World, system_key: SystemKey, tmp_path: Path
) -> None:
    """Ordinary SQL keeps an index and its table alike; an edit of the file can make them
    differ, and replay reads the columns it classes cases by from ``ix_cases_replay`` alone.
    SQLite checks its own file; PostgreSQL has no such check, and the report says so."""
    database = story.store.database
    if not database.is_sqlite:
        assert _verify(story.store, system_key, tmp_path).file_checked is False
        return
    with database.engine.connect() as connection:
        shape = connection.exec_driver_sql(
            "SELECT request_shape FROM cases ORDER BY number LIMIT 1"
        ).scalar_one()
    path, data, page = _index_page(story, "ix_cases_replay")
    at = page.start + data[page].index(shape.encode())
    forged = shape[:-1] + ("0" if shape[-1] != "0" else "1")
    data[at : at + len(shape)] = forged.encode()
    path.write_bytes(bytes(data))

    report = _verify(story.store, system_key, tmp_path)
    assert report.file_checked
    [problem] = [f.problem for f in report.findings]
    assert problem.startswith("the database file fails SQLite's integrity check: ")
    assert "ix_cases_replay" in problem
    with database.engine.connect() as connection:
        indexed = connection.exec_driver_sql(
            "SELECT request_shape FROM cases INDEXED BY ix_cases_replay ORDER BY number LIMIT 1"
        ).scalar_one()
    assert indexed == forged  # what a read of the index alone would have been given


def test_a_file_too_damaged_to_be_checked_is_named_not_a_traceback(
    story: World, system_key: SystemKey, tmp_path: Path
) -> None:
    if not story.store.database.is_sqlite:
        pytest.skip("an edit of SQLite's file")
    path, data, page = _index_page(story, "ix_cases_undated")
    data[page] = b"\xff" * (page.stop - page.start)  # no page SQLite knows
    path.write_bytes(bytes(data))
    report = _verify(story.store, system_key, tmp_path)
    assert report.file_checked
    [problem] = [f.problem for f in report.findings if "integrity check" in f.problem]
    assert "database disk image is malformed" in problem
