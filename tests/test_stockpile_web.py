"""Stockpile sufficiency over HTTP and in the pages, on SQLite and PostgreSQL.

Each test gets its own copy of the demo world (test_api's fixtures): the
pack's illustrative figures (US atacms: 1,000 on hand, 700 to keep, 20 made a
month; US demo-interceptor below its requirement) and the demo's approved
ERAM transfer, which committed 3,350 of US eram. Every API answer is also
checked against the OpenAPI document (api_support.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from clearance.core.access import Level, Role

from .api_support import Api, TestClient, open_api
from .test_api import (  # noqa: F401 (the seeded demo world's fixtures)
    US_CASE,
    assert_error,
    postgresql_template,
    seeded,
    sqlite_template,
)

BOARD = "/api/v1/stockpile"
SEVERITY = {"green": 0, "yellow": 1, "red": 2}
EVERY_POSITION = {
    ("US", "demo-interceptor"),
    ("GB", "storm-shadow"),
    ("US", "atacms"),
    ("US", "eram"),
    ("UA", "atacms"),
}


@pytest.fixture
def api(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811 (test_api's fixture)
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def positions(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["holder"], p["system"]) for p in body["positions"]]


# the API --------------------------------------------------------------------------


def _pin_the_servers_clock(
    api: Api, monkeypatch: pytest.MonkeyPatch, moment: dt.datetime | None = None
) -> dt.date:
    """The server's clock stopped at ``moment`` (by default, now): its "today" and the
    test's are then one day, even across midnight. That day."""
    stopped = moment or api.server.now()
    monkeypatch.setattr(api.server, "now", lambda: stopped)
    return stopped.date()


