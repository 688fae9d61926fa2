"""The event loop stays free while a request waits on the database.

The server answers every request on one event loop; database work runs on
worker threads. Here another connection holds SQLite's write lock while a
browser submits a request (signed in, so the session is looked up, then the
case is written): the submission waits for the lock, and meanwhile
``/health`` answers at once. Were the database work done on the loop, the
health check would wait as long as the lock is held.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor

from clearance.service.runtime import Runtime
from clearance.web.app import create_app

from .test_pages import JUNE_ATACMS, as_user, seeded, server

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["seeded", "server"]  # the fixtures, shared with the page tests

HEALTH_WITHIN_S = 2.0


def test_a_submission_waiting_for_the_write_lock_does_not_hold_up_health(
    server: Runtime,
) -> None:
    browser = as_user(server, "ua.liaison")
    form = {**JUNE_ATACMS, "idempotency_key": str(uuid.uuid4()), "csrf_token": browser.csrf()}
    path = server.database.engine.url.database
    assert path
    app = create_app(server)
    # One client, entered: its requests share one event loop, as a server's do.
    with (
        TestClient(app, follow_redirects=False, cookies=browser.client.cookies) as client,
        ThreadPoolExecutor(2) as pool,
    ):
        lock = sqlite3.connect(path, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # the write lock: the submission must wait for it
        try:
            submitted = pool.submit(client.post, "/requests", data=form)
            time.sleep(0.5)
            assert not submitted.done(), "the submission did not wait for the write lock"
            start = time.monotonic()
            health = pool.submit(client.get, "/health").result(timeout=HEALTH_WITHIN_S)
            waited = time.monotonic() - start
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert health.status_code == 200
        assert waited < HEALTH_WITHIN_S
        assert not submitted.done() or submitted.result().status_code == 303
        done = submitted.result(timeout=30)
    assert done.status_code == 303, done.text
    assert re.fullmatch(r"/cases/\d+", done.headers["location"])
