"""What a submission answers when the database fails around its COMMIT, on a real PostgreSQL.

The failures are real, made by the database server itself at the moment that
matters: the server process of the connection that is about to commit is
ended (``pg_terminate_backend``), or, once the case is committed, the
database stops taking connections and ends every one it had. The moments are
found with SQLAlchemy's session events on the server's own engine; nothing
of clearance is replaced.

The promise tested: a 503 ``store_unavailable`` means nothing was recorded;
when the database failed during COMMIT, the answer says that the outcome is
unknown and how to find out (the same ``Idempotency-Key``); and a case that
was recorded is answered as recorded, whatever the database does next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from .api_support import ATACMS_JUNE, DEMO_PASSWORD, Api, open_api
from .databases import PostgresCluster, Template, clone_template, database_name
from .test_api import (  # noqa: F401 (the seeded demo world's fixtures)
    CASES,
    SECRET_CASE,
    assert_error,
    postgresql_template,
)


@pytest.fixture
def pg_api(
    pg_cluster: PostgresCluster, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Api, str]]:
    """A server over a PostgreSQL copy of the demo world, and the database's name."""
    template: Template = request.getfixturevalue("postgresql_template")
    url = pg_cluster.fresh_database()
    clone_template(template, url, tmp_path / "data", pg_cluster)
    with open_api(tmp_path / "data", url) as api:
        yield api, database_name(url)


@contextmanager
def once(engine: Engine, moment: str, action: Callable[[Session], None]) -> Iterator[None]:
    """Do ``action`` at the first ``moment`` (``before_commit``, ``after_commit``) of a
    session writing through ``engine`` (sessions that only read use another engine object)."""
    done: list[bool] = []

    def hook(session: Session) -> None:
        if session.bind is engine and not done:
            done.append(True)
            action(session)

    event.listen(Session, moment, hook)
    try:
        yield
    finally:
        event.remove(Session, moment, hook)
    assert done, f"no writing session reached {moment}"


def _gone(cluster: PostgresCluster, pids: list[int]) -> None:
    """Wait until those server processes have ended (a terminated one ends at once)."""
    with cluster.admin() as admin:
        for _ in range(200):
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids]
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.02)
    raise AssertionError(f"server processes {pids} did not end")


def _recorded(api: Api, key: str) -> bool:
    """Whether a case was recorded with this idempotency key (there is at most one)."""
    with api.server.store.reading() as tx:
        return tx.cases.by_key(key) is not None


def test_a_commit_the_database_fails_is_an_unknown_outcome_and_the_same_key_tells(
    pg_api: tuple[Api, str], pg_cluster: PostgresCluster
) -> None:
    api, _ = pg_api
    liaison = api.as_user("ua.liaison")
    key = {"Idempotency-Key": "commit-ended"}

    def end_the_connection(session: Session) -> None:
        driver: Any = session.connection().connection.dbapi_connection
        pid = driver.info.backend_pid
        with pg_cluster.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        _gone(pg_cluster, [pid])

    with once(api.server.database.engine, "before_commit", end_the_connection):
        first = liaison.post(CASES, json=ATACMS_JUNE, headers=key)
    assert_error(first, 503, "outcome_unknown")
    message = first.json()["message"]
    assert "whether this was recorded is unknown" in message
    assert "with the same Idempotency-Key" in message
    assert "if the case was recorded, that answers it (200)" in message
    # Here it was not: the connection ended before COMMIT reached the server.
    assert not _recorded(api, "commit-ended")
    retry = liaison.post(CASES, json=ATACMS_JUNE, headers=key)
    assert retry.status_code == 201, retry.text
    again = liaison.post(CASES, json=ATACMS_JUNE, headers=key)
    assert (again.status_code, again.json()["id"]) == (200, retry.json()["id"])


def test_without_a_key_an_unknown_outcome_says_to_look_before_sending_again(
    pg_api: tuple[Api, str], pg_cluster: PostgresCluster
) -> None:
    api, _ = pg_api
    liaison = api.as_user("ua.liaison")

    def end_the_connection(session: Session) -> None:
        driver: Any = session.connection().connection.dbapi_connection
        with pg_cluster.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [driver.info.backend_pid])
        _gone(pg_cluster, [driver.info.backend_pid])

    with once(api.server.database.engine, "before_commit", end_the_connection):
        first = liaison.post(CASES, json=ATACMS_JUNE)
    assert_error(first, 503, "outcome_unknown")
    assert "look for the case (GET /api/v1/cases) before sending" in first.json()["message"]


@contextmanager
def goes_away_after_commit(api: Api, cluster: PostgresCluster, name: str) -> Iterator[None]:
    """Once the next writing transaction has committed, the database takes no connection
    and ends every one it had, until the block ends."""

    def database_goes_away(session: Session) -> None:
        with cluster.admin() as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            ended = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            ).fetchall()
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        _gone(cluster, [pid for (pid,) in ended])

    try:
        with once(api.server.database.engine, "after_commit", database_goes_away):
            yield
    finally:
        with cluster.admin() as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_a_case_recorded_just_before_the_database_goes_away_is_answered_as_recorded(
    pg_api: tuple[Api, str], pg_cluster: PostgresCluster
) -> None:
    api, name = pg_api
    liaison = api.as_user("ua.liaison")
    key = {"Idempotency-Key": "recorded-then-outage"}
    with goes_away_after_commit(api, pg_cluster, name):
        first = liaison.post(CASES, json=ATACMS_JUNE, headers=key)
        # The case is recorded, so it is answered as recorded: not "database unavailable".
        assert first.status_code == 201, first.text
        assert first.json()["state"] == "in_review"
        # While the database refuses connections, anything else is honestly unavailable.
        assert_error(liaison.get(f"{CASES}/{first.json()['id']}"), 503, "store_unavailable")
    again = liaison.post(CASES, json=ATACMS_JUNE, headers=key)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert _recorded(api, "recorded-then-outage")


def test_an_approval_recorded_just_before_the_database_goes_away_is_answered_as_recorded(
    pg_api: tuple[Api, str], pg_cluster: PostgresCluster
) -> None:
    api, name = pg_api
    secdef = api.as_user("secdef")
    with goes_away_after_commit(api, pg_cluster, name):
        answer = secdef.post(
            f"{CASES}/{SECRET_CASE}/approve",
            json={"reason": "Proportionate", "passphrase": DEMO_PASSWORD},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == "approved"
    shown = secdef.get(f"{CASES}/{SECRET_CASE}").json()
    assert [(a["authority"], a["verdict"]) for a in shown["approvals"]] == [
        ("us.secdef", "approve")
    ]
