"""Requests to employ or transfer a controlled system, as users write them.

Two shapes, told apart by ``action``::

    {"action": "employ", "requester": "UA", "system": "atacms", "quantity": 2,
     "target": {"territory": "RU"}, "date": "2025-06-15"}
    {"action": "transfer", "requester": "US", "recipient": "UA", "system": "eram",
     "quantity": 3350, "funding": "european-partners", "value_usd": 825000000,
     "date": "2025-08-28"}

Validation happens in two steps: the shape (pydantic, here) and the names
(``check_against``: every party and system must be in the catalog). Both raise
``RequestError`` naming the field, so a user sees one line, not a traceback.
Target information is a territory code and, optionally, one of its regions
(ISO 3166-2), and nothing more: clearance decides who must approve, it never
plans or ranks targets.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from clearance.core.catalog import PARTY_CODE, Catalog
from clearance.core.codes import upper_case_hint
from clearance.core.dates import check_in_range
from clearance.core.regions import region_problem
from clearance.errors import RequestError

__all__ = [
    "MAX_QUANTITY",
    "MAX_VALUE_USD",
    "AnyRequest",
    "EmployRequest",
    "Request",
    "StoredRequest",
    "Target",
    "TransferRequest",
    "UnreadableRequest",
    "brief_request",
    "check_against",
    "describe_request",
    "iso_date",
    "parse_request",
    "parse_request_json",
]

Code = Annotated[str, Field(pattern=PARTY_CODE)]
_YYYY_MM_DD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""Nothing else ``date.fromisoformat`` reads (such as the week date ``2025-W24-1``)."""

MAX_QUANTITY = 2**53 - 1
"""The largest quantity a request may name: the largest integer that every JSON reader and
the canonical encoding (RFC 8785) hold exactly, far above any real quantity."""

MAX_VALUE_USD = 10**13
"""The largest value in US dollars a transfer may state: ten trillion, far above any sale
ever notified, and well inside what JSON readers, RFC 8785 and Cedar's ``Long`` hold."""


def iso_date(value: object) -> object:
    """Accept exactly ``YYYY-MM-DD`` text: no timestamps, no times, no 30 February,
    and only dates of the range clearance takes (``core.dates``)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return check_in_range(value)
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("must be a date written YYYY-MM-DD")
    try:
        if not _YYYY_MM_DD.fullmatch(value):
            raise ValueError(value)  # pragma: no mutate
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date of the calendar") from None
    return check_in_range(day)


IsoDate = Annotated[dt.date, BeforeValidator(iso_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Target(_Strict):
    """Where an employment would take effect: a territory and, if given, one of its regions
    (an ISO 3166-2 subdivision, ``core.regions``); nothing finer."""

    territory: Code
    region: str | None = None

    @field_validator("region")
    @classmethod
    def _region_of_territory(cls, region: str | None, info: ValidationInfo) -> str | None:
        if region is not None:
            problem = region_problem(region, info.data.get("territory"))
            if problem is not None:
                raise ValueError(problem)
        return region


class _Base(_Strict):
    requester: Code
    system: Annotated[str, Field(min_length=1)]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    date: IsoDate

    def parties(self) -> list[tuple[str, str]]:
        """(field, party code) for every party the request names."""
        return [("requester", self.requester)]

    def as_dict(self) -> dict[str, Any]:
        """The request as JSON holds it (what decisions record and the request digest is over)."""
        return self.model_dump(mode="json", exclude_none=True)


class EmployRequest(_Base):
    """A partner asks to use a system against a target in some territory."""

    action: Literal["employ"]
    target: Target

    def parties(self) -> list[tuple[str, str]]:
        return [*super().parties(), ("target.territory", self.target.territory)]


class TransferRequest(_Base):
    """A government asks to transfer systems to a partner (sale, grant, re-transfer)."""

    action: Literal["transfer"]
    recipient: Code
    funding: Code | None = None
    value_usd: Annotated[int, Field(ge=0, le=MAX_VALUE_USD)] | None = None
    """What the transfer is worth, in whole US dollars (legislative review reads it)."""

    def parties(self) -> list[tuple[str, str]]:
        named = [*super().parties(), ("recipient", self.recipient)]
        if self.funding is not None:
            named.append(("funding", self.funding))
        return named


AnyRequest = EmployRequest | TransferRequest
"""Either kind of request, as code holds it once parsed."""
Request = Annotated[AnyRequest, Field(discriminator="action")]


@dataclass(frozen=True, slots=True)
class UnreadableRequest:
    """A case's stored request that no longer reads as a request, and why (``problem``).

    A later rule (the range of dates) or someone who can write to the database
    can leave one. The case is still shown, with what was stored (``data``: the
    decoded JSON, or the text when it is not JSON), and the work that judges
    cases again names it and goes on (``service.rejudge``).
    """

    data: object
    problem: str

    def as_dict(self) -> dict[str, Any]:
        """What was stored, when it is a JSON object; else it under ``unreadable``."""
        return dict(self.data) if isinstance(self.data, dict) else {"unreadable": self.data}


StoredRequest = AnyRequest | UnreadableRequest
"""A case's request as the store hands it up: read, or kept with why it does not read."""
_ADAPTER: TypeAdapter[AnyRequest] = TypeAdapter(Request)


