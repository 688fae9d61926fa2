"""The rules of a request as users write it, stated on the pure code (``core.request``).

The service and interface tests screen real requests; these state the request's
own rules: which shapes and dates it takes, the exact words of every refusal and
the field they name, the names the catalog must hold, and the one line and the
few words every interface writes a request in.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from clearance.core.catalog import Catalog
from clearance.core.request import (
    MAX_QUANTITY,
    MAX_VALUE_USD,
    EmployRequest,
    TransferRequest,
    UnreadableRequest,
    brief_request,
    check_against,
    describe_request,
    iso_date,
    parse_request,
    parse_request_json,
)
from clearance.errors import RequestError

EMPLOY: dict[str, Any] = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}
TRANSFER: dict[str, Any] = {
    "action": "transfer",
    "requester": "US",
    "recipient": "UA",
    "system": "eram",
    "quantity": 3350,
    "funding": "european-partners",
    "value_usd": 825_000_000,
    "date": "2025-08-28",
}
PARTY_CODE_WORDS = (
    "is not a party code: a country's two capital letters (ISO 3166, such as 'UA')"
    " or a group's name in lower case (such as 'european-partners')"
)

CATALOG = Catalog.model_validate(
    {
        "parties": [
            {"code": "UA", "name": "Ukraine"},
            {"code": "US", "name": "United States"},
            {"code": "RU", "name": "Russia"},
            {"code": "european-partners", "name": "European partners", "kind": "group"},
        ],
        "systems": [
            {
                "id": "atacms",
                "name": "ATACMS",
                "origin": "US",
                "category": "missile",
                "range_km": 300,
            },
            {"id": "eram", "name": "ERAM", "origin": "US", "category": "missile", "range_km": 450},
        ],
    }
)


def refusal(data: object) -> tuple[str, str]:
    """(field, problem) of the refusal ``parse_request`` gives ``data``."""
    with pytest.raises(RequestError) as refused:
        parse_request(data)
    return refused.value.field, refused.value.problem


# --- what is taken ------------------------------------------------------------------------


def test_an_employment_reads_as_an_employ_request_with_every_field() -> None:
    """An employment is read whole: its parties, its system, quantity, target and date."""
    request = parse_request(EMPLOY)
    assert isinstance(request, EmployRequest)
    assert request.as_dict() == EMPLOY
    assert request.date == dt.date(2025, 6, 15)
    assert request.parties() == [("requester", "UA"), ("target.territory", "RU")]


def test_a_transfer_reads_as_a_transfer_request_naming_its_funder_as_a_party() -> None:
    """A transfer's parties are its requester, its recipient and, when named, its funder."""
    request = parse_request(TRANSFER)
    assert isinstance(request, TransferRequest)
    assert request.as_dict() == TRANSFER
    assert request.parties() == [
        ("requester", "US"),
        ("recipient", "UA"),
        ("funding", "european-partners"),
    ]


def test_a_transfer_without_a_funder_names_only_its_requester_and_recipient() -> None:
    """With no funder the transfer's parties are two, and its JSON form leaves the absent out."""
    data = {k: v for k, v in TRANSFER.items() if k not in ("funding", "value_usd")}
    request = parse_request(data)
    assert request.parties() == [("requester", "US"), ("recipient", "UA")]
    assert request.as_dict() == data


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", 1), ("quantity", MAX_QUANTITY), ("value_usd", 0), ("value_usd", MAX_VALUE_USD)],
)
def test_a_figure_at_either_end_of_its_range_is_taken(field: str, value: int) -> None:
    """The least and the largest quantity and value are both taken."""
    assert parse_request({**TRANSFER, field: value}).as_dict()[field] == value


@pytest.mark.parametrize("day", ["1900-01-01", "2199-12-31"])
def test_a_date_at_either_end_of_the_range_is_taken(day: str) -> None:
    """The first and the last day clearance takes are both taken as written."""
    assert parse_request({**EMPLOY, "date": day}).date == dt.date.fromisoformat(day)


def test_a_date_already_read_is_taken_as_it_is() -> None:
    """A date handed over as a date (YAML reads one so) is taken without being written out."""
    assert iso_date(dt.date(2025, 6, 15)) == dt.date(2025, 6, 15)
    assert parse_request({**EMPLOY, "date": dt.date(2025, 6, 15)}).date == dt.date(2025, 6, 15)


