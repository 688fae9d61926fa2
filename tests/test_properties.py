"""Properties of the engine on generated catalogs, requests and Cedar policy sets.

- Adding a dependency never takes a consent holder (or any of its paths) away.
- The outcome does not depend on the order of policies in the bundle text, nor on
  the order of the catalog entries the Cedar entities are made from.
- Every ``review_required`` decision is permitted once its required approvals are
  granted; ``prohibited`` and ``permitted`` decisions list no approvals, and a
  ``prohibited`` decision is not lifted by any approval (with well-formed gates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from clearance.core.catalog import Catalog
from clearance.core.decision import Decision, Outcome
from clearance.core.holders import consent_holders
from clearance.core.request import EmployRequest, TransferRequest, parse_request
from clearance.policy.bundle import BundleFiles, PolicyBundle, build_bundle
from clearance.policy.engine import Screener
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack, default_pack_path, load_pack

from .conftest import NOW

SEED = load_pack()
SEED_SCREENER = Screener(SEED)
SCHEMA_TEXT = (default_pack_path() / "schema.cedarschema").read_text(encoding="utf-8")
CATALOG = SEED.catalog
PARTIES = [p.code for p in CATALOG.parties]
SYSTEMS = [s.id for s in CATALOG.systems]
AUTHORITIES = [a.id for a in CATALOG.authorities]


def examples(count: int) -> Any:
    """Modest settings: the whole suite must stay fast on a slow two-core machine."""
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


AnyRequest = EmployRequest | TransferRequest


# --- generated catalogs ------------------------------------------------------------------

CODES = ["AA", "BB", "CC", "DD", "EE"]
SHARES = st.sampled_from(
    [Decimal(x) for x in ("0", "0.05", "0.1", "0.15", "0.25", "0.3", "0.5", "1")]
)
KINDS = ["targeting-data", "intelligence", "software", "licence"]


def _dependency(draw: st.DrawFn, component_ids: list[str]) -> dict[str, Any]:
    if component_ids and draw(st.booleans()):
        return {
            "kind": "component",
            "component": draw(st.sampled_from(component_ids)),
            "share": draw(SHARES),
        }
    return {"kind": draw(st.sampled_from(KINDS)), "supplier": draw(st.sampled_from(CODES))}


@st.composite
def catalog_data(draw: st.DrawFn) -> dict[str, Any]:
    """A catalog as data: components only depend on later components, so no cycles."""
    parties = [
        {
            "code": code,
            "name": code,
            "de_minimis": draw(st.sampled_from([Decimal(x) for x in ("0", "0.1", "0.25", "0.5")])),
        }
        for code in CODES
    ]
    count = draw(st.integers(0, 6))
    ids = [f"c{i}" for i in range(count)]
    components = []
    for i, component_id in enumerate(ids):
        later = ids[i + 1 :]
        components.append(
            {
                "id": component_id,
                "name": component_id,
                "supplier": draw(st.sampled_from(CODES)),
                "see_through": draw(st.booleans()) and draw(st.booleans()),
                "dependencies": [
                    _dependency(draw, later) for _ in range(draw(st.integers(0, 3 if later else 1)))
                ],
            }
        )
    systems = [
        {
            "id": f"s{j}",
            "name": f"s{j}",
            "origin": draw(st.sampled_from(CODES)),
            "category": "missile",
            "range_km": 100,
            "dependencies": [_dependency(draw, ids) for _ in range(draw(st.integers(0, 4)))],
        }
        for j in range(draw(st.integers(1, 3)))
    ]
    return {"parties": parties, "components": components, "systems": systems}


@st.composite
def catalog_and_extension(draw: st.DrawFn) -> tuple[Catalog, Catalog]:
    """A catalog, and the same catalog with one more dependency somewhere (still acyclic)."""
    data = draw(catalog_data())
    before = Catalog.model_validate(data)
    components = data["components"]
    owners = [("systems", j) for j in range(len(data["systems"]))] + [
        ("components", i) for i in range(len(components))
    ]
    where, index = draw(st.sampled_from(owners))
    allowed = (
        [c["id"] for c in components]
        if where == "systems"
        else [c["id"] for c in components[index + 1 :]]
    )
    extended = {
        **data,
        where: [
            {**item, "dependencies": [*item["dependencies"], _dependency(draw, allowed)]}
            if k == index
            else item
            for k, item in enumerate(data[where])
        ],
    }
    return before, Catalog.model_validate(extended)


@examples(60)
@given(catalog_and_extension())
def test_adding_a_dependency_never_removes_a_consent_holder(
    catalogs: tuple[Catalog, Catalog],
) -> None:
    before, after = catalogs
    assert before.revision != after.revision
    for system in before.systems:
        old = {h.party: set(h.paths) for h in consent_holders(before, system.id)}
        new = {h.party: set(h.paths) for h in consent_holders(after, system.id)}
        assert set(old) <= set(new)
        for party, paths in old.items():
            assert paths <= new[party], party


@examples(60)
@given(catalog_data())
def test_every_holder_has_a_path_that_reaches_it(data: dict[str, Any]) -> None:
    catalog = Catalog.model_validate(data)
    for system in catalog.systems:
        found = consent_holders(catalog, system.id)
        assert [h.party for h in found] == sorted(h.party for h in found)
        assert system.origin in {h.party for h in found}
        for holder in found:
            assert holder.paths
            assert all(p.party == holder.party for p in holder.paths)
            assert all(p.via[0] == system.id for p in holder.paths)
            assert all(p.text.endswith(f"→ {holder.party}") for p in holder.paths)


# --- generated requests over the seed catalog --------------------------------------------

# Any date from 2021 to 2027, with more of them around the 2024–2025 policy changes.
DATES = st.dates(dt.date(2021, 1, 1), dt.date(2027, 12, 31)) | st.dates(
    dt.date(2024, 11, 1), dt.date(2025, 12, 31)
)


# Weighted towards the requests the policies are about (UA employing inside RU or UA,
# US transferring to UA), while still reaching every party, system and date.
REQUESTERS = st.sampled_from(["UA", "UA", "UA", "US", *PARTIES])
TERRITORIES = st.sampled_from(["RU", "RU", "UA", *PARTIES])
RECIPIENTS = st.sampled_from(["UA", "UA", *PARTIES])
FUNDERS = st.sampled_from([None, None, "european-partners", *PARTIES])


@st.composite
def requests(draw: st.DrawFn) -> AnyRequest:
    data: dict[str, Any] = {
        "action": draw(st.sampled_from(["employ", "employ", "transfer"])),
        "requester": draw(REQUESTERS),
        "system": draw(st.sampled_from(SYSTEMS)),
        "quantity": draw(st.sampled_from([1, 2, 50, 500, 3350])),
        "date": draw(DATES).isoformat(),
    }
    if data["action"] == "employ":
        data["target"] = {"territory": draw(TERRITORIES)}
    else:
        data["recipient"] = draw(RECIPIENTS)
        funding = draw(FUNDERS)
        if funding is not None:
            data["funding"] = funding
    return parse_request(data)


@st.composite
def strikes_in_russia(draw: st.DrawFn) -> AnyRequest:
    """UA employing any seed system inside Russia around the review mechanism's dates."""
    return parse_request(
        {
            "action": "employ",
            "requester": "UA",
            "system": draw(st.sampled_from(SYSTEMS)),
            "quantity": draw(st.integers(1, 10)),
            "target": {"territory": "RU"},
            "date": draw(st.dates(dt.date(2024, 11, 1), dt.date(2026, 12, 31))).isoformat(),
        }
    )


