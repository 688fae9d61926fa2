"""The new-request form: its choices, and its fields turned into a request as docs/formats.md
describes it (the service validates it; errors name the request's field, which this module
maps back to the form's input). And the passphrase field of every form that signs (an
answer, a waiver, an activation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearance.core.access import Level
from clearance.core.catalog import Catalog
from clearance.core.regions import region_country, region_name, regions_of
from clearance.core.signing import Signer
from clearance.errors import InputError
from clearance.service.runtime import Runtime

__all__ = [
    "FIELD_IDS",
    "RequestForm",
    "blank_form",
    "form_choices",
    "form_signer",
    "missing",
    "read_request_form",
]

FIELD_IDS = {
    "action": "action-employ",
    "requester": "requester",
    "system": "system",
    "quantity": "quantity",
    "date": "date",
    "target": "territory",
    "target.territory": "territory",
    "territory": "territory",
    "target.region": "region",
    "recipient": "recipient",
    "funding": "funding",
    "value_usd": "value_usd",
    "classification": "classification",
}
"""A request field (as errors name it) → the id of the form input that holds it."""


@dataclass(frozen=True, slots=True)
class RequestForm:
    """What the user typed, kept as text so the form can be shown again as it was."""

    action: str = "employ"
    requester: str = ""
    system: str = ""
    quantity: str = "1"
    date: str = ""
    territory: str = ""
    region: str = ""
    recipient: str = ""
    funding: str = ""
    value_usd: str = ""
    classification: str = "UNCLASSIFIED"
    idempotency_key: str = ""

    def request(self) -> dict[str, Any]:
        """The request as JSON would carry it; only the fields of the chosen action."""
        quantity: object = self.quantity.strip()
        if isinstance(quantity, str) and quantity.isdigit() and len(quantity) < 30:
            quantity = int(quantity)
        data: dict[str, Any] = {
            "action": self.action,
            "requester": self.requester,
            "system": self.system,
            "quantity": quantity,
            "date": self.date.strip(),
        }
        if self.action == "employ":
            data["target"] = {"territory": self.territory}
            if self.region:
                data["target"]["region"] = self.region
        elif self.action == "transfer":
            data["recipient"] = self.recipient
            if self.funding:
                data["funding"] = self.funding
            value: object = self.value_usd.replace(",", "").strip()
            if value:
                if isinstance(value, str) and value.isdigit() and len(value) < 30:
                    value = int(value)
                data["value_usd"] = value
        return data


_NEEDED = {
    "system": "a system",
    "quantity": "a quantity",
    "date": "a date",
    "territory": "a target territory",
    "recipient": "a recipient",
}


def missing(form: RequestForm) -> list[tuple[str, str]]:
    """The inputs still empty that the chosen action needs: (input id, what to choose)."""
    needed = ["system", "quantity", "date"]
    needed.append("recipient" if form.action == "transfer" else "territory")
    return [(name, _NEEDED[name]) for name in needed if not getattr(form, name)]


def read_request_form(form: Mapping[str, Any]) -> RequestForm:
    def text(name: str, default: str = "") -> str:
        value = form.get(name)
        return value.strip()[:200] if isinstance(value, str) else default

    return RequestForm(
        action=text("action", "employ"),
        requester=text("requester"),
        system=text("system"),
        quantity=text("quantity"),
        date=text("date"),
        territory=text("territory"),
        region=text("region"),
        recipient=text("recipient"),
        funding=text("funding"),
        value_usd=text("value_usd"),
        classification=text("classification", "UNCLASSIFIED"),
        idempotency_key=text("idempotency_key"),
    )


def form_choices(catalog: Catalog, clearance: Level) -> dict[str, Any]:
    """The options of the form's lists: systems, states, funders, levels up to the clearance,
    and, as suggestions, the regions of every country a zone of the catalog lies in."""
    states = [(p.code, p.name) for p in catalog.parties if p.kind == "state"]
    zoned = sorted(
        {region_country(r) or "" for z in catalog.zones for s in z.history for r in s.regions}
    )
    return {
        "regions": [(r, region_name(r)) for c in zoned for r in regions_of(c)],
        "systems": [(s.id, s.name) for s in catalog.systems],
        "states": states,
        "funders": [(p.code, p.name) for p in catalog.parties],
        "levels": [level for level in Level if level <= clearance],
    }


def blank_form(catalog: Catalog, party: str, today: dt.date, key: str) -> RequestForm:
    """A new form: the user's own party, the first system, today, a fresh idempotency key."""
    system = catalog.systems[0].id if catalog.systems else ""
    return RequestForm(requester=party, system=system, date=today.isoformat(), idempotency_key=key)


def form_signer(srv: Runtime, user: str, passphrase: str) -> Signer:
    """``user``'s signing key, to be unlocked with the passphrase a form sent; an empty one is
    refused at once, naming the field, before the use case is asked."""
    if not passphrase:
        raise InputError("passphrase", "enter the passphrase of your signing key")
    return srv.signer(user, passphrase)
