"""What a bundle may say and how each mistake is refused, stated on the pure code
(``policy.bundle``, ``policy.bundle_meta``, ``policy.review_limits``,
``policy.legislative_review``).

The pack and command tests load whole folders; these build bundles from their
files' texts in memory and state each rule: every field of ``bundle.yaml`` read
back, every refusal with its file, place and exact words, what each annotation
means, what the revision covers, and which transfers a legislature must review.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import cedarpy
import pytest

from clearance.core.catalog import Catalog
from clearance.core.decision import RequiredApproval
from clearance.core.digest import canonical_digest, sha256_hex
from clearance.core.events import BundleActivated
from clearance.core.request import TransferRequest, parse_request
from clearance.core.stockpile import Thresholds
from clearance.core.working_days import DayCount
from clearance.errors import PackError, PolicySourceError
from clearance.policy.bundle import BundleFiles, Effect, PolicyBundle, _validate, build_bundle
from clearance.policy.legislative_review import LegislativeReview, Period
from clearance.policy.pack import ScenarioPack, default_pack_path
from clearance.policy.review_limits import GateRule, Rung
from clearance.policy.source import MAX_NESTING

SCHEMA = (default_pack_path() / "schema.cedarschema").read_text(encoding="utf-8")
META = "b/bundle.yaml"
PERMIT = '@id("permit")\npermit (principal, action, resource);'
GATE = (
    '@id("gate")\n@gate("us.secdef")\nforbid (principal, action, resource)'
    ' unless { context.approvals.contains(Authority::"us.secdef") };'
)


@pytest.fixture(scope="module")
def catalog(seed_pack: ScenarioPack) -> Catalog:
    return seed_pack.catalog


def files(
    *policies: str,
    meta: dict[str, Any] | None = None,
    entities: str | None = None,
    schema: str = SCHEMA,
) -> BundleFiles:
    return BundleFiles(
        meta_file=META,
        meta={"holder": "US", "effective_from": "2020-01-01", "title": "T", **(meta or {})},
        policy_files=(("b/p.cedar", "\n\n".join(policies or (PERMIT,)) + "\n"),),
        schema_file="schema.cedarschema",
        schema_text=schema,
        entities_file=None if entities is None else "b/entities.json",
        entities_text=entities,
    )


def build(catalog: Catalog, *policies: str, **kwargs: Any) -> PolicyBundle:
    return build_bundle(files(*policies, **kwargs), catalog, "b")


def refusal(catalog: Catalog, *policies: str, **kwargs: Any) -> tuple[str, str, str]:
    with pytest.raises(PackError) as refused:
        build(catalog, *policies, **kwargs)
    return refused.value.file, refused.value.where, refused.value.problem


# --- bundle.yaml read back ---------------------------------------------------------------


def test_a_bundle_reads_back_every_field_of_its_meta(catalog: Catalog) -> None:
    bundle = build(
        catalog,
        meta={
            "effective_from": dt.date(2021, 3, 4),
            "summary": "S",
            "sources": ["a", "b"],
            "illustrative": True,
            "review_sla_days": 3650,
            "policy_authority": "us.secdef",
            "approval_lifetime": {"transfer": 10, "employ": 9},
            "stockpile_thresholds": {"green_percent": 0, "yellow_percent": 0},
        },
    )
    assert bundle.holder == "US"
    assert bundle.effective_from == dt.date(2021, 3, 4)
    assert bundle.title == "T"
    assert bundle.summary == "S"
    assert bundle.sources == ("a", "b")
    assert bundle.illustrative is True
    assert bundle.review_sla_days == 3650
    assert bundle.policy_authority == "us.secdef"
    # By action, whatever the order written or the numbers' order as text ("10" < "9").
    assert bundle.approval_days == (("employ", 9), ("transfer", 10))
    assert bundle.approval_lifetime("employ") == 9
    assert bundle.approval_lifetime("transfer") == 10
    assert bundle.thresholds == Thresholds(0, 0)
    assert bundle.folder == "b"
    assert bundle.review_limits == ()
    assert bundle.legislative_review is None
    assert bundle.in_force() == BundleActivated("US", "b", bundle.revision, dt.date(2021, 3, 4))


def test_a_bundle_without_optional_fields_takes_their_defaults(catalog: Catalog) -> None:
    bundle = build(catalog)
    assert bundle.summary == ""
    assert bundle.sources == ()
    assert bundle.illustrative is False
    assert bundle.review_sla_days is None
    assert bundle.policy_authority is None
    assert bundle.approval_days == ()
    assert bundle.approval_lifetime("employ") is None
    assert bundle.thresholds is None
    assert bundle.reads_region is False


@pytest.mark.parametrize(
    ("meta", "where", "problem"),
    [
        ({"owner": "US"}, "owner", "is not a known field"),
        ({"holder": "ZZ"}, "holder", "unknown party 'ZZ'"),
        ({"holder": 7}, "holder", "unknown party '7'"),
        ({"effective_from": 20200101}, "effective_from", "must be a date written YYYY-MM-DD"),
        (
            {"effective_from": dt.datetime(2020, 1, 1, 0, 0)},
            "effective_from",
            "must be a date written YYYY-MM-DD",
        ),
        (
            {"effective_from": "2020-02-30"},
            "effective_from",
            "'2020-02-30' is not a date of the calendar",
        ),
        ({"title": " "}, "title", "must be a non-empty text"),
        ({"title": 5}, "title", "must be a non-empty text"),
        ({"summary": 5}, "summary", "must be text"),
        ({"sources": "a"}, "sources", "must be a list of texts"),
        ({"sources": ["a", 1]}, "sources", "must be a list of texts"),
        (
            {"review_sla_days": 0},
            "review_sla_days",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"review_sla_days": 3651},
            "review_sla_days",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"review_sla_days": True},
            "review_sla_days",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"review_sla_days": "5"},
            "review_sla_days",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"stockpile_thresholds": [120, 100]},
            "stockpile_thresholds",
            "must be a mapping of green_percent and yellow_percent",
        ),
        (
            {"stockpile_thresholds": {"green_percent": 1, "yellow_percent": 1, "red": 1}},
            "stockpile_thresholds.red",
            "is not a known field",
        ),
        (
            {"stockpile_thresholds": {"yellow_percent": 1}},
            "stockpile_thresholds.green_percent",
            "must be a whole percent from 0 to 10000",
        ),
        (
            {"stockpile_thresholds": {"green_percent": 10001, "yellow_percent": 1}},
            "stockpile_thresholds.green_percent",
            "must be a whole percent from 0 to 10000",
        ),
        (
            {"stockpile_thresholds": {"green_percent": 1, "yellow_percent": -1}},
            "stockpile_thresholds.yellow_percent",
            "must be a whole percent from 0 to 10000",
        ),
        (
            {"stockpile_thresholds": {"green_percent": 1, "yellow_percent": False}},
            "stockpile_thresholds.yellow_percent",
            "must be a whole percent from 0 to 10000",
        ),
        (
            {"approval_lifetime": {}},
            "approval_lifetime",
            "must be a mapping of employ and/or transfer to days",
        ),
        (
            {"approval_lifetime": [30]},
            "approval_lifetime",
            "must be a mapping of employ and/or transfer to days",
        ),
        (
            {"approval_lifetime": {"employ": 1, "sell": 3}},
            "approval_lifetime.sell",
            "is not an action (employ, transfer)",
        ),
        (
            # YAML reads a key 1 as a number: named as written, not compared with the texts.
            {"approval_lifetime": {"employ": 1, 1: 3}},
            "approval_lifetime.1",
            "is not an action (employ, transfer)",
        ),
        (
            {"approval_lifetime": {"employ": 0}},
            "approval_lifetime.employ",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"approval_lifetime": {"transfer": 3651}},
            "approval_lifetime.transfer",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"approval_lifetime": {"transfer": True}},
            "approval_lifetime.transfer",
            "must be a whole number of days from 1 to 3650",
        ),
        ({"policy_authority": "us.nobody"}, "policy_authority", "unknown authority 'us.nobody'"),
        ({"policy_authority": 3}, "policy_authority", "unknown authority '3'"),
        (
            {"policy_authority": ["us.secdef"]},
            "policy_authority",
            "unknown authority '['us.secdef']'",
        ),
        (
            {"policy_authority": "gb.sofs-defence"},
            "policy_authority",
            "'gb.sofs-defence' is an office of GB, not US",
        ),
    ],
)
def test_a_wrong_meta_field_is_refused_naming_it(
    catalog: Catalog, meta: dict[str, Any], where: str, problem: str
) -> None:
    assert refusal(catalog, meta=meta) == (META, where, problem)


def test_thresholds_out_of_order_are_refused_naming_the_field(catalog: Catalog) -> None:
    file, where, problem = refusal(
        catalog, meta={"stockpile_thresholds": {"green_percent": 99, "yellow_percent": 100}}
    )
    assert (file, where) == (META, "stockpile_thresholds")
    assert problem.startswith("thresholds out of order")


def test_the_bounds_of_each_number_are_taken(catalog: Catalog) -> None:
    low = build(
        catalog,
        meta={
            "review_sla_days": 1,
            "approval_lifetime": {"employ": 3650},
            "stockpile_thresholds": {"green_percent": 10000, "yellow_percent": 10000},
        },
    )
    assert low.review_sla_days == 1
    assert low.approval_days == (("employ", 3650),)
    assert low.thresholds == Thresholds(10000, 10000)


# --- policies and their annotations ------------------------------------------------------


def test_annotations_give_gates_conditions_and_descriptions(catalog: Catalog) -> None:
    bundle = build(
        catalog,
        '@id("p")\n@description("why")\n@condition_b("second")\n@condition("first")\n'
        "permit (principal, action, resource);",
        GATE,
        '@id("open")\n@gate("us.president")\n@delegable("true")\n'
        "forbid (principal, action, resource) when { false };",
        '@id("never")\n@source("a law")\n@illustrative("yes")\n'
        "forbid (principal, action, resource) when { false };",
    )
    p, gate, open_gate, never = bundle.policies
    assert (p.id, p.effect, p.gate, p.conditions, p.description) == (
        "p",
        Effect.PERMIT,
        None,
        ("first", "second"),
        "why",
    )
    assert (p.file, p.statement.line) == ("b/p.cedar", 1)
    assert gate.gate == RequiredApproval("us.secdef", False)
    assert gate.description == ""
    assert open_gate.gate == RequiredApproval("us.president", True)
    assert [x.is_prohibition for x in bundle.policies] == [False, False, False, True]
    assert bundle.policy("gate") is gate
    assert bundle.policy("none") is None
    assert bundle.by_position == {
        "policy0": p,
        "policy1": gate,
        "policy2": open_gate,
        "policy3": never,
    }
    assert bundle.text == "\n\n".join(x.statement.text for x in bundle.policies)


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ("permit (principal, action, resource);", 'every policy needs an @id("…") annotation'),
        (
            '@id("")\npermit (principal, action, resource);',
            'every policy needs an @id("…") annotation',
        ),
        (
            '@id("x")\n@colour("red")\npermit (principal, action, resource);',
            "policy 'x': unknown annotation @colour",
        ),
        (
            '@id("x")\n@condition("c")\nforbid (principal, action, resource);',
            "policy 'x': @condition belongs on a permit",
        ),
        (
            '@id("x")\n@gate("us.secdef")\npermit (principal, action, resource);',
            "policy 'x': @gate belongs on a forbid",
        ),
        (
            '@id("x")\n@gate("us.nobody")\nforbid (principal, action, resource);',
            "policy 'x': @gate names unknown authority 'us.nobody'",
        ),
        (
            '@id("x")\n@gate("us.secdef")\n@delegable("yes")\nforbid (principal, action, resource);',
            'policy \'x\': @delegable must be "true" or "false"',
        ),
        (
            '@id("x")\n@delegable("true")\nforbid (principal, action, resource);',
            "policy 'x': @delegable needs a @gate",
        ),
        (
            "permit (principal, action, resource == ?resource);",
            "templates (?principal, ?resource) are not supported",
        ),
    ],
)
def test_a_wrong_annotation_is_refused_naming_the_file_and_line(
    catalog: Catalog, policy: str, problem: str
) -> None:
    """The line is where the policy's code begins, after the comments before it."""
    with pytest.raises(PolicySourceError) as refused:
        build(catalog, PERMIT, "// a comment\n" + policy)
    assert (refused.value.file, refused.value.line, refused.value.problem) == (
        "b/p.cedar",
        5,
        problem,
    )


