"""A policy bundle: one consent holder's Cedar policies, schema and entities from a date.

A bundle is a folder::

    bundles/US/2025-05-01/
        bundle.yaml          holder, effective_from, title, summary, sources
        *.cedar              the policies (every policy carries an @id)
        schema.cedarschema   optional; the pack's shared schema otherwise
        entities.json        optional; added to the entities made from the catalog

Everything is parsed **once**, when the bundle is loaded, and the parsed
handles are kept: cedarpy re-parses text on every call otherwise, which costs
more than the evaluation itself. The revision is a digest of the content, so
the same policies give the same revision on every machine.

Annotations give policies their meaning for review:

- ``@gate("us.secdef")`` on a ``forbid``: the office whose approval lifts it;
  ``@delegable("true")`` lets the office delegate that approval (default: not).
  A ``forbid`` without ``@gate`` is a prohibition that no approval lifts.
- ``@condition("…")`` (or any ``@condition_…``) on a ``permit``: a condition
  the permission carries, tracked until met.

``policy_authority`` in ``bundle.yaml`` names the office (of the holder) whose
holder may activate the holder's next bundle while this one is in force: the
holder's meta-policy, changed only by a bundle that office activated.

``approval_lifetime`` in ``bundle.yaml`` (``{employ: 30, transfer: 730}``, whole days)
is how long an approval this bundle takes part in stays valid unless the case
is executed (service/lifetimes.py); an action it does not name has no limit.

``stockpile_thresholds`` in ``bundle.yaml`` (whole percent of the requirement
for green and for yellow) is the holder's rule for rating its own stocks
while the bundle is in force; without it the standard 120 % / 100 % apply.

``legislative_review`` in ``bundle.yaml`` says when the holder's own transfers must be
notified to its legislature and wait before execution (``policy.legislative_review``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import cedarpy

from clearance.core.catalog import Catalog
from clearance.core.dates import MAX_SLA_DAYS
from clearance.core.decision import RequiredApproval
from clearance.core.digest import canonical_digest, sha256_hex
from clearance.core.events import BundleActivated
from clearance.core.request import iso_date
from clearance.core.stockpile import Thresholds
from clearance.errors import PackError, PolicySourceError
from clearance.policy.entities import catalog_entities
from clearance.policy.legislative_review import LegislativeReview, read_legislative_review
from clearance.policy.review_limits import GateRule, read_review_limits
from clearance.policy.source import Statement, parse_statements

__all__ = ["BundleFiles", "Effect", "PolicyBundle", "PolicyInfo", "build_bundle"]

_READS_REGION = re.compile(r"\btarget\s*\.\s*(region|zones)\b|\bhas\s+(region|zones)\b")

KNOWN_ANNOTATIONS = {"id", "gate", "delegable", "description", "source", "illustrative"}


class Effect(StrEnum):
    PERMIT = "permit"
    FORBID = "forbid"


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """What review needs to know about one policy of a bundle."""

    id: str
    effect: Effect
    statement: Statement
    file: str
    gate: RequiredApproval | None = None
    conditions: tuple[str, ...] = ()
    description: str = ""

    @property
    def is_prohibition(self) -> bool:
        return self.effect is Effect.FORBID and self.gate is None


@dataclass(frozen=True, slots=True)
class BundleFiles:
    """The raw content of a bundle folder, as read from disk (names relative to the pack)."""

    meta_file: str
    meta: dict[str, Any]
    policy_files: tuple[tuple[str, str], ...]
    schema_file: str
    schema_text: str
    entities_file: str | None = None
    entities_text: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class PolicyBundle:
    """A holder's policy in force from ``effective_from`` until the next bundle."""

    holder: str
    effective_from: dt.date
    title: str
    summary: str
    sources: tuple[str, ...]
    illustrative: bool
    review_sla_days: int | None
    review_limits: tuple[GateRule, ...]
    thresholds: Thresholds | None
    policy_authority: str | None
    approval_days: tuple[tuple[str, int], ...]
    """(action, days) an approval stays valid unless executed (``approval_lifetime``)."""
    revision: str
    folder: str
    policies: tuple[PolicyInfo, ...]
    policy_set: cedarpy.PolicySet
    schema: cedarpy.Schema
    entities: cedarpy.Entities
    by_position: dict[str, PolicyInfo] = field(repr=False)
    legislative_review: LegislativeReview | None = None
    reads_region: bool = False
    """Whether a policy tests the target's region or zones (``context.target.zones``): a
    use without a region that such a bundle does not permit says so."""

    def in_force(self) -> BundleActivated:
        """What the ledger says of a bundle that took effect: whose, which, from when."""
        return BundleActivated(self.holder, self.folder, self.revision, self.effective_from)

    def approval_lifetime(self, action: str) -> int | None:
        """How many days an approval of an ``action`` request stays valid, if limited."""
        return dict(self.approval_days).get(action)

    def review_limit(self, office: str) -> GateRule | None:
        """The time limit (and escalation ladder) this bundle gives ``office``, if any."""
        return next((r for r in self.review_limits if r.office == office), None)

    def policy(self, policy_id: str) -> PolicyInfo | None:
        return next((p for p in self.policies if p.id == policy_id), None)

    @property
    def text(self) -> str:
        return "\n\n".join(p.statement.text for p in self.policies)