SEED_REQUESTS = requests() | strikes_in_russia()

# Approvals already given: often none, at most a few, any office of the catalog.
APPROVALS = st.just(frozenset[str]()) | st.frozensets(st.sampled_from(AUTHORITIES), max_size=3)


def decide(
    screener: Screener, request: AnyRequest, approvals: frozenset[str] = frozenset()
) -> Decision:
    return screener.decide(request, decision_id="property", now=NOW, approvals=sorted(approvals))


def check_approvals_are_honest(
    screener: Screener,
    request: AnyRequest,
    granted: frozenset[str],
    *,
    prohibited_is_final: bool,
) -> Decision:
    """What a decision says about approvals is true, for one request and approvals already given.

    review_required: granting exactly the required approvals permits it, with the same
    conditions. permitted / prohibited: no approvals listed. prohibited, when every gate
    of the policies is well formed: no set of approvals at all would permit it.
    """
    decision = decide(screener, request, granted)
    if decision.outcome is Outcome.REVIEW_REQUIRED:
        assert decision.required_approvals
        needed = {a.authority for a in decision.required_approvals}
        assert not needed & granted, "asks for an approval already given"
        again = decide(screener, request, granted | needed)
        assert again.outcome is Outcome.PERMITTED, (decision.as_dict(), again.as_dict())
        assert again.required_approvals == ()
        assert set(decision.conditions) == set(again.conditions)
    else:
        assert decision.required_approvals == ()
    if decision.outcome is Outcome.PROHIBITED:
        assert decision.conditions == ()
        if prohibited_is_final:
            everything = decide(screener, request, frozenset(AUTHORITIES))
            assert everything.outcome is Outcome.PROHIBITED, decision.as_dict()
    return decision