def test_a_repeated_policy_id_is_refused_at_the_second(catalog: Catalog) -> None:
    with pytest.raises(PolicySourceError) as refused:
        build(catalog, PERMIT, GATE, PERMIT)
    assert (refused.value.file, refused.value.line, refused.value.problem) == (
        "b/p.cedar",
        8,
        "duplicate policy id 'permit'",
    )


def test_a_bundle_of_no_policies_is_refused(catalog: Catalog) -> None:
    empty = BundleFiles(
        META,
        {"holder": "US", "effective_from": "2020-01-01", "title": "T"},
        (("b/p.cedar", "// nothing\n"),),
        "schema.cedarschema",
        SCHEMA,
    )
    with pytest.raises(PackError) as refused:
        build_bundle(empty, catalog, "b")
    assert (refused.value.file, refused.value.where, refused.value.problem) == (
        "b",
        "",
        "bundle has no policies (*.cedar)",
    )


def test_a_policy_the_schema_refuses_is_refused_by_its_id_file_and_line(
    catalog: Catalog,
) -> None:
    """Cedar names the policy by its position; the refusal names it by its @id, with its
    file and line."""
    with pytest.raises(PolicySourceError) as refused:
        build(
            catalog,
            PERMIT,
            '@id("bad")\npermit (principal, action == Action::"employ", resource)'
            " when { context.colour == 1 };",
        )
    assert (refused.value.file, refused.value.line, refused.value.problem) == (
        "b/p.cedar",
        4,
        "for policy 'bad', attribute `colour` in context for Action::\"employ\" not found",
    )