def _annotation_error(file: str, statement: Statement, problem: str) -> PolicySourceError:
    return PolicySourceError(file, statement.code_line, problem)


def _policy_info(
    file: str, statement: Statement, parsed: cedarpy.PolicySet, catalog: Catalog
) -> PolicyInfo:
    tree = parsed.to_pst()
    if tree.templates:
        raise _annotation_error(
            file, statement, "templates (?principal, ?resource) are not supported"
        )
    (template,) = tree.static_policies.values()
    notes = dict(template.annotations)
    policy_id = notes.get("id")
    if not policy_id:
        raise _annotation_error(file, statement, 'every policy needs an @id("…") annotation')
    effect = Effect(template.effect)
    unknown = sorted(
        k for k in notes if k not in KNOWN_ANNOTATIONS and not k.startswith("condition")
    )
    if unknown:
        raise _annotation_error(
            file, statement, f"policy '{policy_id}': unknown annotation @{unknown[0]}"
        )
    conditions = tuple(v for k, v in sorted(notes.items()) if k.startswith("condition"))
    if conditions and effect is not Effect.PERMIT:
        raise _annotation_error(
            file, statement, f"policy '{policy_id}': @condition belongs on a permit"
        )
    gate = None
    if "gate" in notes:
        if effect is not Effect.FORBID:
            raise _annotation_error(
                file, statement, f"policy '{policy_id}': @gate belongs on a forbid"
            )
        if catalog.authority(notes["gate"]) is None:
            raise _annotation_error(
                file,
                statement,
                f"policy '{policy_id}': @gate names unknown authority '{notes['gate']}'",
            )
        delegable = notes.get("delegable", "false")
        if delegable not in ("true", "false"):
            raise _annotation_error(
                file, statement, f'policy \'{policy_id}\': @delegable must be "true" or "false"'
            )
        gate = RequiredApproval(notes["gate"], delegable == "true")
    elif "delegable" in notes:
        raise _annotation_error(file, statement, f"policy '{policy_id}': @delegable needs a @gate")
    return PolicyInfo(
        policy_id, effect, statement, file, gate, conditions, notes.get("description", "")
    )


def _meta_date(files: BundleFiles) -> dt.date:
    value = files.meta.get("effective_from")
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise PackError(files.meta_file, "effective_from", "must be a date written YYYY-MM-DD")
    try:
        day = iso_date(value)
    except ValueError as exc:
        raise PackError(files.meta_file, "effective_from", str(exc)) from None
    assert isinstance(day, dt.date)
    return day


