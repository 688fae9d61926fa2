"""The ledger's anchors over HTTP: a redacted export that verifies, checkpoints to keep, the
system public key for anyone, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.core.access import Level, Role
from clearance.core.anchors import Checkpoint
from clearance.service import ledger_files
from clearance.service.audit import TrustedKey

from .api_support import Api, open_api
from .test_api import (  # noqa: F401 (the demo world's fixtures)
    assert_error,
    postgresql_template,
    seeded,
    sqlite_template,
)


@pytest.fixture
def world(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    """A server over a copy of the demo world."""
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def _key(world: Api) -> TrustedKey:
    response = world.client().get("/api/v1/ledger/public-key")  # no sign-in: the key is public
    assert response.status_code == 200
    return TrustedKey(response.json()["system_public_key"], "the operator")


def test_an_auditor_exports_a_ledger_that_verifies_and_hides_what_is_above_them(
    world: Api,
) -> None:
    world.server.accounts.set_access(
        "auditor",
        roles=(Role.AUDITOR,),
        clearance=Level.CONFIDENTIAL,
        actor="admin",
        now=world.server.now(),
    )
    response = world.as_user("auditor").get("/api/v1/ledger/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.text.splitlines()
    assert json.loads(lines[0])["redacted_above"] == "CONFIDENTIAL"
    redacted = [json.loads(line) for line in lines if '"redacted":true' in line]
    assert redacted, "the demo world holds a SECRET case"
    assert all("body" not in line and "case_id" not in line for line in redacted)
    report = ledger_files.verify_export(lines, "export", key=_key(world))
    assert report.ok, report.findings
    assert report.checkpoints >= 1  # its own, at least


def test_a_checkpoint_signed_over_http_is_kept_and_listed(world: Api) -> None:
    auditor = world.as_user("auditor")
    made = auditor.post("/api/v1/ledger/checkpoints")
    assert made.status_code == 201
    checkpoint = Checkpoint.from_dict(made.json())
    assert checkpoint.problem(_key(world).public_key) is None
    listed = auditor.get("/api/v1/ledger/checkpoints").json()
    assert (listed[0]["head"], listed[0]["reason"]) == (checkpoint.head, "on demand")


def test_only_auditors_export_or_sign(world: Api) -> None:
    liaison = world.as_user("ua.liaison")
    assert_error(liaison.get("/api/v1/ledger/export"), 403, "forbidden")
    assert_error(liaison.post("/api/v1/ledger/checkpoints"), 403, "forbidden")
    assert_error(world.client().get("/api/v1/ledger/export"), 401, "unauthenticated")