def test_a_validation_error_no_policy_of_the_bundle_owns_is_the_bundle_s() -> None:
    schema = cedarpy.Schema.from_str(SCHEMA)
    text = '@id("x")\npermit (principal, action == Action::"employ", resource) when { context.colour };'
    with pytest.raises(PolicySourceError) as refused:
        _validate(text, schema, {})
    assert (refused.value.file, refused.value.line, refused.value.problem) == (
        "(bundle)",
        None,
        'for policy `policy0`, attribute `colour` in context for Action::"employ" not found',
    )


def test_a_policy_that_does_not_parse_is_refused_naming_its_file_and_line(
    catalog: Catalog,
) -> None:
    with pytest.raises(PolicySourceError) as refused:
        build(catalog, PERMIT, '@id("bad")\npermits (principal, action, resource);')
    assert (refused.value.file, refused.value.line) == ("b/p.cedar", 5)
    assert refused.value.problem == "invalid policy effect: permits"


@pytest.mark.parametrize(
    ("nested", "line"),
    [
        ("\ntype A = " + "{a: " * 20_000 + "Long" + "}" * 20_000 + ";", 2),
        ("type A = " + "Set<" * 65 + "Long" + ">" * 65 + ";", 1),
    ],
    ids=["records", "sets"],
)
def test_a_schema_nested_past_the_limit_is_refused_before_cedar_reads_it(
    catalog: Catalog, nested: str, line: int
) -> None:
    """Cedar's schema parser, like its policy parser, ends the process on deep nesting, and
    a proposal may carry its own schema."""
    with pytest.raises(PolicySourceError) as refused:
        build(catalog, schema=SCHEMA + nested)
    assert (refused.value.file, refused.value.problem) == (
        "schema.cedarschema",
        f"nested more than {MAX_NESTING} brackets deep",
    )
    assert refused.value.line == SCHEMA.count("\n") + line


