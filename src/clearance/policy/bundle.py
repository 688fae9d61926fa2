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

import cedarpy

from clearance.core.catalog import Catalog
from clearance.core.decision import RequiredApproval
from clearance.core.digest import canonical_digest, sha256_hex
from clearance.core.events import BundleActivated
from clearance.core.stockpile import Thresholds
from clearance.errors import PackError, PolicySourceError
from clearance.policy.bundle_meta import (
    BundleFiles,
    approval_days,
    check_meta,
    meta_text,
    policy_authority,
    sla_days,
    thresholds,
)
from clearance.policy.entities import catalog_entities
from clearance.policy.legislative_review import LegislativeReview, read_legislative_review
from clearance.policy.review_limits import GateRule, read_review_limits
from clearance.policy.source import Statement, nesting_problem, parse_statements

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
    try:
        tree = parsed.to_pst()
    except ValueError as exc:  # Cedar's own limit: an expression nested past 100 levels
        raise PolicySourceError(
            file, statement.code_line, str(exc).removeprefix("cedarpy: ")
        ) from None
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


def build_bundle(files: BundleFiles, catalog: Catalog, folder: str) -> PolicyBundle:
    """Parse, validate and index a bundle; every error names the file and line."""
    holder, effective_from = check_meta(files, catalog)
    sources = files.meta.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise PackError(files.meta_file, "sources", "must be a list of texts")

    deep = nesting_problem(files.schema_text, brackets="([{<")
    if deep is not None:
        raise PolicySourceError(files.schema_file, *deep)
    try:
        schema = cedarpy.Schema.from_str(files.schema_text)
    except ValueError as exc:
        raise PolicySourceError(files.schema_file, None, f"schema does not parse: {exc}") from None

    infos: list[PolicyInfo] = []
    for file, text in files.policy_files:
        infos.extend(_policy_info(file, s, p, catalog) for s, p in parse_statements(text, file))
    if not infos:
        raise PackError(folder, "", "bundle has no policies (*.cedar)")
    seen: set[str] = set()
    for info in infos:
        if info.id in seen:
            raise PolicySourceError(
                info.file, info.statement.code_line, f"duplicate policy id '{info.id}'"
            )
        seen.add(info.id)

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
        except RecursionError:
            raise PolicySourceError(files.entities_file, None, "nested too deep") from None
        if not isinstance(extra, list):
            raise PolicySourceError(files.entities_file, None, "must be a JSON list of entities")
        entity_data = entity_data + extra
    try:
        entities = cedarpy.Entities.from_json_str(json.dumps(entity_data), schema)
    except ValueError as exc:
        where = files.entities_file or files.schema_file
        raise PolicySourceError(where, None, f"entities do not fit the schema: {exc}") from None

    # Every field of bundle.yaml read and checked before its text is digested: a field
    # YAML gave a key that is not text (``approval_lifetime: {1: 3}``) is refused by name,
    # not left to the canonical encoder, which cannot write such a key.
    title = meta_text(files, "title", required=True)
    summary = meta_text(files, "summary")
    review_sla_days = sla_days(files)
    review_limits = read_review_limits(files.meta_file, files.meta.get("review_limits"), catalog)
    bundle_thresholds = thresholds(files)
    authority = policy_authority(files, catalog, holder)
    lifetimes = approval_days(files)
    legislative_review = read_legislative_review(
        files.meta_file, files.meta.get("legislative_review"), catalog, holder
    )
    revision = canonical_digest(
        {
            "holder": holder,
            "effective_from": effective_from.isoformat(),
            "meta": {k: v for k, v in files.meta.items() if k not in ("holder", "effective_from")},
            "policies": [
                [name.rsplit("/", 1)[-1], sha256_hex(text.encode())]  # pragma: no mutate
                for name, text in files.policy_files
            ],
            "schema": sha256_hex(files.schema_text.encode()),
            "entities": sha256_hex((files.entities_text or "").encode()),
        }
    )
    return PolicyBundle(
        holder=holder,
        effective_from=effective_from,
        title=title,
        summary=summary,
        sources=tuple(sources),
        illustrative=bool(files.meta.get("illustrative", False)),  # pragma: no mutate
        review_sla_days=review_sla_days,
        review_limits=review_limits,
        thresholds=bundle_thresholds,
        policy_authority=authority,
        approval_days=lifetimes,
        revision=revision,
        folder=folder,
        policies=tuple(infos),
        policy_set=policy_set,
        schema=schema,
        entities=entities,
        by_position=by_position,
        legislative_review=legislative_review,
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