def test_the_board_is_worst_first_and_counts_each_colour(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = _pin_the_servers_clock(api, monkeypatch)
    reviewer = api.as_user("us.reviewer")
    body = reviewer.get(BOARD).json()
    assert body["as_of"] == today.isoformat()
    assert set(positions(body)) == EVERY_POSITION
    first = body["positions"][0]
    assert (first["holder"], first["system"], first["rating"]) == ("US", "demo-interceptor", "red")
    assert first["meaning"] == "below requirement"
    assert (first["available"], first["requirement"], first["cover_percent"]) == (500, 550, 90)
    severities = [SEVERITY[p["rating"]] for p in body["positions"]]
    assert severities == sorted(severities, reverse=True)
    assert body["counts"] == {"red": 1, "yellow": 0, "green": 4}
    assert list(body["counts"]) == ["red", "yellow", "green"]
    assert body["total"] == 5

    green = reviewer.get(BOARD, params={"rating": "green"}).json()
    assert {p["rating"] for p in green["positions"]} == {"green"}
    assert green["total"] == 4
    assert green["counts"] == body["counts"], (
        "counts are of every colour, to say what a filter shows"
    )
    us_gb = reviewer.get(BOARD, params=[("holder", "US"), ("holder", "GB")]).json()
    assert {h for h, _ in positions(us_gb)} == {"US", "GB"}
    assert us_gb["total"] == 4
    limited = reviewer.get(BOARD, params={"limit": 2}).json()
    assert positions(limited) == positions(body)[:2]
    assert limited["total"] == 5


def test_a_transfer_of_301_us_atacms_leaves_699_red_and_green_again_in_8_months(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,000 available, requirement 700, green from 120% (840), yellow from 100% (700):
    giving 301 leaves 699, red; at 20 a month, 839 after 7 months, 859 after 8. The day is
    pinned after the seed's one delivery (50, on 2026-03-01), and then before it."""
    _pin_the_servers_clock(api, monkeypatch, dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    reviewer = api.as_user("us.reviewer")
    answer = reviewer.get(f"{BOARD}/US/atacms/projection", params={"transfer": 301})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["on_hand"], body["committed"], body["available"]) == (1000, 0, 1000)
    assert (body["quantity"], body["available_after"], body["requirement"]) == (301, 699, 700)
    assert body["thresholds"] == {"green_percent": 120, "yellow_percent": 100}
    assert (body["now"], body["after"], body["months_to_recover"]) == ("green", "red", 8)
    months = body["months"]
    assert len(months) == 25, "24 months by default, after month 0"
    assert [m["available"] for m in months[:9]] == [699 + 20 * n for n in range(9)]
    assert [m["rating"] for m in months[:9]] == ["red"] + ["yellow"] * 7 + ["green"]
    assert {m["green_level"] for m in months} == {840}
    assert months[0]["on"] == "2026-06-01"

    nothing = reviewer.get(f"{BOARD}/US/atacms/projection", params={"months": 3}).json()
    assert (nothing["quantity"], nothing["after"], nothing["months_to_recover"]) == (0, "green", 0)
    assert len(nothing["months"]) == 4

    # Six months before the delivery: it arrives in month 6, and brings green a month early.
    _pin_the_servers_clock(api, monkeypatch, dt.datetime(2025, 9, 1, 12, tzinfo=dt.UTC))
    early = reviewer.get(f"{BOARD}/US/atacms/projection", params={"transfer": 301}).json()
    assert early["months"][0]["on"] == "2025-09-01"
    assert [m["available"] for m in early["months"][:8]] == [
        *(699 + 20 * n for n in range(6)),
        699 + 20 * 6 + 50,
        699 + 20 * 7 + 50,
    ]
    assert early["months_to_recover"] == 6


def test_a_position_as_of_a_date_is_rebuilt_from_its_movements(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = _pin_the_servers_clock(api, monkeypatch)
    reviewer = api.as_user("us.reviewer")
    today = reviewer.get(f"{BOARD}/US/eram").json()
    assert (today["on_hand"], today["committed"], today["available"]) == (5000, 3350, 1650)
    assert today["as_of"] == day.isoformat()
    [commit] = today["movements"]
    assert (commit["kind"], commit["quantity"], commit["committed_change"]) == (
        "commit",
        3350,
        3350,
    )
    assert commit["case_id"] == api.case_id(US_CASE)

    before = (dt.date.fromisoformat(commit["day"]) - dt.timedelta(days=1)).isoformat()
    then = reviewer.get(f"{BOARD}/US/eram", params={"as_of": before}).json()
    assert (then["as_of"], then["committed"], then["available"]) == (before, 0, 5000)
    assert then["movements"] == []


def test_a_requester_sees_only_their_own_partys_stock(api: Api) -> None:
    ua = api.as_user("ua.liaison")
    board = ua.get(BOARD).json()
    assert positions(board) == [("UA", "atacms")]
    assert board["counts"] == {"red": 0, "yellow": 0, "green": 1}
    assert ua.get(BOARD, params={"holder": "US"}).json()["positions"] == []
    assert ua.get(f"{BOARD}/UA/atacms").status_code == 200

    hidden = assert_error(ua.get(f"{BOARD}/US/atacms"), 404, "not_found")
    untracked = assert_error(
        api.as_user("us.reviewer").get(f"{BOARD}/US/storm-shadow"), 404, "not_found"
    )
    assert hidden["message"].replace("atacms", "storm-shadow") == untracked["message"], (
        "another party's position must read as one that is not tracked"
    )
    assert_error(ua.get(f"{BOARD}/US/atacms/projection", params={"transfer": 1}), 404, "not_found")

    us = api.as_user("us.liaison")
    assert {h for h, _ in positions(us.get(BOARD).json())} == {"US"}
    for user in ("auditor", "admin.user", "conf.reviewer"):
        assert set(positions(api.as_user(user).get(BOARD).json())) == EVERY_POSITION, user


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (BOARD, {"rating": "blue"}, "rating"),
        (BOARD, {"limit": 0}, "limit"),
        (f"{BOARD}/US/atacms", {"as_of": "2025-02-30"}, "as_of"),
        (f"{BOARD}/US/atacms", {"as_of": "yesterday"}, "as_of"),
        (f"{BOARD}/US/atacms/projection", {"transfer": -1}, "transfer"),
        (f"{BOARD}/US/atacms/projection", {"transfer": "many"}, "transfer"),
        (f"{BOARD}/US/atacms/projection", {"months": 0}, "months"),
        (f"{BOARD}/US/atacms/projection", {"months": 241}, "months"),
    ],
)
def test_a_bad_query_value_is_422_naming_the_field(
    api: Api, path: str, params: dict[str, Any], field: str
) -> None:
    assert_error(api.as_user("us.reviewer").get(path, params=params), 422, "invalid_request", field)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"{BOARD}/XX/atacms", "unknown party 'XX'"),
        (f"{BOARD}/US/no-such-system", "unknown system 'no-such-system'"),
        (f"{BOARD}/US/storm-shadow", "US's stock of 'storm-shadow' is not tracked"),
        (f"{BOARD}/US/storm-shadow/projection", "US's stock of 'storm-shadow' is not tracked"),
    ],
)
def test_an_unknown_party_or_system_or_an_untracked_position_is_404(
    api: Api, path: str, message: str
) -> None:
    body = assert_error(api.as_user("us.reviewer").get(path), 404, "not_found")
    assert body["message"] == message