@pytest.mark.parametrize("links", [100, 499])
def test_an_expression_nested_past_cedar_s_own_limit_is_refused_naming_the_policy(
    catalog: Catalog, links: int
) -> None:
    """Cedar parses a chain of 100 links or more, but will not turn it into the tree the
    bundle reads (``to_pst``: "nesting exceeds the supported limit of 100 levels"): refused
    in its words, naming the policy's file and first line, not a ValueError."""
    chain = "context.quantity" + " + 1" * links + " == 1"
    with pytest.raises(PolicySourceError) as refused:
        build(
            catalog,
            PERMIT,
            f'@id("deep")\npermit (principal, action, resource) when {{ {chain} }};',
        )
    assert (refused.value.file, refused.value.line, refused.value.problem) == (
        "b/p.cedar",
        4,
        "expression nesting exceeds the supported limit of 100 levels",
    )


def test_a_schema_that_does_not_parse_is_refused(catalog: Catalog) -> None:
    with pytest.raises(PolicySourceError) as refused:
        build(catalog, schema="entity ;")
    assert (refused.value.file, refused.value.line) == ("schema.cedarschema", None)
    assert refused.value.problem.startswith("schema does not parse: ")


def test_extra_entities_are_added_and_must_fit(catalog: Catalog) -> None:
    extra = '[{"uid": {"type": "Party", "id": "XX"}, "attrs": {"name": "X", "kind": "state"}, "parents": []}]'
    bundle = build(
        catalog,
        '@id("xx")\npermit (principal, action, resource) when { principal.name == "X" };',
        entities=extra,
    )
    assert bundle.policies[0].id == "xx"
    with pytest.raises(PolicySourceError) as not_json:
        build(catalog, entities="[\n  {")
    assert (not_json.value.file, not_json.value.line, not_json.value.problem) == (
        "b/entities.json",
        2,
        "Expecting property name enclosed in double quotes",
    )
    with pytest.raises(PolicySourceError) as deep:
        build(catalog, entities="[" * 100_000 + "]" * 100_000)
    assert (deep.value.file, deep.value.line, deep.value.problem) == (
        "b/entities.json",
        None,
        "nested too deep",
    )
    with pytest.raises(PolicySourceError) as not_list:
        build(catalog, entities='{"a": 1}')
    assert (not_list.value.file, not_list.value.line, not_list.value.problem) == (
        "b/entities.json",
        None,
        "must be a JSON list of entities",
    )
    with pytest.raises(PolicySourceError) as misfit:
        build(
            catalog, entities='[{"uid": {"type": "Party", "id": "Y"}, "attrs": {}, "parents": []}]'
        )
    assert misfit.value.file == "b/entities.json"
    assert misfit.value.problem.startswith("entities do not fit the schema: ")


