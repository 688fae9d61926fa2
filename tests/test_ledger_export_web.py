"""The ledger page as an auditor uses it in a browser: the head in full, and the export
downloaded from the page's own link, which verifies as ``clearance audit verify --file``
verifies it (``service.ledger_files.verify_export``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.service import ledger_files
from clearance.service.audit import TrustedKey

from .api_support import Api, open_api
from .test_api import (  # noqa: F401 (the demo world's fixtures)
    postgresql_template,
    seeded,
    sqlite_template,
)
from .test_proposals_web import element_html, text_of


@pytest.fixture
def world(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def test_the_auditor_downloads_the_export_from_the_page_and_it_verifies(world: Api) -> None:
    auditor, _ = world.signed_in("auditor")  # a browser: the session cookie alone
    page = auditor.get("/ledger")
    assert page.status_code == 200
    link = re.search(r'<a href="([^"]+)" download class="button" id="export-link">', page.text)
    assert link is not None
    download = auditor.get(link.group(1))
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="ledger.jsonl"'
    lines = download.text.splitlines()
    key = world.client().get("/api/v1/ledger/public-key").json()["system_public_key"]
    report = ledger_files.verify_export(lines, "ledger.jsonl", key=TrustedKey(key, "operator"))
    assert report.ok, report.findings
    assert report.checkpoints >= 1  # the export's own

    # The head, in full, is the hash of the export's last event.
    verified = auditor.get("/ledger/verification")
    head = text_of(element_html(verified.text, "ledger-head"))
    assert head == json.loads(lines[-1])["hash"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", head)


def test_the_export_is_refused_to_a_reader_who_is_not_an_auditor(world: Api) -> None:
    liaison, _ = world.signed_in("us.liaison")
    assert liaison.get("/ledger").status_code == 403
    assert liaison.get("/api/v1/ledger/export").status_code == 403