def _meta_text(files: BundleFiles, key: str, *, required: bool = False) -> str:
    value = files.meta.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise PackError(
            files.meta_file, key, "must be a non-empty text" if required else "must be text"
        )
    return value


def _sla_days(files: BundleFiles) -> int | None:
    value = files.meta.get("review_sla_days")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SLA_DAYS:
        raise PackError(
            files.meta_file,
            "review_sla_days",
            f"must be a whole number of days from 1 to {MAX_SLA_DAYS}",
        )
    return value


def _thresholds(files: BundleFiles) -> Thresholds | None:
    """``stockpile_thresholds: {green_percent: 120, yellow_percent: 100}``, both whole percent."""
    key = "stockpile_thresholds"
    value = files.meta.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PackError(
            files.meta_file, key, "must be a mapping of green_percent and yellow_percent"
        )
    extra = sorted(set(value) - {"green_percent", "yellow_percent"})
    if extra:
        raise PackError(files.meta_file, f"{key}.{extra[0]}", "is not a known field")
    for name in ("green_percent", "yellow_percent"):
        number = value.get(name)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 10_000:
            raise PackError(
                files.meta_file, f"{key}.{name}", "must be a whole percent from 0 to 10000"
            )
    try:
        return Thresholds(value["green_percent"], value["yellow_percent"])
    except ValueError as exc:
        raise PackError(files.meta_file, key, str(exc)) from None


def _approval_days(files: BundleFiles) -> tuple[tuple[str, int], ...]:
    """``approval_lifetime: {employ: 30, transfer: 730}``: whole days from 1 to the longest
    deadline clearance takes, per action."""
    key = "approval_lifetime"
    value = files.meta.get(key)
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise PackError(files.meta_file, key, "must be a mapping of employ and/or transfer to days")
    days: list[tuple[str, int]] = []
    for action, number in sorted(value.items(), key=lambda item: str(item[0])):
        if action not in ("employ", "transfer"):
            raise PackError(
                files.meta_file, f"{key}.{action}", "is not an action (employ, transfer)"
            )
        if (
            not isinstance(number, int)
            or isinstance(number, bool)
            or not 1 <= number <= MAX_SLA_DAYS
        ):
            raise PackError(
                files.meta_file,
                f"{key}.{action}",
                f"must be a whole number of days from 1 to {MAX_SLA_DAYS}",
            )
        days.append((action, number))
    return tuple(days)


def _policy_authority(files: BundleFiles, catalog: Catalog, holder: str) -> str | None:
    """The office that may activate the holder's next bundle while this one is in force."""
    value = files.meta.get("policy_authority")
    if value is None:
        return None
    authority = catalog.authority(value) if isinstance(value, str) else None
    if authority is None:
        raise PackError(files.meta_file, "policy_authority", f"unknown authority '{value}'")
    if authority.party != holder:
        raise PackError(
            files.meta_file,
            "policy_authority",
            f"'{value}' is an office of {authority.party}, not {holder}",
        )
    return authority.id


def _check_meta(files: BundleFiles, catalog: Catalog) -> tuple[str, dt.date]:
    allowed = {
        "holder",
        "effective_from",
        "title",
        "summary",
        "sources",
        "illustrative",
        "review_sla_days",
        "review_limits",
        "stockpile_thresholds",
        "policy_authority",
        "legislative_review",
        "approval_lifetime",
    }
    extra = sorted(set(files.meta) - allowed)
    if extra:
        raise PackError(files.meta_file, extra[0], "is not a known field")
    holder = files.meta.get("holder")
    if not isinstance(holder, str) or catalog.party(holder) is None:
        raise PackError(files.meta_file, "holder", f"unknown party '{holder}'")
    return holder, _meta_date(files)