def test_the_stockpile_needs_a_signed_in_user(api: Api) -> None:
    assert_error(api.client().get(BOARD), 401, "unauthenticated")


# the pages ------------------------------------------------------------------------


def page(api: Api, user: str) -> TestClient:
    client, _ = api.signed_in(user)
    return client


def main_of(html: str) -> str:
    found = re.search(r"<main.*?</main>", html, re.S)
    assert found, "the page has no main element"
    return found.group(0)


def test_the_board_page_shows_tiles_worst_first_in_words_and_counts(api: Api) -> None:
    reviewer = page(api, "us.reviewer")
    answer = reviewer.get("/stockpile")
    assert answer.status_code == 200
    assert '<a href="/stockpile" aria-current="page">Stockpile</a>' in answer.text
    html = main_of(answer.text)
    tiles = re.findall(r'<li class="tile tile--(\w+)">(.*?)</li>', html, re.S)
    assert len(tiles) == 5
    colour, first = tiles[0]
    assert colour == "red"
    assert "<strong>RED</strong> below requirement" in first, "the rating in words, not colour only"
    assert 'href="/stockpile/US/demo-interceptor"' in first
    assert "<strong>500</strong> available of <strong>550</strong> required" in first
    assert "cover 90%" in first
    assert [c for c, _ in tiles[1:]] == ["green"] * 4
    counts = re.findall(r'count__n">(\d+)</span> <span class="rating rating--(\w+)"', html)
    assert counts == [("1", "red"), ("0", "yellow"), ("4", "green")]

    red_us = main_of(reviewer.get("/stockpile", params={"rating": "red", "holder": "US"}).text)
    assert re.findall(r'class="tile tile--(\w+)"', red_us) == ["red"]
    assert reviewer.get("/stockpile", params={"rating": "blue"}).status_code == 400

    requester = main_of(page(api, "ua.liaison").get("/stockpile").text)
    assert re.findall(r'href="(/stockpile/[^"]+)"', requester) == ["/stockpile/UA/atacms"]