def test_the_revision_is_the_content_and_nothing_else(catalog: Catalog) -> None:
    """The same content gives the same revision wherever it lies; a change to the meta,
    a policy, the schema or the entities changes it; the folder does not."""
    base = build(catalog)
    assert build(catalog).revision == base.revision
    assert build_bundle(files(), catalog, "elsewhere").revision == base.revision
    moved = BundleFiles(
        META, files().meta, (("other/dir/p.cedar", PERMIT + "\n"),), "schema.cedarschema", SCHEMA
    )
    assert build_bundle(moved, catalog, "b").revision == base.revision
    bare = BundleFiles(
        META, files().meta, (("p.cedar", PERMIT + "\n"),), "schema.cedarschema", SCHEMA
    )
    assert build_bundle(bare, catalog, "b").revision == base.revision
    others = [
        build(catalog, meta={"title": "U"}),
        build(catalog, meta={"effective_from": "2020-01-02"}),
        build(catalog, GATE),
        build(catalog, schema=SCHEMA + "\n"),
        build(catalog, entities="[]"),
    ]
    assert len({base.revision, *(b.revision for b in others)}) == 6
    assert base.revision.startswith("sha256:")


def test_the_revision_is_the_digest_of_the_content_written_down(catalog: Catalog) -> None:
    """The revision names a bundle in every recorded decision, so its form is fixed: the
    canonical digest of the holder, the first day, the rest of the meta, each policy file's
    name (without its folder) and digest, and the schema's and entities' digests."""
    bundle = build_bundle(files(meta={"summary": "S"}, entities="[]"), catalog, "b")
    assert bundle.revision == canonical_digest(
        {
            "holder": "US",
            "effective_from": "2020-01-01",
            "meta": {"title": "T", "summary": "S"},
            "policies": [["p.cedar", sha256_hex((PERMIT + "\n").encode())]],
            "schema": sha256_hex(SCHEMA.encode()),
            "entities": sha256_hex(b"[]"),
        }
    )
    assert build(catalog).revision == canonical_digest(
        {
            "holder": "US",
            "effective_from": "2020-01-01",
            "meta": {"title": "T"},
            "policies": [["p.cedar", sha256_hex((PERMIT + "\n").encode())]],
            "schema": sha256_hex(SCHEMA.encode()),
            "entities": sha256_hex(b""),
        }
    )


@pytest.mark.parametrize(
    ("condition", "reads"),
    [
        ('context.target.region == "RU-BEL"', True),
        ('context.target has zones && context.target.zones.contains("z")', True),
        ("context.target has region", True),
        ("context.target has zones", True),
        ('context.target.territory == Party::"RU"', False),
    ],
)
def test_a_bundle_reads_regions_when_a_policy_tests_region_or_zones(
    catalog: Catalog, condition: str, reads: bool
) -> None:
    policy = (
        '@id("r")\npermit (principal, action, resource) when'
        f" {{ context has target && context.target has region && {condition} }};"
    )
    if not reads:
        policy = policy.replace("context.target has region && ", "")
    assert build(catalog, policy).reads_region is reads


# --- review limits -----------------------------------------------------------------------


def test_review_limits_are_read_with_their_defaults_and_ladders(catalog: Catalog) -> None:
    bundle = build(
        catalog,
        GATE,
        meta={
            "review_limits": {
                "us.secdef": {
                    "days": 20,
                    "count": "working_days",
                    "escalation": [
                        {"after": 10, "tell": "office"},
                        {"after": 20, "tell": "us.president"},
                        {"after": 30, "tell": "oversight"},
                    ],
                },
                "us.president": {"days": 3650},
                "us.usdp": {"days": 1, "count": "working_days", "calendar": "GB"},
            }
        },
    )
    assert bundle.review_limits == (
        GateRule(
            "us.secdef",
            20,
            DayCount.WORKING,
            "US",
            (Rung(10, "office"), Rung(20, "us.president"), Rung(30, "oversight")),
        ),
        GateRule("us.president", 3650, DayCount.CALENDAR, None, ()),
        GateRule("us.usdp", 1, DayCount.WORKING, "GB", ()),
    )
    assert bundle.review_limit("us.president") == bundle.review_limits[1]
    assert bundle.review_limit("fr.minarm") is None