def _field_of(loc: tuple[int | str, ...]) -> str:
    # Pydantic puts the discriminator's value first in the path ("employ", "target", ...);
    # a field of that name further on (an unknown "transfer") is still named.
    if loc[:1] in (("employ",), ("transfer",)):
        loc = loc[1:]
    return ".".join(str(p) for p in loc) or "request"  # pragma: no mutate


def _problem(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "union_tag_invalid":
        return "must be 'employ' or 'transfer'"
    if kind == "union_tag_not_found":
        return "is required ('employ' or 'transfer')"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "string_pattern_mismatch" and error["ctx"]["pattern"] == PARTY_CODE:
        return _not_a_party_code(str(error["input"]))
    message: str = error["msg"]
    return message[0].lower() + message[1:]


def _not_a_party_code(code: str) -> str:
    """What is wrong with a party code of the wrong shape (``Ua``, ``U.A.``), in words, with
    the upper-case hint when that is all it lacks."""
    said = f"'{code}' is not a party code: a country's two capital letters (ISO 3166, such as 'UA') or a group's name in lower case (such as 'european-partners')"
    hint = upper_case_hint(code, lambda upper: re.fullmatch(PARTY_CODE, upper) is not None)
    return f"{said}; {hint}" if hint else said


def _named(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def _all_problems(errors: list[Any]) -> tuple[str, str]:
    """The first bad field, and what is wrong with it and with every other one, named:
    a user who fixes one field at a time should not find the next only on the next try."""
    first, rest = errors[0], errors[1:]
    field = "action" if first["type"].startswith("union_tag") else _field_of(first["loc"])
    problem = _problem(first)
    if not rest:
        return field, problem
    if all(error["type"] == "missing" for error in errors):
        names = _named([_field_of(error["loc"]) for error in rest])
        return field, f"{problem}, and so {'is' if len(rest) == 1 else 'are'} {names}"
    others = "; ".join(f"'{_field_of(error['loc'])}': {_problem(error)}" for error in rest)
    return field, f"{problem}; also {others}"


def parse_request(data: object) -> EmployRequest | TransferRequest:
    """Validate a decoded JSON value as a request; ``RequestError`` names the first bad field
    and, in its words, every other one."""
    if not isinstance(data, dict):
        raise RequestError("request", "must be a JSON object")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise RequestError(*_all_problems(exc.errors())) from None


def parse_request_json(text: str | bytes) -> AnyRequest | None:
    """A request straight from its JSON text, by pydantic's reader in Rust: what
    ``parse_request`` gives for the decoded text, without making the Python value first;
    None for a text it refuses, which the caller reads again the exact way for the words of
    the refusal. The model is strict and forbids other fields, so a text it takes has
    nothing the exact way refuses (nesting, long numbers, other fields), and it refuses
    what is not UTF-8 or not Unicode (a lone surrogate) as the exact way does; a property
    test in tests/test_request_json.py holds the two to the same answer."""
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError:
        return None


def check_against(request: EmployRequest | TransferRequest, catalog: Catalog) -> None:
    """Refuse a request that names a system or party the catalog does not hold."""
    if catalog.system(request.system) is None:
        raise RequestError("system", f"unknown system '{request.system}'")
    for field, code in request.parties():
        if catalog.party(code) is None:
            hint = upper_case_hint(code, lambda upper: catalog.party(upper) is not None)
            raise RequestError(field, f"unknown party '{code}'" + (f": {hint}" if hint else ""))


def describe_request(request: Mapping[str, Any] | StoredRequest) -> str:
    """A request (read, or as JSON holds it) in one line, as every interface writes it.

    ``UA employs 2 × atacms against a target in RU, 2025-06-15`` (``…in RU, region
    RU-BEL, …`` when the target names its region), or
    ``US transfers 3350 × eram to UA, funded by european-partners, 2025-08-28``
    (``…, worth $825,000,000, …`` when the transfer states its value).
    """
    if isinstance(request, UnreadableRequest):
        return f"a stored request that cannot be read ({request.problem})"
    if isinstance(request, _Base):
        request = request.as_dict()
    if request.get("action") == "employ":
        target = request["target"]
        region = f", region {target['region']}" if target.get("region") else ""
        where = f"against a target in {target['territory']}{region}"
        return (
            f"{request['requester']} employs {request['quantity']} × {request['system']} {where}"
            f", {request['date']}"
        )
    funding = f", funded by {request['funding']}" if request.get("funding") else ""
    value = request.get("value_usd")
    worth = f", worth ${value:,}" if type(value) is int else ""
    return (
        f"{request['requester']} transfers {request['quantity']} × {request['system']} "
        f"to {request['recipient']}{funding}{worth}, {request['date']}"
    )


def brief_request(request: Mapping[str, Any] | StoredRequest) -> str:
    """A request in a few words, for a row of a list whose other columns say the rest:
    ``UA employs 2 × atacms in RU-BEL`` (the region, or the territory), ``US transfers
    3,350 × eram to UA``. ``describe_request`` says it whole."""
    if isinstance(request, UnreadableRequest):
        return "a stored request that cannot be read"
    if isinstance(request, _Base):
        request = request.as_dict()
    quantity = request["quantity"]
    amount = f"{quantity:,}" if type(quantity) is int else str(quantity)
    if request.get("action") == "employ":
        target = request["target"]
        where = target.get("region") or target["territory"]
        return f"{request['requester']} employs {amount} × {request['system']} in {where}"
    return (
        f"{request['requester']} transfers {amount} × {request['system']} to {request['recipient']}"
    )
