"""Several server instances against one database behave as one.

Two application instances, each with its own ``Runtime`` (engine, pool, pack),
share one database, as two ``clearance serve`` processes (or machines) would:
a session or token made on one is honoured, or refused once revoked, by the
other at once, and retried submissions spread over both make one case.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.core.actors import ADMIN
from clearance.core.signing import Signer
from clearance.service.anchoring import prepare
from clearance.service.runtime import Runtime
from clearance.settings import load_settings
from clearance.web.app import create_app

from .api_support import ATACMS_JUNE, TestClient

PASSWORD = "a password long enough"


@pytest.fixture
def two(
    tmp_path: Path, database_url: str, world_keys: dict[str, tuple[str, Signer]]
) -> Iterator[tuple[TestClient, TestClient]]:
    settings = load_settings(
        {"CLEARANCE_DATA_DIR": str(tmp_path), "CLEARANCE_DATABASE_URL": database_url}
    )
    first: Runtime = Runtime(settings)
    prepare(first.store, settings.system_key, now=first.now())
    public, _ = world_keys["ua.liaison"]
    first.people.add_user(
        user_id="ua.liaison", name="L", party="UA", public_key=public, actor=ADMIN, now=first.now()
    )
    first.accounts.set_password("ua.liaison", PASSWORD, actor=ADMIN, now=first.now())
    second = Runtime(settings)
    with TestClient(create_app(first)) as a, TestClient(create_app(second)) as b:
        yield a, b
    first.database.dispose()
    second.database.dispose()


def test_a_session_from_one_instance_works_on_the_other(two: tuple[TestClient, TestClient]) -> None:
    a, b = two
    signed = a.post("/api/v1/session", json={"user": "ua.liaison", "password": PASSWORD})
    assert signed.status_code == 200
    b.cookies.update(a.cookies)
    assert b.get("/api/v1/me").json()["user"] == "ua.liaison"
    headers = {"X-CSRF-Token": signed.json()["csrf_token"]}
    assert b.delete("/api/v1/session", headers=headers).status_code == 204
    ended = a.get("/api/v1/me")  # ended on b, refused on a at once
    assert (ended.status_code, ended.json()["code"]) == (401, "unauthenticated")


def test_a_token_revoked_on_one_instance_is_refused_by_the_other_at_once(
    two: tuple[TestClient, TestClient],
) -> None:
    a, b = two
    signed = a.post("/api/v1/session", json={"user": "ua.liaison", "password": PASSWORD})
    csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
    issued = a.post("/api/v1/tokens", json={"name": "machine"}, headers=csrf).json()
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert b.get("/api/v1/me", headers=bearer).status_code == 200
    assert a.delete(f"/api/v1/tokens/{issued['id']}", headers=csrf).status_code == 204
    revoked = b.get("/api/v1/me", headers=bearer)
    assert (revoked.status_code, revoked.json()["code"]) == (401, "unauthenticated")


def test_retries_spread_over_instances_make_one_case(two: tuple[TestClient, TestClient]) -> None:
    a, b = two
    signed = a.post("/api/v1/session", json={"user": "ua.liaison", "password": PASSWORD})
    token = a.post(
        "/api/v1/tokens",
        json={"name": "retries"},
        headers={"X-CSRF-Token": signed.json()["csrf_token"]},
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "one-request"}
    ids: list[str] = []
    barrier = threading.Barrier(10)

    def submit(client: TestClient) -> None:
        barrier.wait()
        answer = client.post("/api/v1/cases", json=ATACMS_JUNE, headers=headers)
        assert answer.status_code in (200, 201), answer.text
        ids.append(answer.json()["id"])

    threads = [threading.Thread(target=submit, args=((a, b)[i % 2],)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 10
    assert len(set(ids)) == 1
    listed = b.get("/api/v1/cases?all=true", headers={"Authorization": f"Bearer {token}"}).json()
    assert listed["total"] == 1


def test_a_bundle_activated_through_one_instance_decides_on_the_other(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    world_keys: dict[str, tuple[str, Signer]],
) -> None:
    from clearance.core.request import parse_request
    from clearance.service import runtime

    from .test_proposals import LATER, candidate

    settings = load_settings(
        {"CLEARANCE_DATA_DIR": str(tmp_path), "CLEARANCE_DATABASE_URL": database_url}
    )
    first, second = Runtime(settings), Runtime(settings)
    prepare(first.store, settings.system_key, now=LATER)
    public, signer = world_keys["hegseth"]
    first.people.add_user(
        user_id="secdef", name="S", party="US", public_key=public, actor=ADMIN, now=LATER
    )
    first.people.grant(
        user_id="secdef",
        authority="us.secdef",
        valid_from=LATER.date(),
        valid_to=None,
        actor=ADMIN,
        now=LATER,
    )
    strike = parse_request({**ATACMS_JUNE, "date": "2099-02-01"})
    monkeypatch.setattr(runtime, "POLICY_RECHECK_S", 3600.0)
    assert second.screener.decide(strike, decision_id="x", now=LATER).outcome.value == (
        "review_required"
    )
    first.proposals.propose(candidate("2099-01-01"), actor="secdef", now=LATER)
    first.proposals.activate(1, actor="secdef", signer=signer, now=LATER)
    # Within the recheck interval the other instance keeps what it had; after it, the new bundle.
    assert second.screener.decide(strike, decision_id="y", now=LATER).outcome.value == (
        "review_required"
    )
    monkeypatch.setattr(runtime, "POLICY_RECHECK_S", 0.0)
    decision = second.screener.decide(strike, decision_id="z", now=LATER)
    assert decision.outcome.value == "permitted"
    assert second.cases.screener is second.screener
    first.database.dispose()
    second.database.dispose()