LIMIT = "review_limits.us.secdef"


@pytest.mark.parametrize(
    ("value", "where", "problem"),
    [
        ([1], "review_limits", "must be a mapping from an office's id to its limit"),
        ({"us.nobody": {"days": 1}}, "review_limits.us.nobody", "unknown office 'us.nobody'"),
        ({"us.secdef": 20}, LIMIT, "must be a mapping of days, count, calendar, escalation"),
        ({"us.secdef": {"days": 1, "weeks": 2}}, f"{LIMIT}.weeks", "is not a known field"),
        ({"us.secdef": {}}, f"{LIMIT}.days", "must be a whole number of days from 1 to 3650"),
        (
            {"us.secdef": {"days": 0}},
            f"{LIMIT}.days",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"us.secdef": {"days": 3651}},
            f"{LIMIT}.days",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"us.secdef": {"days": True}},
            f"{LIMIT}.days",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"us.secdef": {"days": 1, "count": "weeks"}},
            f"{LIMIT}.count",
            "must be calendar_days or working_days",
        ),
        (
            {"us.secdef": {"days": 1, "calendar": 5}},
            f"{LIMIT}.calendar",
            "must be a country code such as US",
        ),
        (
            {"us.secdef": {"days": 1, "calendar": "XX"}},
            f"{LIMIT}.calendar",
            "no public holidays to count working days: 'XX' is not a country with a known"
            " public-holiday calendar",
        ),
        (
            {"us.secdef": {"days": 1, "escalation": {"after": 1}}},
            f"{LIMIT}.escalation",
            "must be a list of steps, each {after: DAYS, tell: WHOM}",
        ),
        (
            {"us.secdef": {"days": 1, "escalation": [{"after": 1}]}},
            f"{LIMIT}.escalation[1]",
            "must be {after: DAYS, tell: WHOM}",
        ),
        (
            {"us.secdef": {"days": 1, "escalation": ["office"]}},
            f"{LIMIT}.escalation[1]",
            "must be {after: DAYS, tell: WHOM}",
        ),
        (
            {"us.secdef": {"days": 1, "escalation": [{"after": 0, "tell": "office"}]}},
            f"{LIMIT}.escalation[1].after",
            "must be a whole number of days from 1 to 3650",
        ),
        (
            {"us.secdef": {"days": 1, "escalation": [{"after": 1, "tell": "nobody"}]}},
            f"{LIMIT}.escalation[1].tell",
            "must be office, oversight or an office's id, not 'nobody'",
        ),
        (
            {"us.secdef": {"days": 1, "escalation": [{"after": 1, "tell": 4}]}},
            f"{LIMIT}.escalation[1].tell",
            "must be office, oversight or an office's id, not 4",
        ),
        (
            {
                "us.secdef": {
                    "days": 1,
                    "escalation": [
                        {"after": 5, "tell": "office"},
                        {"after": 6, "tell": "oversight"},
                        {"after": 6, "tell": "us.president"},
                    ],
                }
            },
            f"{LIMIT}.escalation[3].after",
            "step 3 (after 6 days) must come after step 2 (after 6 days): a ladder climbs in order",
        ),
    ],
)
def test_a_wrong_review_limit_is_refused_naming_the_field(
    catalog: Catalog, value: Any, where: str, problem: str
) -> None:
    assert refusal(catalog, GATE, meta={"review_limits": value}) == (META, where, problem)


def test_working_days_in_an_office_s_own_calendar_it_has_none_of_are_refused_at_the_count(
    catalog: Catalog,
) -> None:
    """Working days are counted in the calendar of the office's party unless one is given;
    a group of parties has none, and the field to change is the count that asked for it."""
    group = next(p.code for p in catalog.parties if p.kind == "group")
    data = catalog.model_dump()
    data["authorities"] = [*data["authorities"], {"id": "eu.board", "party": group, "title": "B"}]
    with_board = Catalog.model_validate(data)
    limit = {"eu.board": {"days": 5, "count": "working_days"}}
    assert refusal(with_board, GATE, meta={"review_limits": limit}) == (
        META,
        "review_limits.eu.board.count",
        f"no public holidays to count working days: '{group}' is not a country with a known"
        " public-holiday calendar",
    )


