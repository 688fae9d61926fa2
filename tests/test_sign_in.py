"""Signing in, over HTTP and through the service: time, throttling, password resets, tokens.

A small world per test (three users, one without a password) on SQLite and
PostgreSQL, served in process. The server believes ``X-Forwarded-For``
(``CLEARANCE_TRUSTED_PROXY_HEADER``), so a test can sign in from any address.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.chain import EventType
from clearance.core.signing import new_key_pair
from clearance.errors import AuthenticationError, Throttled
from clearance.policy.pack import load_pack
from clearance.service.accounts import Accounts
from clearance.service.people import People
from clearance.store.repository import Store

from .api_support import Api, TestClient, open_api
from .test_api import assert_error

PASSWORD = "a password long enough"
PROXY = {"CLEARANCE_TRUSTED_PROXY_HEADER": "X-Forwarded-For"}
WRONG = "wrong user name or password"
THROTTLED = "too many failed sign-ins for this user name from this address; wait and try again"


@functools.cache
def _public_key() -> str:
    return new_key_pair("a key passphrase")[0]


def add_users(accounts: Accounts, store: Store, now: dt.datetime) -> None:
    """``secdef`` (US) and ``ua.liaison`` (UA) with the password; ``us.clerk`` (US) without."""
    people = People(store, load_pack().catalog)
    for user, party in [("secdef", "US"), ("ua.liaison", "UA"), ("us.clerk", "US")]:
        people.add_user(
            user_id=user, name=user, party=party, public_key=_public_key(), actor=ADMIN, now=now
        )
    for user in ("secdef", "ua.liaison"):
        accounts.set_password(user, PASSWORD, actor=ADMIN, now=now)


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    with open_api(tmp_path / "data", database_url, **PROXY) as api:
        api.server.prepare()
        add_users(api.server.accounts, api.server.store, api.server.now())
        yield api


def sign_in(client: TestClient, user: str, password: str, address: str) -> Any:
    return client.post(
        "/api/v1/session",
        json={"user": user, "password": password},
        headers={"X-Forwarded-For": address},
    )


def ledger(store: Store, kind: EventType) -> list[dict[str, Any]]:
    with store.reading() as tx:
        return [json.loads(e.body) for e in tx.ledger.of_type(kind)]


# the same time for every wrong pair ------------------------------------------------------


@pytest.mark.slow
def test_unknown_users_and_users_without_a_password_take_as_long_as_a_wrong_password(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'clearance.db'}"
    with open_api(tmp_path / "data", url, **PROXY) as api:
        api.server.prepare()
        add_users(api.server.accounts, api.server.store, api.server.now())
        client = api.client()
        times: dict[str, list[float]] = {"secdef": [], "nobody.here": [], "us.clerk": []}
        for attempt in range(20):  # interleaved, so that a busy moment touches all three
            for user, taken in times.items():
                start = time.perf_counter()
                # a new address each time: throttling must not take part
                answer = sign_in(client, user, "not the password", f"10.1.{attempt}.1")
                taken.append(time.perf_counter() - start)
                assert_error(answer, 401, "unauthenticated")
                assert answer.json()["message"] == WRONG
    medians = {user: statistics.median(taken) for user, taken in times.items()}
    assert max(medians.values()) <= 1.2 * min(medians.values()), medians


# throttling -----------------------------------------------------------------------------


def test_failures_from_one_address_never_stop_the_user_signing_in_from_another(api: Api) -> None:
    stranger, user = api.client(), api.client()
    for _ in range(5):
        assert_error(
            sign_in(stranger, "secdef", "guess guess guess", "203.0.113.9"), 401, "unauthenticated"
        )
    refused = sign_in(stranger, "secdef", "guess guess guess", "203.0.113.9")
    assert_error(refused, 429, "too_many_attempts")
    assert refused.json()["message"] == THROTTLED
    assert 0 < int(refused.headers["Retry-After"]) <= 30
    # From there even the right password waits; from the user's own address it is let in.
    assert_error(sign_in(stranger, "secdef", PASSWORD, "203.0.113.9"), 429, "too_many_attempts")
    assert sign_in(user, "secdef", PASSWORD, "198.51.100.7").status_code == 200
    assert user.get("/api/v1/me").json()["user"] == "secdef"


def assert_first_wait(headers: Any, *, since: float) -> None:
    """The answer asks for the whole first wait of 30 s, less only the time a slow machine
    took between the last counted failure (sent at ``since`` or later) and this answer."""
    waited = time.monotonic() - since
    assert 30 - waited <= int(headers["Retry-After"]) <= 30


def test_a_user_name_that_does_not_exist_is_throttled_in_the_same_words(api: Api) -> None:
    client = api.client()
    for user in ("secdef", "nobody.here"):
        for _ in range(5):
            last_failure = time.monotonic()  # the server counts the wait from here or later
            assert (
                sign_in(client, user, "guess guess guess", "203.0.113.9").json()["message"] == WRONG
            )
        refused = sign_in(client, user, "guess guess guess", "203.0.113.9")
        assert_error(refused, 429, "too_many_attempts")
        assert refused.json()["message"] == THROTTLED
        assert_first_wait(refused.headers, since=last_failure)


def test_the_address_is_the_last_entry_of_the_trusted_header(api: Api) -> None:
    """Entries before the last were written by the client, who may write anything there."""
    client = api.client()
    for n in range(5):
        forged = f"192.0.2.{n}, 203.0.113.9"
        assert_error(sign_in(client, "secdef", "guess guess guess", forged), 401, "unauthenticated")
    assert_error(
        sign_in(client, "secdef", PASSWORD, "192.0.2.99, 203.0.113.9"), 429, "too_many_attempts"
    )
    assert sign_in(client, "secdef", PASSWORD, "203.0.113.9, 198.51.100.7").status_code == 200


def test_without_the_setting_the_header_is_not_believed(database_url: str, tmp_path: Path) -> None:
    with open_api(tmp_path / "data", database_url) as api:
        api.server.prepare()
        add_users(api.server.accounts, api.server.store, api.server.now())
        client = api.client()
        for n in range(5):
            sign_in(client, "secdef", "guess guess guess", f"192.0.2.{n}")
        assert_error(sign_in(client, "secdef", PASSWORD, "198.51.100.7"), 429, "too_many_attempts")


def test_the_sign_in_page_says_how_long_to_wait(api: Api) -> None:
    client = api.client()
    page = client.get("/sign-in")
    csrf = page.cookies.get("clearance_signin_csrf") or client.cookies["clearance_signin_csrf"]
    form = {"user": "secdef", "password": "guess guess guess", "csrf_token": csrf}
    headers = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(5):
        last_failure = time.monotonic()
        assert client.post("/sign-in", data=form, headers=headers).status_code == 401
    refused = client.post("/sign-in", data=form, headers=headers)
    assert refused.status_code == 429
    assert_first_wait(refused.headers, since=last_failure)
    assert THROTTLED in refused.text


def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_a_limit(store: Store) -> None:
    accounts = Accounts(store)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    add_users(accounts, store, t0)

    def attempt(at: dt.datetime, password: str = "guess guess guess", client: str = "a") -> int:
        """0 for a wrong password, or the seconds a throttled sign-in is told to wait."""
        try:
            accounts.sign_in("secdef", password, client=client, now=at)
        except Throttled as exc:
            return exc.retry_after
        except AuthenticationError:
            return 0
        return -1  # signed in

    now = t0
    assert [attempt(now) for _ in range(5)] == [0] * 5
    waits = []
    for _ in range(7):
        wait = attempt(now + dt.timedelta(seconds=1))
        waits.append(wait)
        now += dt.timedelta(seconds=1 + wait)
        assert attempt(now) == 0  # waited: one more try, wrong again
    assert waits == [29, 59, 119, 239, 479, 899, 899]  # 30 s, doubled, at most 15 minutes
    assert attempt(now, PASSWORD, client="b") == -1  # another address: no wait
    assert attempt(now + dt.timedelta(seconds=1), PASSWORD) == 899
    # A day later the failures are forgotten; a success forgets those of its address.
    later = now + dt.timedelta(days=1, seconds=1)
    assert attempt(later, PASSWORD) == -1
    assert [attempt(later) for _ in range(5)] == [0] * 5


# password resets ----------------------------------------------------------------------


def test_a_new_password_ends_every_session_and_revokes_every_token(api: Api) -> None:
    browser = api.client()
    assert sign_in(browser, "secdef", PASSWORD, "198.51.100.7").status_code == 200
    machines = [api.as_user("secdef"), api.as_user("secdef")]
    others = api.as_user("ua.liaison")
    for client in (browser, *machines, others):
        assert client.get("/api/v1/me").status_code == 200
    api.server.accounts.set_password(
        "secdef", "another long password", actor=ADMIN, now=api.server.now()
    )
    for client in (browser, *machines):
        assert_error(client.get("/api/v1/me"), 401, "unauthenticated")
    assert others.get("/api/v1/me").status_code == 200
    changed = ledger(api.server.store, EventType.USER_ACCESS_CHANGED)[-1]
    revoked = ledger(api.server.store, EventType.API_TOKEN_REVOKED)
    assert [r["payload"]["reason"] for r in revoked] == ["password_set", "password_set"]
    assert {r["payload"]["user"] for r in revoked} == {"secdef"}
    assert {r["at"] for r in revoked} == {changed["at"]}  # recorded with the change itself
    tokens = api.server.accounts.tokens("secdef", actor=ADMIN)
    assert {t.state(api.server.now()) for t in tokens} == {"revoked"}
    assert sign_in(browser, "secdef", "another long password", "198.51.100.7").status_code == 200


# API tokens that expire --------------------------------------------------------------------


def test_a_token_lives_the_days_asked_for_and_at_most_the_servers_limit(
    database_url: str, tmp_path: Path
) -> None:
    with open_api(tmp_path / "data", database_url, CLEARANCE_TOKEN_DAYS="30") as api:
        api.server.prepare()
        add_users(api.server.accounts, api.server.store, api.server.now())
        client = api.client()
        csrf = client.post("/api/v1/session", json={"user": "secdef", "password": PASSWORD})
        headers = {"X-CSRF-Token": csrf.json()["csrf_token"]}
        now = api.server.now()

        def issue(**body: Any) -> Any:
            return client.post("/api/v1/tokens", json={"name": "job", **body}, headers=headers)

        default = issue()
        assert default.status_code == 201, default.text
        expires = dt.datetime.fromisoformat(default.json()["expires_at"])
        assert dt.timedelta(days=30) <= expires - now < dt.timedelta(days=30, minutes=1)
        short = dt.datetime.fromisoformat(issue(days=2).json()["expires_at"])
        assert dt.timedelta(days=2) <= short - now < dt.timedelta(days=2, minutes=1)
        too_long = assert_error(issue(days=31), 400, "invalid_input", "days")
        assert too_long["message"] == "days: must be from 1 to 30 (the longest a token lives here)"
        listed = client.get("/api/v1/tokens").json()["tokens"]  # newest first
        assert [t["expires_at"] for t in listed] == [short.isoformat(), expires.isoformat()]
        assert {t["state"] for t in listed} == {"active"}
        issued = ledger(api.server.store, EventType.API_TOKEN_ISSUED)
        assert [e["payload"]["expires_at"] for e in issued] == [
            expires.isoformat(),
            short.isoformat(),
        ]


def test_an_expired_token_is_refused_like_a_revoked_one(api: Api) -> None:
    now = api.server.now()
    old, _ = api.server.accounts.issue_token(
        "secdef", "last quarter", actor=ADMIN, now=now - dt.timedelta(days=91)
    )
    live, record = api.server.accounts.issue_token("secdef", "now", actor=ADMIN, now=now)
    api.server.accounts.revoke_token(record.id, actor=ADMIN, now=now)
    for token in (old, live):
        refused = api.client({"Authorization": f"Bearer {token}"}).get("/api/v1/me")
        body = assert_error(refused, 401, "unauthenticated")
        assert body["message"] == "the API token is not valid, has expired or was revoked"
    states = {t.name: t.state(now) for t in api.server.accounts.tokens("secdef", actor=ADMIN)}
    assert states == {"last quarter": "expired", "now": "revoked"}


def test_a_token_issued_with_a_token_expires_no_later_than_it(api: Api) -> None:
    now = api.server.now()
    parent, record = api.server.accounts.issue_token(
        "secdef", "parent", actor=ADMIN, now=now, days=3
    )
    machine = api.client({"Authorization": f"Bearer {parent}"})
    child = machine.post("/api/v1/tokens", json={"name": "child", "days": 60})
    assert child.status_code == 201, child.text
    assert dt.datetime.fromisoformat(child.json()["expires_at"]) == record.expires_at


def test_token_listings_show_ones_own_and_to_an_admin_anyones(api: Api) -> None:
    api.token("secdef", "first")
    liaison = api.as_user("ua.liaison")
    mine = liaison.get("/api/v1/tokens").json()["tokens"]
    assert {t["user"] for t in mine} == {"ua.liaison"}
    assert set(mine[0]) == {"id", "user", "name", "created_at", "expires_at", "revoked_at", "state"}
    assert_error(liaison.get("/api/v1/tokens", params={"user": "secdef"}), 403, "forbidden")
    api.server.accounts.set_access(
        "ua.liaison",
        roles=(Role.ADMIN,),
        clearance=Level.UNCLASSIFIED,
        actor=ADMIN,
        now=api.server.now(),
    )
    # the new access is read on every request; the token survives an access change
    theirs = liaison.get("/api/v1/tokens", params={"user": "secdef"}).json()["tokens"]
    assert [t["name"] for t in theirs] == ["first"]
    assert_error(liaison.get("/api/v1/tokens", params={"user": "nobody.here"}), 404, "not_found")