@examples(100)
@given(SEED_REQUESTS, APPROVALS)
def test_seed_review_is_lifted_by_its_approvals_and_prohibition_is_not(
    request: AnyRequest, granted: frozenset[str]
) -> None:
    check_approvals_are_honest(SEED_SCREENER, request, granted, prohibited_is_final=True)


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.value for o in Outcome])
def test_the_seed_properties_see_every_outcome(outcome: Outcome) -> None:
    """Guard against a vacuous property: the requests it is given (``SEED_REQUESTS``, with
    no approval yet) reach each of the three outcomes, each checked as the property checks
    it."""
    found = find(
        SEED_REQUESTS,
        lambda request: decide(SEED_SCREENER, request).outcome is outcome,
        settings=settings(max_examples=2000, database=None, phases=[Phase.generate]),
    )
    decision = check_approvals_are_honest(
        SEED_SCREENER, found, frozenset(), prohibited_is_final=True
    )
    assert decision.outcome is outcome
    if outcome is Outcome.REVIEW_REQUIRED:
        needed = {a.authority for a in decision.required_approvals}
        assert decide(SEED_SCREENER, found, frozenset(needed)).outcome is Outcome.PERMITTED


# --- generated Cedar policy sets ------------------------------------------------------------

HOLDERS = ["FR", "GB", "UA", "US"]  # every party that holds consent over a seed system
CONDITIONS = [
    "true",
    "true",
    "true",
    'context has target && context.target.territory == Party::"{party}"',
    'context has recipient && context.recipient == Party::"{party}"',
    'context has funding && context.funding in Party::"european-partners"',
    "context.quantity > {number}",
    'context.basis.contains("{basis}")',
    'principal == Party::"{party}"',
    'resource == System::"{system}"',
]
ACTIONS = ["action", 'action == Action::"employ"', 'action == Action::"transfer"']
BASES = [
    "origin",
    "component",
    "see-through",
    "targeting-data",
    "software",
    "intelligence",
    "licence",
]


@st.composite
def condition(draw: st.DrawFn) -> str:
    parts = [
        draw(st.sampled_from(CONDITIONS)).format(
            party=draw(st.sampled_from(PARTIES)),
            number=draw(st.sampled_from([1, 10, 100, 1000])),
            basis=draw(st.sampled_from(BASES)),
            system=draw(st.sampled_from(SYSTEMS)),
        )
        for _ in range(draw(st.integers(1, 2)))
    ]
    return " && ".join(f"({p})" for p in parts)