def test_a_calendar_given_is_kept_for_a_count_of_calendar_days(catalog: Catalog) -> None:
    bundle = build(catalog, meta={"review_limits": {"us.secdef": {"days": 2, "calendar": "FR"}}})
    assert bundle.review_limits == (GateRule("us.secdef", 2, DayCount.CALENDAR, "FR", ()),)


# --- legislative review ------------------------------------------------------------------

REVIEW: dict[str, Any] = {
    "legislature": "United States Congress",
    "waiver": "us.president",
    "periods": [
        {
            "recipients": "aeca-favoured",
            "days": 15,
            "thresholds": {"major_defense_equipment": 25_000_000, "defense_articles": 100_000_000},
        },
        {
            "days": 30,
            "thresholds": {"major_defense_equipment": 14_000_000, "defense_articles": 50_000_000},
        },
    ],
}


def test_a_legislative_review_is_read_period_by_period(catalog: Catalog) -> None:
    bundle = build(catalog, meta={"legislative_review": REVIEW})
    assert bundle.legislative_review == LegislativeReview(
        holder="US",
        legislature="United States Congress",
        waiver="us.president",
        periods=(
            Period(
                "aeca-favoured",
                15,
                (("major_defense_equipment", 25_000_000), ("defense_articles", 100_000_000)),
            ),
            Period(
                None,
                30,
                (("major_defense_equipment", 14_000_000), ("defense_articles", 50_000_000)),
            ),
        ),
    )


LR = "legislative_review"
P1 = f"{LR}.periods[1]"


def _review(**change: Any) -> dict[str, Any]:
    return {**REVIEW, **change}


def _period(**change: Any) -> dict[str, Any]:
    return _review(periods=[{"days": 30, "thresholds": {"defense_articles": 1}, **change}])


@pytest.mark.parametrize(
    ("value", "where", "problem"),
    [
        ("Congress", LR, "must be a mapping of legislature, waiver, periods"),
        (_review(chamber="Senate"), f"{LR}.chamber", "is not a known field"),
        (_review(legislature=" "), f"{LR}.legislature", "must be a non-empty text"),
        (_review(legislature=None), f"{LR}.legislature", "must be a non-empty text"),
        (_review(waiver="us.nobody"), f"{LR}.waiver", "unknown office 'us.nobody'"),
        (_review(waiver=7), f"{LR}.waiver", "unknown office 7"),
        (_review(waiver=["us.president"]), f"{LR}.waiver", "unknown office ['us.president']"),
        (
            _review(waiver="gb.sofs-defence"),
            f"{LR}.waiver",
            "'gb.sofs-defence' is an office of GB, not US",
        ),
        (_review(periods=[]), f"{LR}.periods", "must be a non-empty list of periods"),
        (_review(periods={"days": 1}), f"{LR}.periods", "must be a non-empty list of periods"),
        (_review(periods=[30]), P1, "must be a mapping of recipients, days, thresholds"),
        (_period(weeks=1), f"{P1}.weeks", "is not a known field"),
        (
            _period(recipients="ZZ"),
            f"{P1}.recipients",
            "must be a party or group of the catalog, not 'ZZ'",
        ),
        (
            _period(recipients=5),
            f"{P1}.recipients",
            "must be a party or group of the catalog, not 5",
        ),
        (_period(days=0), f"{P1}.days", "must be a whole number of days from 1 to 3650"),
        (_period(days=3651), f"{P1}.days", "must be a whole number of days from 1 to 3650"),
        (_period(days=True), f"{P1}.days", "must be a whole number of days from 1 to 3650"),
        (
            _period(thresholds={}),
            f"{P1}.thresholds",
            "must be a mapping of major_defense_equipment and/or defense_articles",
        ),
        (
            _period(thresholds=[1]),
            f"{P1}.thresholds",
            "must be a mapping of major_defense_equipment and/or defense_articles",
        ),
        (_period(thresholds={"tanks": 1}), f"{P1}.thresholds.tanks", "is not a known field"),
        (
            _period(thresholds={"defense_articles": -1}),
            f"{P1}.thresholds.defense_articles",
            "must be a whole number of US dollars from 0 to 10000000000000",
        ),
        (
            _period(thresholds={"defense_articles": 10**13 + 1}),
            f"{P1}.thresholds.defense_articles",
            "must be a whole number of US dollars from 0 to 10000000000000",
        ),
        (
            _period(thresholds={"defense_articles": True}),
            f"{P1}.thresholds.defense_articles",
            "must be a whole number of US dollars from 0 to 10000000000000",
        ),
    ],
)
def test_a_wrong_legislative_review_is_refused_naming_the_field(
    catalog: Catalog, value: Any, where: str, problem: str
) -> None:
    assert refusal(catalog, meta={"legislative_review": value}) == (META, where, problem)