def test_a_target_region_of_the_territory_is_taken() -> None:
    """A region ISO 3166-2 lists in the target's territory is kept with the territory."""
    data = {**EMPLOY, "target": {"territory": "RU", "region": "RU-BEL"}}
    assert parse_request(data).as_dict() == data


# --- what is refused, in words, naming the field ------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ([EMPLOY], "request", "must be a JSON object"),
        ("employ", "request", "must be a JSON object"),
        ({}, "action", "is required ('employ' or 'transfer')"),
        ({**EMPLOY, "action": "fly"}, "action", "must be 'employ' or 'transfer'"),
        ({**EMPLOY, "action": 5}, "action", "must be 'employ' or 'transfer'"),
        ({**EMPLOY, "colour": "red"}, "colour", "is not a known field"),
        ({**EMPLOY, "quantity": 0}, "quantity", "input should be greater than or equal to 1"),
        (
            {**EMPLOY, "quantity": MAX_QUANTITY + 1},
            "quantity",
            "input should be less than or equal to 9007199254740991",
        ),
        ({**EMPLOY, "quantity": "2"}, "quantity", "input should be a valid integer"),
        ({**EMPLOY, "quantity": True}, "quantity", "input should be a valid integer"),
        ({**EMPLOY, "system": ""}, "system", "string should have at least 1 character"),
        ({**TRANSFER, "value_usd": -1}, "value_usd", "input should be greater than or equal to 0"),
        (
            {**TRANSFER, "value_usd": MAX_VALUE_USD + 1},
            "value_usd",
            "input should be less than or equal to 10000000000000",
        ),
        ({**EMPLOY, "target": {}}, "target.territory", "is required"),
        (
            {**EMPLOY, "target": {"territory": "RU", "region": 5}},
            "target.region",
            "input should be a valid string",
        ),
    ],
)
def test_a_bad_request_is_refused_in_words_naming_the_field(
    data: object, field: str, problem: str
) -> None:
    """Each kind of mistake has its words, after the field it is in."""
    assert refusal(data) == (field, problem)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2025-02-30", "'2025-02-30' is not a date of the calendar"),
        ("2025-W24-1", "'2025-W24-1' is not a date of the calendar"),
        ("2025/06/15", "'2025/06/15' is not a date of the calendar"),
        ("2025-6-15", "must be a date written YYYY-MM-DD"),
        ("20250615", "must be a date written YYYY-MM-DD"),
        ("2025-06-15T00:00", "must be a date written YYYY-MM-DD"),
        (20250615, "must be a date written YYYY-MM-DD"),
        (dt.datetime(2025, 6, 15, 10, 0), "must be a date written YYYY-MM-DD"),
        (
            "1899-12-31",
            "1899-12-31 is outside the dates clearance takes (from 1900-01-01 to 2199-12-31)",
        ),
        (
            "2200-01-01",
            "2200-01-01 is outside the dates clearance takes (from 1900-01-01 to 2199-12-31)",
        ),
        (
            dt.date(1899, 12, 31),
            "1899-12-31 is outside the dates clearance takes (from 1900-01-01 to 2199-12-31)",
        ),
    ],
)
def test_a_date_not_written_yyyy_mm_dd_of_the_range_is_refused_in_words(
    value: object, problem: str
) -> None:
    """Only ``YYYY-MM-DD`` of a real day in the range is a date: not a week date, a timestamp,
    a number or a moment (YAML reads ``2025-06-15 10:00`` as one), and ten characters of
    another shape are not a day of the calendar."""
    assert refusal({**EMPLOY, "date": value}) == ("date", problem)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("Ua", f"'Ua' {PARTY_CODE_WORDS}; codes are upper case, did you mean 'UA'?"),
        ("U.A.", f"'U.A.' {PARTY_CODE_WORDS}"),
        ("UKR", f"'UKR' {PARTY_CODE_WORDS}"),
    ],
)
def test_a_party_code_of_the_wrong_shape_is_refused_with_the_upper_case_hint_when_that_is_all(
    code: str, problem: str
) -> None:
    """A party code is two capitals or a lower-case group name; a code that only lacks
    upper case is told so."""
    assert refusal({**EMPLOY, "requester": code}) == ("requester", problem)
    assert refusal({**TRANSFER, "funding": code}) == ("funding", problem)


