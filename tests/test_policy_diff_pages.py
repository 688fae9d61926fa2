"""A bundle against the one it replaces, on the pages: a proposal where the Secretary decides
whether to sign, and each bundle of a holder's history against the one before it.

The candidate is test_proposals_web's: the seed's November 2024 US bundle (strikes inside
Russia authorised, no review) proposed again from 2099 under a new title, against the US
bundle in force (2025-08-28: the review mechanism, and the ERAM sale funded by European
partners). Both halves are what ``clearance policy diff`` shows of the two: the text, file
by file, and the requests whose outcome changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .api_support import DEMO_PASSWORD, Api, open_api
from .test_api import (  # noqa: F401 (the seeded demo world's fixtures)
    postgresql_template,
    seeded,
    sqlite_template,
)
from .test_proposals_web import PROPOSALS, TITLE, element, element_html, files, text_of


@pytest.fixture
def api(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811 (test_api's fixture)
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def diff_lines(html: str, start: str, end: str | None = None) -> list[tuple[str, str]]:
    """(kind, text) of each line of the text diff from the element ``start`` to ``end``:
    add, remove or same, numbered before and after, with its marker."""
    section = html[html.index(f'id="{start}"') :]
    if end is not None:
        section = section[: section.index(f'id="{end}"')]
    rows = re.findall(r'<tr class="diff-(add|remove|same)">(.*?)</tr>', section, re.S)
    return [(kind, text_of(row)) for kind, row in rows]


def test_the_secretary_sees_the_proposal_against_the_bundle_in_force(api: Api) -> None:
    made = api.as_user("us.liaison").post(PROPOSALS, json={"files": files()})
    assert made.status_code == 201, made.text
    secdef, _ = api.signed_in("secdef")
    page = secdef.get("/policy/proposals/1")
    assert page.status_code == 200
    assert "activate-form" in page.text  # where the Secretary decides
    against = element(page.text, "against-bundle")
    assert "“The review mechanism, and the ERAM sale funded by European partners”" in against
    assert "US’s bundle from 2025-08-28, in force today" in against

    # The semantic diff: the strikes the review mechanism sends to the Secretary would be
    # permitted again, by the policy the candidate brings back.
    effect = text_of(element_html(page.text, "effect"))
    assert "review required → permitted" in effect
    assert "before: US/us-review-mechanism" in effect
    assert "US/us-strikes-in-russia-authorised" in effect
    assert re.search(r"judged: \d+ golden, 2000 sample", effect)

    # The text diff, file by file, each line with its marker as well as its colour.
    assert re.findall(r'class="diff-file"[^>]*><code>([^<]+)</code>', page.text) == [
        "bundle.yaml",
        "policies.cedar",
    ]
    lines = diff_lines(page.text, "text-diff-1", "text-diff-2")
    assert ("remove", "2 - removed: effective_from: 2025-08-28") in lines
    assert ("add", "2 + added: effective_from: 2099-01-01") in lines
    assert ("add", f"3 + added: title: {TITLE}") in lines
    assert ("same", "1 1 holder: US") in lines


def test_only_those_who_may_see_the_proposal_see_its_diff(api: Api) -> None:
    api.as_user("us.liaison").post(PROPOSALS, json={"files": files()})
    ukraine, _ = api.signed_in("ua.liaison")  # another party: the proposal does not exist
    refused = ukraine.get("/policy/proposals/1")
    assert refused.status_code == 404
    assert "diff-" not in refused.text
    assert TITLE not in refused.text


def test_each_bundle_of_the_history_shows_its_changes_from_the_one_before(api: Api) -> None:
    reader, _ = api.signed_in("us.reviewer")
    page = reader.get("/policy/US")
    assert page.status_code == 200
    changes = element_html(page.text, "changes-2025-08-28")
    assert "Changes from the bundle before: 2 files changed" in text_of(changes)
    assert element(page.text, "changes-2022-02-24").startswith("The first bundle of US")
    eram = diff_lines(page.text, "diff-2025-08-28", "diff-2025-05-01")
    assert ("add", '42 + added: @id("us-eram-sale-european-funded")') in eram
    # The effect is judged on demand, one bundle at a time.
    assert "effect-2025-08-28" not in page.text
    link = re.search(r'href="(/policy/US\?effect=2025-08-28[^"]*)"', page.text)
    assert link is not None
    judged = reader.get(link.group(1).replace("&amp;", "&"))
    assert judged.status_code == 200
    effect = text_of(element_html(judged.text, "effect-2025-08-28"))
    assert "prohibited → permitted" in effect
    assert re.search(r"after: [^:]*US/us-eram-sale-european-funded", effect)
    assert 'id="changes-2025-08-28" open' in judged.text


def test_a_history_effect_for_no_bundle_is_refused_naming_the_field(api: Api) -> None:
    reader, _ = api.signed_in("us.reviewer")
    missing = reader.get("/policy/US?effect=2025-08-29")
    assert missing.status_code == 400
    assert "effect: no bundle of US takes effect on 2025-08-29" in text_of(missing.text)
    garbled = reader.get("/policy/US?effect=August")
    assert garbled.status_code == 422
    assert "effect:" in text_of(garbled.text)


def test_an_activated_proposal_is_diffed_in_the_history_from_its_stored_files(
    api: Api,
) -> None:
    api.as_user("us.liaison").post(PROPOSALS, json={"files": files()})
    activated = api.as_user("secdef").post(
        f"{PROPOSALS}/1/activate", json={"passphrase": DEMO_PASSWORD}
    )
    assert activated.status_code == 200, activated.text
    reader, _ = api.signed_in("us.reviewer")
    page = reader.get("/policy/US")
    assert page.status_code == 200
    changes = text_of(element_html(page.text, "changes-2099-01-01"))
    assert "Against “The review mechanism, and the ERAM sale funded by European partners”" in (
        changes
    )
    assert f"+ added: title: {TITLE}" in text_of(page.text)