@st.composite
def policy(draw: st.DrawFn, index: int, *, well_formed_gates: bool) -> str:
    """One policy: a permit (maybe with a condition), a gated forbid, or a prohibition."""
    kinds = ["permit", "gate", "gate", "gate", "prohibition"]
    if not well_formed_gates:
        kinds.append("gate-not-enough")
    kind = draw(st.sampled_from(kinds))
    head = f'@id("p{index}")\n'
    scope = f"(principal, {draw(st.sampled_from(ACTIONS))}, resource)"
    when = f"when {{ {draw(condition())} }}"
    if kind == "permit":
        if draw(st.booleans()):
            head += f'@condition("condition {index}")\n'
        return f"{head}permit {scope}\n{when};"
    if kind == "prohibition":
        # Narrower than the others (two conditions), so that prohibition does not swamp the rest.
        return f"{head}forbid {scope}\nwhen {{ ({draw(condition())}) && ({draw(condition())}) }};"
    gate = draw(st.sampled_from(AUTHORITIES))
    head += f'@gate("{gate}")\n'
    if draw(st.booleans()):
        head += f'@delegable("{draw(st.sampled_from(["true", "false"]))}")\n'
    lifted = f'context.approvals.contains(Authority::"{gate}")'
    if kind == "gate-not-enough":
        # Its @gate names one office, but lifting it takes another as well.
        other = draw(st.sampled_from(AUTHORITIES))
        lifted += f' && context.approvals.contains(Authority::"{other}")'
    return f"{head}forbid {scope}\n{when}\nunless {{ {lifted} }};"


BASE_PERMIT = '@id("base")\n@condition("base condition")\npermit (principal, action, resource);'


@st.composite
def policy_texts(draw: st.DrawFn, *, well_formed_gates: bool) -> list[str]:
    """Often a permit of everything to start from, then a few random policies."""
    texts = [BASE_PERMIT] if draw(st.integers(0, 3)) else []
    count = draw(st.integers(0 if texts else 1, 4))
    return texts + [draw(policy(i, well_formed_gates=well_formed_gates)) for i in range(count)]


def make_bundle(
    holder: str, effective_from: dt.date, policies: list[str], catalog: Catalog = CATALOG
) -> PolicyBundle:
    folder = f"bundles/{holder}/{effective_from.isoformat()}"
    files = BundleFiles(
        meta_file=f"{folder}/bundle.yaml",
        meta={"holder": holder, "effective_from": effective_from, "title": "generated"},
        policy_files=((f"{folder}/policies.cedar", "\n\n".join(policies) + "\n"),),
        schema_file="schema.cedarschema",
        schema_text=SCHEMA_TEXT,
    )
    return build_bundle(files, catalog, folder)


def make_screener(bundles: list[PolicyBundle], catalog: Catalog = CATALOG) -> Screener:
    pack = ScenarioPack(
        root=Path("generated"),
        name="generated",
        description="",
        catalog=catalog,
        history=BundleHistory(bundles),
        case_files=(),
    )
    return Screener(pack)


@dataclass(frozen=True)
class Generated:
    """Per holder, one or two bundles (the second in force from a date in the range)."""

    policies: dict[str, list[tuple[dt.date, list[str]]]]

    def bundles(self, catalog: Catalog = CATALOG) -> list[PolicyBundle]:
        return [
            make_bundle(holder, date, texts, catalog)
            for holder, items in self.policies.items()
            for date, texts in items
        ]


@st.composite
def generated_policy(draw: st.DrawFn, *, well_formed_gates: bool) -> Generated:
    policies: dict[str, list[tuple[dt.date, list[str]]]] = {}
    for holder in HOLDERS:
        items = [(dt.date(2020, 1, 1), draw(policy_texts(well_formed_gates=well_formed_gates)))]
        if draw(st.booleans()):
            later = draw(st.dates(dt.date(2021, 1, 2), dt.date(2027, 12, 31)))
            items.append((later, draw(policy_texts(well_formed_gates=well_formed_gates))))
        policies[holder] = items
    return Generated(policies)


@examples(50)
@given(
    generated_policy(well_formed_gates=False),
    st.lists(st.tuples(requests(), APPROVALS), min_size=1, max_size=6),
)
def test_generated_policy_review_is_lifted_by_exactly_its_approvals(
    generated: Generated, cases: list[tuple[AnyRequest, frozenset[str]]]
) -> None:
    screener = make_screener(generated.bundles())
    for request, granted in cases:
        check_approvals_are_honest(screener, request, granted, prohibited_is_final=False)