@pytest.mark.parametrize(
    ("region", "problem"),
    [
        ("UA-43", "region 'UA-43' is in UA, not in the target's territory RU"),
        ("ru-bel", "unknown region 'ru-bel': codes are upper case, did you mean 'RU-BEL'?"),
        ("XX-1", "unknown region 'XX-1': ISO 3166-2 has no such subdivision"),
        ("Belgorod", "'Belgorod' is not an ISO 3166-2 region code such as 'RU-BEL'"),
    ],
)
def test_a_target_region_not_of_the_territory_is_refused_naming_target_region(
    region: str, problem: str
) -> None:
    """The region must be ISO 3166-2's and of the target's territory."""
    data = {**EMPLOY, "target": {"territory": "RU", "region": region}}
    assert refusal(data) == ("target.region", problem)


def test_every_missing_field_is_named_after_the_first() -> None:
    """When only fields are missing, the first is the field and the rest are named with it."""
    assert refusal({"action": "employ", "requester": "UA"}) == (
        "system",
        "is required, and so are 'quantity', 'date' and 'target'",
    )
    assert refusal({"action": "transfer", "requester": "US"}) == (
        "system",
        "is required, and so are 'quantity', 'date' and 'recipient'",
    )


def test_two_missing_fields_name_the_second_as_one() -> None:
    """With one more missing field, the words are singular: 'and so is'."""
    data = {k: v for k, v in EMPLOY.items() if k not in ("date", "target")}
    assert refusal(data) == ("date", "is required, and so is 'target'")


def test_every_other_bad_field_is_named_with_its_own_words() -> None:
    """When the mistakes differ, each other field follows 'also' with its own words."""
    data = {"action": "employ", "requester": "UA", "quantity": 0}
    assert refusal(data) == (
        "system",
        "is required; also 'quantity': input should be greater than or equal to 1;"
        " 'date': is required; 'target': is required",
    )
    assert refusal({**EMPLOY, "quantity": 0, "system": ""}) == (
        "system",
        "string should have at least 1 character; also 'quantity': input should be greater"
        " than or equal to 1",
    )


def test_a_refusal_reads_as_one_line_naming_the_field() -> None:
    """What a user sees: the field, quoted, then the problem."""
    with pytest.raises(RequestError) as refused:
        parse_request({**EMPLOY, "quantity": 0})
    assert (
        str(refused.value) == "request field 'quantity': input should be greater than or equal to 1"
    )


def test_a_request_read_from_its_json_text_is_the_request_its_value_reads_as() -> None:
    """``parse_request_json``: the same request, as text or bytes; None for text it refuses,
    which the caller reads again the exact way for the refusal's words."""
    for value in (EMPLOY, TRANSFER):
        text = json.dumps(value)
        assert parse_request_json(text) == parse_request(value)
        assert parse_request_json(text.encode()) == parse_request(value)
    assert parse_request_json(json.dumps({**EMPLOY, "quantity": 0})) is None
    assert parse_request_json(json.dumps({**EMPLOY, "more": 1})) is None
    assert parse_request_json(b'{"action": "employ",') is None


# --- the names the catalog must hold ------------------------------------------------------


def test_a_request_naming_what_the_catalog_holds_passes() -> None:
    """Every party and the system in the catalog: nothing to refuse."""
    check_against(parse_request(EMPLOY), CATALOG)
    check_against(parse_request(TRANSFER), CATALOG)


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ({**EMPLOY, "system": "scalp"}, "system", "unknown system 'scalp'"),
        ({**EMPLOY, "requester": "GB"}, "requester", "unknown party 'GB'"),
        (
            {**EMPLOY, "requester": "ua"},
            "requester",
            "unknown party 'ua': codes are upper case, did you mean 'UA'?",
        ),
        ({**EMPLOY, "target": {"territory": "BY"}}, "target.territory", "unknown party 'BY'"),
        ({**TRANSFER, "recipient": "PL"}, "recipient", "unknown party 'PL'"),
        ({**TRANSFER, "funding": "nordic"}, "funding", "unknown party 'nordic'"),
        (
            {**TRANSFER, "system": "scalp", "requester": "GB"},
            "system",
            "unknown system 'scalp'",
        ),
    ],
)
def test_a_name_the_catalog_lacks_is_refused_naming_its_field(
    data: dict[str, Any], field: str, problem: str
) -> None:
    """The system is checked first, then each party in order; a lower-case code of a known
    party gets the upper-case hint."""
    with pytest.raises(RequestError) as refused:
        check_against(parse_request(data), CATALOG)
    assert (refused.value.field, refused.value.problem) == (field, problem)