def test_the_position_page_draws_the_projection_and_lists_the_same_numbers(api: Api) -> None:
    reviewer = page(api, "us.reviewer")
    answer = reviewer.get("/stockpile/US/atacms", params={"transfer": "301", "months": "24"})
    assert answer.status_code == 200
    html = main_of(answer.text)
    assert 'id="rating-after"><strong>RED</strong> below requirement' in html
    assert "Giving 301 leaves 699 available" in html
    assert '<span id="recovery">green again in 8 months</span>' in html
    svg = re.search(r"<svg class=\"chart chart--projection\".*?</svg>", html, re.S)
    assert svg, "the projection is drawn on the server"
    drawing = svg.group(0)
    assert 'role="img"' in drawing
    assert "<title" in drawing
    assert "after giving 301, 699, RED (below requirement); green again in 8 months" in drawing
    assert re.search(
        r"<line class=\"drop\"[^>]*/><text class=\"drop-label\".*?>transfer </tspan>.*?>of 301</tspan>",
        drawing,
    )
    for colour, meaning in (("RED", "below"), ("YELLOW", "at the margin"), ("GREEN", "sufficient")):
        assert re.search(rf'class="band-label"[^>]*>{colour}<tspan[^>]*>{meaning}', drawing), (
            f"the {colour} band is named in text"
        )
    rows = re.findall(
        r'<tr><th scope="row" class="num">(\d+)</th><td>[\d-]+</td><td class="num">([\d,]+)</td>',
        html,
    )
    assert rows[:3] == [("0", "699"), ("1", "719"), ("2", "739")]
    assert len(rows) == 25
    assert " style=" not in answer.text, "the CSP allows no inline style"
    assert "<script>" not in answer.text, "the CSP allows no inline script"

    today = main_of(reviewer.get("/stockpile/US/eram").text)
    outside_tables = re.sub(r"<table.*?</table>", "", html, flags=re.S)
    assert outside_tables.count('class="rating rating--green"') == 1, "today's rating, once"
    assert 'id="rating-today"><strong>GREEN</strong> sufficient</span> today' in html
    assert re.search(r'<table class="table" id="movements">.*commit.*3,350', today, re.S)


def test_with_no_transfer_the_position_page_says_what_could_be_given_instead_of_a_flat_chart(
    api: Api,
) -> None:
    reviewer = page(api, "us.reviewer")
    for params in ({}, {"transfer": "0"}, {"transfer": ""}):
        html = main_of(reviewer.get("/stockpile/US/atacms", params=params).text)
        assert "<svg" not in html
        assert (
            "Enter a transfer quantity to see what giving it would do, month by month."
            " Giving up to 160 keeps it green; up to 300, yellow; more leaves it red."
        ) in html
        assert re.sub(r"<table.*?</table>", "", html, flags=re.S).count('class="rating ') == 1
    red = main_of(reviewer.get("/stockpile/US/demo-interceptor").text)
    assert "It is red already: any transfer leaves it red." in red


def test_a_delivery_is_expected_until_its_day_and_delivered_after(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """US atacms has 50 due on 2026-03-01 (the seed's figures)."""
    reviewer = page(api, "us.reviewer")
    for today, words in (
        (dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC), "50 expected on 2026-03-01"),
        (dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC), "50 delivered on 2026-03-01"),
    ):
        monkeypatch.setattr(api.server, "now", lambda today=today: today)
        html = main_of(reviewer.get("/stockpile/US/atacms", params={"transfer": "1"}).text)
        assert f"20 a month; {words}" in html
        assert ("and expected deliveries added" in html) == ("expected" in words)


def test_the_position_page_shows_a_bad_value_on_its_form(api: Api) -> None:
    reviewer = page(api, "us.reviewer")
    answer = reviewer.get("/stockpile/US/atacms", params={"transfer": "-5", "as_of": "2025-02-30"})
    assert answer.status_code == 422
    html = main_of(answer.text)
    assert 'id="transfer"' in html
    assert re.search(r'id="transfer"[^>]*aria-invalid="true"', html)
    assert re.search(r'id="as_of"[^>]*aria-invalid="true"', html)
    assert "transfer: enter a whole number" in html
    assert "as_of: enter a date as YYYY-MM-DD" in html
    assert "<svg" not in html


def test_another_partys_position_page_is_not_found_for_a_requester(api: Api) -> None:
    ua = page(api, "ua.liaison")
    hidden = ua.get("/stockpile/US/atacms?transfer=10")
    untracked = page(api, "us.reviewer").get("/stockpile/US/storm-shadow")
    assert (hidden.status_code, untracked.status_code) == (404, 404)

    def message(html: str) -> str:
        found = re.search(
            r'<div class="alert alert--error" role="alert" id="error">(.*?)</div>', html, re.S
        )
        assert found
        return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()

    assert message(hidden.text) == "Error 404: US's stock of 'atacms' is not tracked"
    assert message(hidden.text).replace("atacms", "storm-shadow") == message(untracked.text)
    assert ua.get("/stockpile/UA/atacms?transfer=10").status_code == 200