def test_the_bounds_of_a_period_are_taken(catalog: Catalog) -> None:
    value = _period(
        days=3650, thresholds={"defense_articles": 0, "major_defense_equipment": 10**13}
    )
    bundle = build(catalog, meta={"legislative_review": value})
    assert bundle.legislative_review is not None
    assert bundle.legislative_review.periods == (
        Period(None, 3650, (("defense_articles", 0), ("major_defense_equipment", 10**13))),
    )
    second = _review(periods=[{"days": 1, "thresholds": {"defense_articles": 1}}] * 2)
    refused = refusal(
        catalog, meta={"legislative_review": {**second, "periods": [*second["periods"], 3]}}
    )
    assert refused == (
        META,
        f"{LR}.periods[3]",
        "must be a mapping of recipients, days, thresholds",
    )


def _transfer(**fields: Any) -> TransferRequest:
    data: dict[str, Any] = {
        "action": "transfer",
        "requester": "US",
        "recipient": "UA",
        "system": "atacms",
        "quantity": 1,
        "date": "2025-06-15",
        **fields,
    }
    request = parse_request(data)
    assert isinstance(request, TransferRequest)
    return request


@pytest.fixture(scope="module")
def review(catalog: Catalog) -> LegislativeReview:
    found = build(catalog, meta={"legislative_review": REVIEW}).legislative_review
    assert found is not None
    return found


def test_a_transfer_at_the_threshold_waits_the_period_of_its_recipient(
    catalog: Catalog, review: LegislativeReview
) -> None:
    """The first period that takes the recipient (a party or a group it is in) applies;
    a major item takes the lower of its two thresholds; at the threshold it must wait."""
    period = review.waiting_period(_transfer(recipient="GB", value_usd=25_000_000), catalog)
    assert period is not None
    assert period.as_dict() == {
        **period.as_dict(),
        "holder": "US",
        "legislature": "United States Congress",
        "rule": "major defense equipment to aeca-favoured from $25,000,000",
        "value_usd": 25_000_000,
        "threshold_usd": 25_000_000,
        "days": 15,
        "notified_on": "2025-06-15",
        "waiver": "us.president",
    }
    assert review.waiting_period(_transfer(recipient="GB", value_usd=24_999_999), catalog) is None
    anyone = review.waiting_period(_transfer(value_usd=14_000_000), catalog)
    assert anyone is not None
    assert (anyone.rule, anyone.days) == ("major defense equipment from $14,000,000", 30)


def test_an_article_not_major_takes_the_defense_articles_threshold(
    catalog: Catalog, review: LegislativeReview
) -> None:
    assert review.waiting_period(_transfer(system="gmlrs", value_usd=49_999_999), catalog) is None
    period = review.waiting_period(_transfer(system="gmlrs", value_usd=50_000_000), catalog)
    assert period is not None
    assert (period.rule, period.threshold_usd) == ("defense articles from $50,000,000", 50_000_000)


def test_only_the_holder_s_own_transfers_with_a_value_wait(
    catalog: Catalog, review: LegislativeReview
) -> None:
    assert review.waiting_period(_transfer(), catalog) is None
    assert (
        review.waiting_period(
            _transfer(requester="GB", system="storm-shadow", value_usd=10**12), catalog
        )
        is None
    )


def test_no_period_for_the_recipient_or_no_threshold_for_the_article_means_no_wait(
    catalog: Catalog,
) -> None:
    narrow = LegislativeReview(
        "US", "C", "us.president", (Period("aeca-favoured", 5, (("defense_articles", 1),)),)
    )
    assert narrow.waiting_period(_transfer(value_usd=10), catalog) is None
    assert narrow.waiting_period(_transfer(recipient="GB", value_usd=10), catalog) is not None
    major_only = LegislativeReview(
        "US", "C", "us.president", (Period(None, 5, (("major_defense_equipment", 1),)),)
    )
    assert major_only.waiting_period(_transfer(system="gmlrs", value_usd=10), catalog) is None
    assert major_only.waiting_period(_transfer(value_usd=10), catalog) is not None