# --- the one line and the few words -------------------------------------------------------


def test_an_employment_is_described_in_one_line() -> None:
    """Who employs how many of what, against which territory, on which day."""
    assert describe_request(parse_request(EMPLOY)) == (
        "UA employs 2 × atacms against a target in RU, 2025-06-15"
    )


def test_an_employment_with_a_region_names_it_after_the_territory() -> None:
    """The region follows the territory in the line."""
    data = {**EMPLOY, "quantity": 1200, "target": {"territory": "RU", "region": "RU-BEL"}}
    assert describe_request(data) == (
        "UA employs 1200 × atacms against a target in RU, region RU-BEL, 2025-06-15"
    )


def test_a_transfer_is_described_with_its_funder_and_worth() -> None:
    """A transfer names its recipient, funder and value in dollars with thousands marked."""
    assert describe_request(parse_request(TRANSFER)) == (
        "US transfers 3350 × eram to UA, funded by european-partners, worth $825,000,000,"
        " 2025-08-28"
    )


def test_a_transfer_without_funder_or_value_says_neither() -> None:
    """Nothing is said of a funder or value the transfer does not state."""
    data = {k: v for k, v in TRANSFER.items() if k not in ("funding", "value_usd")}
    assert describe_request(data) == "US transfers 3350 × eram to UA, 2025-08-28"


@pytest.mark.parametrize("value", ["825000000", True, None, 1.5])
def test_a_stored_value_that_is_not_a_whole_number_is_not_written_as_a_worth(value: object) -> None:
    """Only a whole number (not a bool, not text) is written as dollars."""
    data = {k: v for k, v in TRANSFER.items() if k != "funding"} | {"value_usd": value}
    assert describe_request(data) == "US transfers 3350 × eram to UA, 2025-08-28"


def test_a_stored_value_of_nothing_is_worth_zero_dollars() -> None:
    """A transfer worth $0 says so."""
    data = {**TRANSFER, "value_usd": 0}
    assert describe_request(data) == (
        "US transfers 3350 × eram to UA, funded by european-partners, worth $0, 2025-08-28"
    )


def test_an_unreadable_request_is_described_with_why() -> None:
    """A stored request that no longer reads is shown as such, with its problem; briefly,
    without it."""
    stored = UnreadableRequest({"action": "employ"}, "request field 'date': is required")
    assert describe_request(stored) == (
        "a stored request that cannot be read (request field 'date': is required)"
    )
    assert brief_request(stored) == "a stored request that cannot be read"


def test_an_unreadable_request_keeps_what_was_stored() -> None:
    """A stored JSON object is given back as it was (a copy); anything else under ``unreadable``."""
    data = {"action": "employ", "date": "2300-01-01"}
    kept = UnreadableRequest(data, "out of range").as_dict()
    assert kept == data
    assert kept is not data
    assert UnreadableRequest("not json", "no").as_dict() == {"unreadable": "not json"}
    assert UnreadableRequest([1, 2], "no").as_dict() == {"unreadable": [1, 2]}


def test_a_request_in_brief_names_the_region_or_else_the_territory() -> None:
    """A row says who, how many (thousands marked), of what, and where, finest first."""
    assert brief_request(parse_request(EMPLOY)) == "UA employs 2 × atacms in RU"
    region = {**EMPLOY, "quantity": 1200, "target": {"territory": "RU", "region": "RU-BEL"}}
    assert brief_request(region) == "UA employs 1,200 × atacms in RU-BEL"


def test_a_transfer_in_brief_names_only_its_recipient() -> None:
    """Funder, value and date are other columns."""
    assert brief_request(parse_request(TRANSFER)) == "US transfers 3,350 × eram to UA"


def test_a_stored_quantity_that_is_not_a_whole_number_is_written_as_stored() -> None:
    """A quantity kept as text is shown as it was kept, not formatted."""
    assert brief_request({**TRANSFER, "quantity": "3350"}) == "US transfers 3350 × eram to UA"


def test_an_unknown_field_named_like_an_action_is_still_named() -> None:
    """A field called ``transfer`` or ``employ`` is a field like any other, wherever it is."""
    assert refusal({**TRANSFER, "transfer": True}) == ("transfer", "is not a known field")
    assert refusal({**EMPLOY, "target": {"territory": "RU", "employ": 1}, "transfer": 1}) == (
        "target.employ",
        "is not a known field; also 'transfer': is not a known field",
    )