def test_the_case_page_shows_the_givers_rating_now_and_after(api: Api) -> None:
    html = main_of(page(api, "us.reviewer").get(f"/cases/{US_CASE}").text)
    section = re.search(r'<section aria-labelledby="stockpile-heading">.*?</section>', html, re.S)
    assert section, "the ERAM transfer's decision carries stockpile facts"
    text = section.group(0)
    assert 'id="stockpile-now"><strong>GREEN</strong> sufficient' in text
    assert 'id="stockpile-after"><strong>GREEN</strong> sufficient' in text
    assert "5,000 now → 1,650 after, of 1,000 required" in text
    assert "green right after" in text
    assert 'href="/stockpile/US/eram"' in text
    decision = api.as_user("us.reviewer").get(f"/api/v1/cases/{US_CASE}").json()["decision"]
    screened = decision["evaluated_at"][:10]
    assert decision["evaluated_at"][:4] != "2025", "screened after the date it was judged as of"
    assert f"screened on {screened} as of 2025-08-28, the request’s date" in text

    employ = main_of(page(api, "us.reviewer").get("/cases/1").text)
    assert "stockpile-heading" not in employ, "a use of stock carries no transfer's facts"


# another party's stock, and movements above one's clearance -----------------------

ERAM_SALE = {
    "action": "transfer",
    "requester": "US",
    "recipient": "UA",
    "system": "eram",
    "quantity": 10,
    "funding": "european-partners",
    "date": "2025-08-28",
}
RATINGS_ONLY = {
    "holder": "US",
    "system": "eram",
    "on": "2025-08-28",
    "quantity": 10,
    "now": "green",
    "after": "green",
    "illustrative": True,
    "figures_withheld": True,
}


def test_screening_another_partys_transfer_shows_its_stock_only_as_ratings(api: Api) -> None:
    ua = api.as_user("ua.liaison")
    screened = ua.post("/api/v1/screen", json=ERAM_SALE)
    assert screened.status_code == 200, screened.text
    assert screened.json()["stockpile"] == RATINGS_ONLY
    assert screened.json()["outcome"] == "permitted", "the decision itself is the same"
    explained = ua.post("/api/v1/explain", json=ERAM_SALE).json()
    assert explained["decision"]["stockpile"] == RATINGS_ONLY
    [batched] = ua.post("/api/v1/screen/batch", json=[ERAM_SALE]).json()
    assert batched["stockpile"] == RATINGS_ONLY

    # Those who may see US stock see the figures: a US reviewer, and a US requester.
    for user in ("us.reviewer", "us.liaison"):
        facts = api.as_user(user).post("/api/v1/screen", json=ERAM_SALE).json()["stockpile"]
        assert (facts["available"], facts["available_after"], facts["requirement"]) == (
            5000,
            4990,
            1000,
        ), user
        assert "figures_withheld" not in facts
        assert {k: facts[k] for k in RATINGS_ONLY if k != "figures_withheld"} == {
            k: v for k, v in RATINGS_ONLY.items() if k != "figures_withheld"
        }


def test_the_live_preview_shows_another_partys_stock_only_as_ratings(api: Api) -> None:
    form = {**{k: str(v) for k, v in ERAM_SALE.items()}, "classification": "UNCLASSIFIED"}

    def preview(user: str) -> str:
        client, token = api.signed_in(user)
        answer = client.post("/requests/preview", data={**form, "csrf_token": token})
        assert answer.status_code == 200, answer.text
        found = re.search(r'<dd id="preview-stockpile">(.*?)</dd>', answer.text, re.S)
        assert found, "the preview names the giver's rating"
        return unescape(re.sub(r"<[^>]+>", "", found.group(1)))

    ua = preview("ua.liaison")
    assert "US’s eram: GREEN sufficient now → GREEN sufficient after giving 10" in ua
    assert "its figures are US’s own" in ua
    assert "5,000" not in ua
    assert "available" not in ua
    us = preview("us.reviewer")
    assert "5,000 available → 4,990, of 1,000 required" in us