@examples(50)
@given(
    generated_policy(well_formed_gates=True),
    st.lists(st.tuples(requests(), APPROVALS), min_size=1, max_size=6),
)
def test_generated_policy_with_well_formed_gates_never_hides_a_way_out(
    generated: Generated, cases: list[tuple[AnyRequest, frozenset[str]]]
) -> None:
    screener = make_screener(generated.bundles())
    for request, granted in cases:
        check_approvals_are_honest(screener, request, granted, prohibited_is_final=True)


def test_the_generated_policy_shapes_reach_every_outcome() -> None:
    """Guard against a vacuous property: the shapes give review, prohibition and permission."""
    permit = '@id("p")\n@condition("pay")\npermit (principal, action, resource) when { true };'
    gate = (
        '@id("g")\n@gate("us.secdef")\nforbid (principal, action, resource)\n'
        'when { context.quantity > 10 }\nunless { context.approvals.contains(Authority::"us.secdef") };'
    )
    not_enough = (
        '@id("n")\n@gate("us.usdp")\nforbid (principal, action, resource)\n'
        'when { context.quantity > 100 }\nunless { context.approvals.contains(Authority::"us.usdp")'
        ' && context.approvals.contains(Authority::"fr.minarm") };'
    )
    prohibition = '@id("f")\nforbid (principal, action, resource) when { context.quantity > 1000 };'
    screener = make_screener(
        [make_bundle("US", dt.date(2020, 1, 1), [permit, gate, not_enough, prohibition])]
    )

    def outcome(quantity: int, granted: frozenset[str] = frozenset()) -> Decision:
        request = parse_request(
            {
                "action": "employ",
                "requester": "UA",
                "system": "atacms",
                "quantity": quantity,
                "target": {"territory": "RU"},
                "date": "2025-01-01",
            }
        )
        return check_approvals_are_honest(screener, request, granted, prohibited_is_final=False)

    assert outcome(5).outcome is Outcome.PERMITTED
    assert outcome(5).conditions == ("pay",)
    review = outcome(50)
    assert review.outcome is Outcome.REVIEW_REQUIRED
    assert [a.as_dict() for a in review.required_approvals] == [
        {"authority": "us.secdef", "delegable": False}
    ]
    assert review.conditions == ("pay",)
    assert outcome(500).outcome is Outcome.PROHIBITED  # us.usdp alone would not lift it
    assert outcome(500, frozenset({"us.secdef"})).outcome is Outcome.PROHIBITED
    assert outcome(5000).outcome is Outcome.PROHIBITED
    assert outcome(5000).reasons == ("US/f",)


# --- order independence ------------------------------------------------------------------------


def permuted_catalog(catalog: Catalog, draw: st.DrawFn) -> Catalog:
    """The same catalog with its parties, authorities, components and systems reordered."""
    return Catalog(
        parties=tuple(draw(st.permutations(catalog.parties))),
        authorities=tuple(draw(st.permutations(catalog.authorities))),
        components=tuple(draw(st.permutations(catalog.components))),
        systems=tuple(draw(st.permutations(catalog.systems))),
    )


def summary(decision: Decision) -> tuple[Any, ...]:
    return (
        decision.outcome,
        frozenset(decision.required_approvals),
        frozenset(decision.conditions),
        frozenset(decision.reasons),
        decision.consent_holders,
        {party: frozenset(paths) for party, paths in decision.as_dict()["holder_paths"].items()},
    )


@examples(30)
@given(
    generated_policy(well_formed_gates=False),
    st.lists(st.tuples(requests(), APPROVALS), min_size=1, max_size=6),
    st.data(),
)
def test_outcome_does_not_depend_on_the_order_of_policies_or_entities(
    generated: Generated, cases: list[tuple[AnyRequest, frozenset[str]]], data: st.DataObject
) -> None:
    shuffled_policies = Generated(
        {
            holder: [(date, data.draw(st.permutations(texts))) for date, texts in items]
            for holder, items in generated.policies.items()
        }
    )
    catalog = permuted_catalog(CATALOG, data.draw)
    first = make_screener(generated.bundles())
    second = make_screener(shuffled_policies.bundles(catalog), catalog)
    for request, granted in cases:
        assert summary(decide(first, request, granted)) == summary(decide(second, request, granted))