def build_bundle(files: BundleFiles, catalog: Catalog, folder: str) -> PolicyBundle:
    """Parse, validate and index a bundle; every error names the file and line."""
    holder, effective_from = _check_meta(files, catalog)
    sources = files.meta.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise PackError(files.meta_file, "sources", "must be a list of texts")

    try:
        schema = cedarpy.Schema.from_str(files.schema_text)
    except ValueError as exc:
        raise PolicySourceError(files.schema_file, None, f"schema does not parse: {exc}") from None

    infos: list[PolicyInfo] = []
    for file, text in files.policy_files:
        infos.extend(_policy_info(file, s, p, catalog) for s, p in parse_statements(text, file))
    if not infos:
        raise PackError(folder, "", "bundle has no policies (*.cedar)")
    seen: dict[str, PolicyInfo] = {}
    for info in infos:
        if info.id in seen:
            raise PolicySourceError(
                info.file, info.statement.code_line, f"duplicate policy id '{info.id}'"
            )
        seen[info.id] = info

    full_text = "\n".join(info.statement.text for info in infos)
    policy_set = cedarpy.PolicySet.from_str(full_text)
    by_position = {f"policy{i}": info for i, info in enumerate(infos)}
    _validate(full_text, schema, by_position)

    entity_data = catalog_entities(catalog)
    if files.entities_text is not None:
        assert files.entities_file is not None
        try:
            extra = json.loads(files.entities_text)
        except json.JSONDecodeError as exc:
            raise PolicySourceError(files.entities_file, exc.lineno, exc.msg) from None
        if not isinstance(extra, list):
            raise PolicySourceError(files.entities_file, None, "must be a JSON list of entities")
        entity_data = entity_data + extra
    try:
        entities = cedarpy.Entities.from_json_str(json.dumps(entity_data), schema)
    except ValueError as exc:
        where = files.entities_file or files.schema_file
        raise PolicySourceError(where, None, f"entities do not fit the schema: {exc}") from None

    revision = canonical_digest(
        {
            "holder": holder,
            "effective_from": effective_from.isoformat(),
            "meta": {k: v for k, v in files.meta.items() if k not in ("holder", "effective_from")},
            "policies": [
                [name.rsplit("/", 1)[-1], sha256_hex(text.encode())]
                for name, text in files.policy_files
            ],
            "schema": sha256_hex(files.schema_text.encode()),
            "entities": sha256_hex((files.entities_text or "").encode()),
        }
    )
    return PolicyBundle(
        holder=holder,
        effective_from=effective_from,
        title=_meta_text(files, "title", required=True),
        summary=_meta_text(files, "summary"),
        sources=tuple(sources),
        illustrative=bool(files.meta.get("illustrative", False)),
        review_sla_days=_sla_days(files),
        review_limits=read_review_limits(files.meta_file, files.meta.get("review_limits"), catalog),
        thresholds=_thresholds(files),
        policy_authority=_policy_authority(files, catalog, holder),
        approval_days=_approval_days(files),
        revision=revision,
        folder=folder,
        policies=tuple(infos),
        policy_set=policy_set,
        schema=schema,
        entities=entities,
        by_position=by_position,
        legislative_review=read_legislative_review(
            files.meta_file, files.meta.get("legislative_review"), catalog, holder
        ),
        reads_region=_READS_REGION.search(full_text) is not None,
    )


def _validate(text: str, schema: cedarpy.Schema, by_position: dict[str, PolicyInfo]) -> None:
    """Type-check every policy against the schema; the first error names its file and line."""
    result = cedarpy.validate_policies(text, schema)
    if result.validation_passed:
        return
    error = result.errors[0]
    info = by_position.get(error.policy_id)
    if info is None:
        raise PolicySourceError("(bundle)", None, error.error)
    message = error.error.replace(f"`{error.policy_id}`", f"'{info.id}'")
    raise PolicySourceError(info.file, info.statement.code_line, message)