def test_a_case_shows_another_partys_stock_only_as_ratings(api: Api) -> None:
    """An office holder who is only a requester sees every case, and of another party's
    stock in them only the ratings: on the case's page and in its JSON, events included."""
    srv = api.server
    srv.people.grant(
        user_id="ua.liaison",
        authority="ua.mod",
        valid_from=dt.date(2025, 1, 1),
        valid_to=None,
        actor="admin",
        now=srv.now(),
    )
    case = api.as_user("ua.liaison").get(f"/api/v1/cases/{US_CASE}").json()
    shown = {**RATINGS_ONLY, "quantity": 3350, "after": "green"}
    assert case["decision"]["stockpile"] == shown
    [submitted] = [e for e in case["events"] if e["type"] == "case_submitted"]
    assert submitted["payload"]["decision"]["stockpile"] == shown
    whole = api.as_user("us.reviewer").get(f"/api/v1/cases/{US_CASE}").json()
    assert whole["decision"]["stockpile"]["available"] == 5000, "the record is unchanged"
    assert case["decision"] == {**whole["decision"], "stockpile": shown}

    html = main_of(page(api, "ua.liaison").get(f"/cases/{US_CASE}").text)
    assert 'id="stockpile-now"><strong>GREEN</strong> sufficient' in html
    assert 'id="stockpile-withheld"' in html
    screened = whole["decision"]["evaluated_at"][:10]
    assert f"screened on {screened} as of 2025-08-28, the request’s date" in html
    assert 'id="stockpile-facts"' not in html
    assert not re.search(r"(?<![0-9,])5,000(?![0-9,])", html)  # not within $825,000,000
    assert 'href="/stockpile/US/eram"' not in html


def test_a_confidential_reader_sees_top_secret_movements_only_as_totals(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """conf.reviewer (a US reviewer cleared CONFIDENTIAL) sees US stock, but of the movements
    of TOP SECRET cases only how much moved each day; the balance is everyone's."""
    day = _pin_the_servers_clock(api, monkeypatch)
    srv = api.server
    srv.accounts.set_access(
        "us.liaison", roles=(Role.REQUESTER,), clearance=Level.TOP_SECRET, actor="admin",
        now=srv.now(),
    )  # fmt: skip
    liaison = api.as_user("us.liaison")
    made = {}
    for quantity, level in ((40, "TOP SECRET"), (60, "TOP SECRET"), (5, "CONFIDENTIAL")):
        answer = liaison.post(
            "/api/v1/cases",
            params={"classification": level},
            json={**ERAM_SALE, "quantity": quantity},
        )
        assert answer.status_code == 201, answer.text
        made[quantity] = answer.json()["id"]
    everything = api.as_user("us.reviewer").get(f"{BOARD}/US/eram").json()
    confidential = api.as_user("conf.reviewer").get(f"{BOARD}/US/eram").json()
    figures = ("on_hand", "committed", "available", "rating", "cover_percent")
    assert [confidential[k] for k in figures] == [everything[k] for k in figures]
    assert (everything["committed"], everything["available"]) == (3350 + 105, 5000 - 3455)
    assert [(m["quantity"], m["case_id"]) for m in everything["movements"]] == [
        (5, made[5]),
        (60, made[60]),
        (40, made[40]),
        (3350, api.case_id(US_CASE)),
    ]
    today = day.isoformat()
    assert confidential["movements"][:2] == [
        {**everything["movements"][0], "withheld": False},
        {
            "day": today,
            "kind": "commit",
            "quantity": 100,
            "on_hand_change": 0,
            "committed_change": 100,
            "case_id": None,
            "actor": None,
            "at": None,
            "withheld": True,
        },
    ]
    assert confidential["movements"][2]["case_id"] == api.case_id(US_CASE)
    assert not ({made[40], made[60]} & {m["case_id"] for m in confidential["movements"]})

    html = main_of(page(api, "conf.reviewer").get("/stockpile/US/eram").text)
    assert 'id="movements-withheld"' in html
    assert "withheld: cases above your clearance" in html
    for case_id in (made[40], made[60]):
        assert case_id[:8] not in html
    assert made[5][:8] in html