@examples(25)
@given(SEED_REQUESTS, APPROVALS, st.data())
def test_seed_outcome_does_not_depend_on_the_order_of_policies_or_entities(
    request: AnyRequest, granted: frozenset[str], data: st.DataObject
) -> None:
    catalog = permuted_catalog(CATALOG, data.draw)
    bundles = []
    for bundle in SEED.history:
        texts = [p.statement.text for p in bundle.policies]
        bundles.append(
            make_bundle(
                bundle.holder, bundle.effective_from, data.draw(st.permutations(texts)), catalog
            )
        )
    shuffled = make_screener(bundles, catalog)
    assert summary(decide(SEED_SCREENER, request, granted)) == summary(
        decide(shuffled, request, granted)
    )


# --- memoised decisions -----------------------------------------------------------------------

# RU-BEL lies in a zone from 30 May 2024, RU-KRS and RU-BRY in the illustrative border zone,
# RU-MOW in none; the seed's US bundles from 2024-05-30 read regions and zones.
RU_REGIONS = st.sampled_from([None, "RU-BEL", "RU-KRS", "RU-BRY", "RU-MOW"])


@st.composite
def requests_with_regions(draw: st.DrawFn) -> AnyRequest:
    """``requests``, with a region (or none) for every use inside Russia, and transfers with a
    stated value now and then."""
    request = draw(requests())
    data = request.as_dict()
    if isinstance(request, EmployRequest) and request.target.territory == "RU":
        region = draw(RU_REGIONS)
        if region is not None:
            data["target"]["region"] = region
    elif isinstance(request, TransferRequest) and draw(st.booleans()):
        data["value_usd"] = draw(st.sampled_from([1, 10_000_000, 900_000_000]))
    return parse_request(data)


def afresh(screener: Screener) -> Screener:
    """A screener of the same pack that remembers nothing."""
    return Screener(screener.pack)


def check_memoised_decisions_are_afresh(
    screener: Screener,
    cases: list[tuple[AnyRequest, frozenset[str]]],
    as_of: dt.date | None,
) -> None:
    """Every decision ``screener`` gives, cold and warm, one at a time and in a batch, is
    the one a screener that remembers nothing works out for the request alone: every field
    but the measured ``duration_us`` (which ``Decision``'s equality leaves out)."""

    def fields(decision: Decision) -> dict[str, Any]:
        record = decision.as_dict()
        del record["duration_us"]
        return record

    for _ in range(2):  # cold, then warm
        for number, (request, granted) in enumerate(cases):
            expected = afresh(screener).decide(
                request, decision_id=f"d{number}", now=NOW, as_of=as_of, approvals=granted
            )
            found = screener.decide(
                request, decision_id=f"d{number}", now=NOW, as_of=as_of, approvals=granted
            )
            assert found == expected
            assert fields(found) == fields(expected)
        batch = [request for request, _ in cases] * 2  # the same question twice in one batch
        ids = [f"b{i}" for i in range(len(batch))]
        found_many = screener.decide_many(batch, decision_ids=ids, now=NOW, as_of=as_of)
        for request, decision_id, found in zip(batch, ids, found_many, strict=True):
            expected = afresh(screener).decide(
                request, decision_id=decision_id, now=NOW, as_of=as_of
            )
            assert found == expected
            assert fields(found) == fields(expected)


@examples(40)
@given(
    st.lists(st.tuples(requests_with_regions(), APPROVALS), min_size=1, max_size=6),
    st.none() | DATES,
)
def test_memoised_seed_decisions_are_the_decisions_worked_out_afresh(
    cases: list[tuple[AnyRequest, frozenset[str]]], as_of: dt.date | None
) -> None:
    check_memoised_decisions_are_afresh(Screener(SEED), cases, as_of)


@examples(30)
@given(
    generated_policy(well_formed_gates=False),
    st.lists(st.tuples(requests_with_regions(), APPROVALS), min_size=1, max_size=6),
)
def test_memoised_decisions_under_generated_bundles_are_the_decisions_worked_out_afresh(
    generated: Generated, cases: list[tuple[AnyRequest, frozenset[str]]]
) -> None:
    check_memoised_decisions_are_afresh(make_screener(generated.bundles()), cases, None)
