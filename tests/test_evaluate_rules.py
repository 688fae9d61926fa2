"""How one holder's bundle judges a request, stated on the pure code (``policy.evaluate``).

The engine and property tests decide whole requests; these state each rule of a
holder's judgement on its own, with small bundles built in memory and real Cedar:
which outcome each kind of determining policy gives, the exact notes and
reasons, what a question's key holds, which context attributes a bundle reads,
how a batch and a memo count, and when a schema is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import cedarpy
import pytest

from clearance.core.catalog import Catalog
from clearance.core.decision import HolderJudgement, Outcome, RequiredApproval
from clearance.core.holders import ConsentHolder, consent_holders
from clearance.core.request import EmployRequest, TransferRequest, parse_request
from clearance.core.stockpile import Balance, Position, StockpileFacts, Thresholds, assess
from clearance.errors import PolicySourceError
from clearance.policy import evaluate
from clearance.policy.bundle import BundleFiles, PolicyBundle, build_bundle
from clearance.policy.evaluate import (
    CONTEXT_FIELDS,
    Question,
    _failed,
    check_schema_accepts_requests,
    context_read,
    judge,
    question_key,
)
from clearance.policy.memo import Memo
from clearance.policy.pack import ScenarioPack, default_pack_path

SCHEMA = (default_pack_path() / "schema.cedarschema").read_text(encoding="utf-8")
DAY = dt.date(2020, 1, 1)

PERMIT = '@id("permit")\npermit (principal, action, resource);'


def gate(policy_id: str, office: str, delegable: str | None = None) -> str:
    """A well-formed gate: it forbids until its office has approved."""
    note = "" if delegable is None else f'@delegable("{delegable}")\n'
    return (
        f'@id("{policy_id}")\n@gate("{office}")\n{note}forbid (principal, action, resource)'
        f' unless {{ context.approvals.contains(Authority::"{office}") }};'
    )


GATE = gate("gate", "us.secdef")


@pytest.fixture(scope="module")
def catalog(seed_pack: ScenarioPack) -> Catalog:
    return seed_pack.catalog


def make_bundle(
    catalog: Catalog, *policies: str, holder: str = "US", schema: str = SCHEMA
) -> PolicyBundle:
    folder = f"bundles/{holder}/rules"
    files = BundleFiles(
        meta_file=f"{folder}/bundle.yaml",
        meta={"holder": holder, "effective_from": DAY, "title": "rules"},
        policy_files=((f"{folder}/policies.cedar", "\n\n".join(policies) + "\n"),),
        schema_file="schema.cedarschema",
        schema_text=schema,
    )
    return build_bundle(files, catalog, folder)


def use(region: str | None = None, quantity: int = 2, system: str = "atacms") -> EmployRequest:
    target: dict[str, Any] = {"territory": "RU"}
    if region is not None:
        target["region"] = region
    request = parse_request(
        {
            "action": "employ",
            "requester": "UA",
            "system": system,
            "quantity": quantity,
            "target": target,
            "date": "2025-06-15",
        }
    )
    assert isinstance(request, EmployRequest)
    return request


def transfer(**extra: Any) -> TransferRequest:
    request = parse_request(
        {
            "action": "transfer",
            "requester": "US",
            "recipient": "UA",
            "system": "atacms",
            "quantity": 3,
            "date": "2025-06-15",
            **extra,
        }
    )
    assert isinstance(request, TransferRequest)
    return request


def us(catalog: Catalog) -> ConsentHolder:
    (holder,) = consent_holders(catalog, "atacms")
    assert holder.party == "US"
    return holder


def one(
    catalog: Catalog,
    bundle: PolicyBundle,
    request: EmployRequest | TransferRequest,
    approvals: frozenset[str] = frozenset(),
) -> HolderJudgement:
    (judgement,) = judge([Question(us(catalog), bundle, request, approvals)])
    return judgement


# --- outcomes ----------------------------------------------------------------------------


def test_an_allowed_request_is_permitted_with_its_permits_and_their_conditions(
    catalog: Catalog,
) -> None:
    """Allow → permitted; the reasons are the permits that allowed it, and the conditions
    theirs, each once, in the bundle's order."""
    bundle = make_bundle(
        catalog,
        '@id("first")\n@condition("report use")\n@condition_b("stay in range")\n'
        "permit (principal, action, resource);",
        '@id("second")\n@condition("report use")\npermit (principal, action, resource);',
    )
    judgement = one(catalog, bundle, use())
    assert judgement == HolderJudgement(
        holder=us(catalog),
        outcome=Outcome.PERMITTED,
        bundle=bundle.revision,
        bundle_effective_from=DAY,
        reasons=("US/first", "US/second"),
        required_approvals=(),
        conditions=("report use", "stay in range"),
        notes=(),
    )


def test_a_request_nothing_permits_is_prohibited_and_says_so(catalog: Catalog) -> None:
    """Deny with no determining policy → prohibited, no reasons, and the note in words."""
    bundle = make_bundle(
        catalog, '@id("big")\npermit (principal, action, resource) when { context.quantity > 5 };'
    )
    judgement = one(catalog, bundle, use())
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.reasons == ()
    assert judgement.required_approvals == ()
    assert judgement.conditions == ()
    assert judgement.notes == ("no policy of US permits this request",)


def test_a_prohibition_prohibits_and_only_prohibitions_are_the_reasons(catalog: Catalog) -> None:
    """A forbid without a gate among the determining policies → prohibited; the gates that
    also forbade are not among the reasons, and no approval is asked for."""
    bundle = make_bundle(
        catalog, PERMIT, GATE, '@id("never")\nforbid (principal, action, resource);'
    )
    judgement = one(catalog, bundle, use())
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.reasons == ("US/never",)
    assert judgement.required_approvals == ()
    assert judgement.notes == ()


def test_a_gate_alone_requires_review_by_its_office(catalog: Catalog) -> None:
    """Deny by gates only, allowed once their offices approve → review required: the gates
    are the reasons, their offices the approvals (merged, not delegable if any says so), and
    the conditions those of the permits that allowed it then."""
    bundle = make_bundle(
        catalog,
        '@id("permit")\n@condition("report use")\npermit (principal, action, resource);',
        gate("gate-a", "us.secdef", "true"),
        gate("gate-b", "us.secdef"),
        gate("gate-c", "us.president", "true"),
    )
    judgement = one(catalog, bundle, use())
    assert judgement == HolderJudgement(
        holder=us(catalog),
        outcome=Outcome.REVIEW_REQUIRED,
        bundle=bundle.revision,
        bundle_effective_from=DAY,
        reasons=("US/gate-a", "US/gate-b", "US/gate-c"),
        required_approvals=(
            RequiredApproval("us.president", True),
            RequiredApproval("us.secdef", False),
        ),
        conditions=("report use",),
        notes=(),
    )


def test_a_gate_whose_office_has_approved_permits(catalog: Catalog) -> None:
    """The approvals already given reach Cedar: an approved gate no longer forbids."""
    bundle = make_bundle(catalog, PERMIT, GATE)
    assert one(catalog, bundle, use()).outcome is Outcome.REVIEW_REQUIRED
    approved = one(catalog, bundle, use(), frozenset({"us.secdef"}))
    assert approved.outcome is Outcome.PERMITTED
    assert approved.reasons == ("US/permit",)


def test_an_approval_already_given_is_not_asked_for_again(catalog: Catalog) -> None:
    """A gate whose office has approved but that forbids until another office approves too:
    a reason still, and only the approval not yet given is asked for (granting it permits)."""
    both = (
        '@id("both")\n@gate("ua.mod")\nforbid (principal, action, resource) unless {'
        ' context.approvals.contains(Authority::"ua.mod")'
        ' && context.approvals.contains(Authority::"us.secdef") };'
    )
    bundle = make_bundle(catalog, PERMIT, GATE, both)
    judgement = one(catalog, bundle, use(), frozenset({"ua.mod"}))
    assert judgement.outcome is Outcome.REVIEW_REQUIRED
    assert judgement.reasons == ("US/gate", "US/both")
    assert [a.authority for a in judgement.required_approvals] == ["us.secdef"]
    granted = one(catalog, bundle, use(), frozenset({"ua.mod", "us.secdef"}))
    assert granted.outcome is Outcome.PERMITTED


def test_a_gate_nothing_permits_past_is_prohibited_in_words(catalog: Catalog) -> None:
    """A gate lifted with nothing left to permit → prohibited, with the gate as reason and the
    offices, sorted, in the note."""
    bundle = make_bundle(catalog, GATE, gate("gate-2", "us.president"))
    judgement = one(catalog, bundle, use())
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.reasons == ("US/gate", "US/gate-2")
    assert judgement.required_approvals == ()
    assert judgement.notes == (
        "approval by us.president, us.secdef would not be enough: no policy permits this request",
    )


def test_a_gate_another_forbid_still_holds_is_prohibited_with_both(catalog: Catalog) -> None:
    """A forbid that decides only once the gate is lifted joins the reasons, and the note says
    another policy still forbids it."""
    bundle = make_bundle(
        catalog,
        PERMIT,
        GATE,
        '@id("not-after")\nforbid (principal, action, resource)'
        " unless { context.approvals.isEmpty() };",
    )
    judgement = one(catalog, bundle, use())
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.reasons == ("US/gate", "US/not-after")
    assert judgement.notes == (
        "approval by us.secdef would not be enough: another policy still forbids it",
    )


def test_a_gate_its_approval_does_not_lift_is_named_once_and_said_to_stay(
    catalog: Catalog,
) -> None:
    """A gate written without its ``unless`` forbids in both passes: it is a reason once, and
    the note says approval does not lift it, not that some other policy still forbids."""
    unlifted = '@id("gate")\n@gate("us.secdef")\nforbid (principal, action, resource);'
    judgement = one(catalog, make_bundle(catalog, PERMIT, unlifted), use())
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.reasons == ("US/gate",)
    assert judgement.notes == (
        "approval by us.secdef would not be enough: that approval does not lift US/gate",
    )
    both = one(
        catalog, make_bundle(catalog, PERMIT, unlifted, gate("gate-2", "us.president")), use()
    )
    assert both.reasons == ("US/gate", "US/gate-2")
    assert both.notes == (
        "approval by us.president, us.secdef would not be enough:"
        " that approval does not lift US/gate",
    )
    second = unlifted.replace('"gate"', '"gate-2"').replace("us.secdef", "us.president")
    neither = one(catalog, make_bundle(catalog, PERMIT, unlifted, second), use())
    assert neither.reasons == ("US/gate", "US/gate-2")
    assert neither.notes == (
        "approval by us.president, us.secdef would not be enough:"
        " that approval does not lift US/gate, US/gate-2",
    )


def test_an_evaluation_error_fails_closed_with_the_error_in_the_note(catalog: Catalog) -> None:
    """A policy Cedar cannot evaluate might be the forbid that mattered: prohibited."""
    bundle = make_bundle(
        catalog,
        '@id("overflow")\npermit (principal, action, resource)'
        " when { context.quantity * 9000000000000000000 > 0 };",
    )
    judgement = one(catalog, bundle, use())
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.reasons == ()
    assert judgement.notes == (
        "evaluation error, failing closed: error while evaluating policy `policy0`: integer"
        " overflow while attempting to multiply the values `2` and `9000000000000000000`",
    )


def test_an_evaluation_error_after_the_gates_are_lifted_fails_closed(catalog: Catalog) -> None:
    """The second pass fails closed too: an error once the gate's office approves."""
    bundle = make_bundle(
        catalog,
        GATE,
        '@id("overflow")\npermit (principal, action, resource) when'
        " { context.approvals.isEmpty() || context.quantity * 9000000000000000000 > 0 };",
    )
    judgement = one(catalog, bundle, use())
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.reasons == ()
    assert judgement.notes == (
        "evaluation error, failing closed: error while evaluating policy `policy1`: integer"
        " overflow while attempting to multiply the values `2` and `9000000000000000000`",
    )


def test_cedar_reaching_no_decision_fails_closed(catalog: Catalog) -> None:
    """No decision and no error still fails closed, with its own note; a clean Allow or Deny
    is no failure."""
    question = Question(us(catalog), make_bundle(catalog, PERMIT), use())
    failed = _failed(question, cedarpy.AuthzResult({"decision": "NoDecision"}))
    assert failed is not None
    assert failed.outcome is Outcome.PROHIBITED
    assert failed.notes == ("Cedar reached no decision, failing closed",)
    for decision in ("Allow", "Deny"):
        assert _failed(question, cedarpy.AuthzResult({"decision": decision})) is None
    errors = cedarpy.AuthzResult({"decision": "Allow", "diagnostics": {"errors": ["a", "b"]}})
    erred = _failed(question, errors)
    assert erred is not None
    assert erred.notes == (
        "evaluation error, failing closed: a",
        "evaluation error, failing closed: b",
    )


REGION_POLICY = (
    '@id("in-zone")\npermit (principal, action, resource) when'
    ' { context has target && context.target has zones && context.target.zones.contains("z") };'
)


def test_a_use_without_a_region_under_a_policy_of_regions_says_so(catalog: Catalog) -> None:
    """Not permitted, no region given, and the policy tests regions: the note says so."""
    bundle = make_bundle(catalog, REGION_POLICY)
    assert bundle.reads_region
    judgement = one(catalog, bundle, use())
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.notes == (
        "no policy of US permits this request",
        "the target's region was not given, and the policy of US in force tests regions",
    )
    with_region = one(catalog, bundle, use(region="RU-BEL"))
    assert with_region.notes == ("no policy of US permits this request",)


def test_the_zones_of_a_question_reach_the_policy(catalog: Catalog) -> None:
    """A policy that tests a zone sees the zones the question carries for its region."""
    bundle = make_bundle(catalog, REGION_POLICY)
    (inside,) = judge([Question(us(catalog), bundle, use(region="RU-BEL"), zones=("z",))])
    assert (inside.outcome, inside.reasons) == (Outcome.PERMITTED, ("US/in-zone",))
    assert one(catalog, bundle, use(region="RU-BEL")).outcome is Outcome.PROHIBITED


def test_the_region_note_is_only_for_uses_not_permitted_under_region_policies(
    catalog: Catalog,
) -> None:
    """A permitted use, a transfer, or a bundle that reads no region: no region note."""
    reading = make_bundle(catalog, REGION_POLICY, PERMIT)
    assert one(catalog, reading, use()).notes == ()
    assert Question(us(catalog), reading, use()).region_missing
    assert not Question(us(catalog), reading, use(region="RU-BEL")).region_missing
    assert not Question(us(catalog), reading, transfer()).region_missing
    plain = make_bundle(catalog, '@id("never")\nforbid (principal, action, resource);')
    assert not plain.reads_region
    assert not Question(us(catalog), plain, use()).region_missing
    assert one(catalog, plain, use()).notes == ()


# --- what a question is ------------------------------------------------------------------


def test_a_cedar_request_carries_the_holders_bases_and_the_approvals(catalog: Catalog) -> None:
    """The context holds the holder's bases and the approvals given plus those asked for."""
    question = Question(us(catalog), make_bundle(catalog, PERMIT), use(), frozenset({"us.secdef"}))
    context = question.cedar(frozenset({"us.president"}))["context"]
    assert isinstance(context, dict)
    assert context["basis"] == ["origin"]
    assert context["approvals"] == [
        {"__entity": {"type": "Authority", "id": "us.president"}},
        {"__entity": {"type": "Authority", "id": "us.secdef"}},
    ]


@pytest.mark.parametrize(
    ("policy", "reads"),
    [
        (PERMIT, set()),
        (
            '@id("q")\npermit (principal, action, resource) when { context.quantity > 1 };',
            {"quantity"},
        ),
        (
            '@id("q")\npermit (principal, action, resource) when { context["quantity"] > 1 };',
            {"quantity"},
        ),
        ('@id("t")\npermit (principal, action, resource) when { context has target };', {"target"}),
        (
            '@id("v")\npermit (principal, action, resource)'
            " when { context has value_usd && context.value_usd > 5 };",
            {"value_usd"},
        ),
        (
            '@id("a")\n@description("approvals")\npermit (principal, action, resource);',
            {"approvals"},
        ),
        (
            '// recipient, funding and stockpile\n@id("c")\npermit (principal, action, resource);',
            {"recipient", "funding", "stockpile"},
        ),
        (
            '@id("w")\n@description("targets, recipients, quantityx")\n'
            "permit (principal, action, resource);",
            set(),
        ),
        (
            '@id("whole")\npermit (principal, action, resource) when { context == context };',
            set(CONTEXT_FIELDS),
        ),
        ("// the context as a whole\n" + PERMIT, set(CONTEXT_FIELDS)),
    ],
)
def test_a_bundle_reads_the_context_attributes_its_text_names(
    catalog: Catalog, policy: str, reads: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Named (``context.x``, ``context["x"]``, ``context has x``, even in a comment or a
    string) is read; a longer word is not the name; ``context`` used whole reads all."""
    # Worked out afresh: what is read is remembered per revision for the process's life.
    monkeypatch.setattr(evaluate, "_reads", {})
    bundle = make_bundle(catalog, policy)
    assert context_read(bundle) == frozenset(reads)
    assert context_read(bundle) == frozenset(reads)


def test_the_context_fields_are_those_a_cedar_request_may_carry() -> None:
    assert CONTEXT_FIELDS == (
        "quantity",
        "approvals",
        "target",
        "recipient",
        "funding",
        "value_usd",
        "stockpile",
    )


READS_ALL = "// context\n" + PERMIT


def test_a_use_s_key_holds_what_the_bundle_reads_and_the_zones_sorted(catalog: Catalog) -> None:
    """A use: revision, holder, action, requester, system, approvals, quantity, whether the
    region is missing, territory, region and the zones, sorted."""
    bundle = make_bundle(catalog, READS_ALL)
    holder = us(catalog)
    question = Question(holder, bundle, use(region="RU-BEL"), frozenset({"x"}), None, ("b", "a"))
    assert question_key(question).parts == (
        bundle.revision,
        holder,
        "employ",
        "UA",
        "atacms",
        frozenset({"x"}),
        2,
        False,
        "RU",
        "RU-BEL",
        ("a", "b"),
    )
    bare = Question(holder, bundle, use(), frozenset(), None, ("a",))
    assert question_key(bare).parts == (
        bundle.revision,
        holder,
        "employ",
        "UA",
        "atacms",
        frozenset(),
        2,
        True,
        "RU",
        None,
        (),
    )


def test_a_use_s_key_leaves_out_what_the_bundle_does_not_read(catalog: Catalog) -> None:
    bundle = make_bundle(catalog, PERMIT)
    holder = us(catalog)
    question = Question(holder, bundle, use(region="RU-BEL"), frozenset({"x"}), None, ("a",))
    assert question_key(question).parts == (
        bundle.revision,
        holder,
        "employ",
        "UA",
        "atacms",
        False,
    )


def test_a_transfer_s_key_holds_what_the_bundle_reads(catalog: Catalog) -> None:
    """A transfer: recipient, funding, value and the stockpile facts as Cedar sees them."""
    bundle = make_bundle(catalog, READS_ALL)
    holder = us(catalog)
    facts = assess(Position("US", "atacms"), Balance(10), Thresholds(), 3, dt.date(2025, 6, 15))
    request = transfer(funding="GB", value_usd=7)
    question = Question(holder, bundle, request, frozenset(), facts)
    assert question_key(question).parts == (
        bundle.revision,
        holder,
        "transfer",
        "US",
        "atacms",
        frozenset(),
        3,
        "UA",
        "GB",
        7,
        tuple(facts.cedar().items()),
    )
    untracked = Question(holder, bundle, transfer(), frozenset(), None)
    assert question_key(untracked).parts == (
        bundle.revision,
        holder,
        "transfer",
        "US",
        "atacms",
        frozenset(),
        3,
        "UA",
        None,
        None,
        None,
    )
    plain = Question(holder, make_bundle(catalog, PERMIT), request, frozenset(), facts)
    assert question_key(plain).parts[5:] == ()


# --- batches and the memo ----------------------------------------------------------------


def test_a_batch_answers_in_order_and_asks_each_question_once(catalog: Catalog) -> None:
    """Answers come back in the questions' order, across bundles; a question asked again in
    the batch is a hit, a new one a miss, and a later batch is answered from the memo."""
    allow = make_bundle(
        catalog, '@id("any")\npermit (principal, action, resource) when { context.quantity > 0 };'
    )
    deny = make_bundle(catalog, GATE)
    holder = us(catalog)
    questions = [
        Question(holder, deny, use()),
        Question(holder, allow, use()),
        Question(holder, deny, use()),
        Question(holder, allow, use(quantity=5)),
    ]
    memo: Memo[HolderJudgement] = Memo()
    answers = judge(questions, memo)
    assert [a.outcome for a in answers] == [
        Outcome.PROHIBITED,
        Outcome.PERMITTED,
        Outcome.PROHIBITED,
        Outcome.PERMITTED,
    ]
    assert answers[0] is answers[2]
    assert [a.bundle for a in answers] == [
        deny.revision,
        allow.revision,
        deny.revision,
        allow.revision,
    ]
    assert (memo.hits, memo.misses, len(memo)) == (1, 3, 3)
    again = judge(questions, memo)
    assert again == answers
    assert (memo.hits, memo.misses, len(memo)) == (5, 3, 3)
    assert judge(questions) == answers


# --- the schema's check ------------------------------------------------------------------


def test_the_seed_schema_accepts_every_request_the_engine_builds(catalog: Catalog) -> None:
    bundle = make_bundle(catalog, PERMIT)
    check_schema_accepts_requests(bundle, catalog, "schema.cedarschema", SCHEMA)


def test_a_schema_without_stockpile_is_accepted(catalog: Catalog) -> None:
    """No policy can read what the schema leaves out, so a schema without ``stockpile`` is
    fine."""
    schema = "".join(line for line in SCHEMA.splitlines(keepends=True) if "stockpile" not in line)
    assert "stockpile?: Stockpile" in SCHEMA
    assert "stockpile" not in schema
    bundle = make_bundle(catalog, PERMIT, schema=schema)
    check_schema_accepts_requests(bundle, catalog, "s.cedarschema", schema)


def test_a_schema_that_refuses_stockpile_facts_is_refused_in_words(catalog: Catalog) -> None:
    schema = SCHEMA.replace("  available: Long,\n", "  available: String,\n")
    assert schema != SCHEMA
    bundle = make_bundle(catalog, PERMIT, schema=schema)
    with pytest.raises(PolicySourceError) as refused:
        check_schema_accepts_requests(bundle, catalog, "s.cedarschema", schema)
    assert refused.value.file == "s.cedarschema"
    assert refused.value.line is None
    assert refused.value.problem == (
        "schema does not accept transfer requests with stockpile facts: failed to build"
        ' request: context `{approvals: [Authority::"us.president"], basis: ["origin"],'
        ' funding: Party::"US", quantity: 1, recipient: Party::"US", .. }` is not valid for'
        ' `Action::"transfer"`'
    )


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (
            ("    target?: Target,\n", ""),
            "employ requests: failed to build request: while"
            " parsing context, record attribute `target` should not exist according to the schema",
        ),
        (
            ("    recipient?: Party,\n", ""),
            "transfer requests: failed to build request: while"
            " parsing context, record attribute `recipient` should not exist according to the"
            " schema",
        ),
    ],
)
def test_a_schema_that_refuses_a_kind_of_request_is_refused_in_words(
    catalog: Catalog, change: tuple[str, str], what: str
) -> None:
    schema = SCHEMA.replace(*change)
    assert schema != SCHEMA
    bundle = make_bundle(catalog, PERMIT, schema=schema)
    with pytest.raises(PolicySourceError) as refused:
        check_schema_accepts_requests(bundle, catalog, "s.cedarschema", schema)
    assert refused.value.file == "s.cedarschema"
    assert refused.value.problem == f"schema does not accept {what}"


def test_a_catalog_without_systems_has_nothing_to_check(catalog: Catalog) -> None:
    schema = SCHEMA.replace("    target?: Target,\n", "")
    bundle = make_bundle(catalog, PERMIT, schema=schema)
    empty = catalog.model_copy(update={"systems": ()})
    check_schema_accepts_requests(bundle, empty, "s.cedarschema", schema)


def test_stockpile_facts_reach_the_context_as_cedar_sees_them(catalog: Catalog) -> None:
    facts = StockpileFacts.from_dict(
        assess(Position("US", "atacms"), Balance(10), Thresholds(), 3, DAY).as_dict()
    )
    question = Question(us(catalog), make_bundle(catalog, PERMIT), transfer(), frozenset(), facts)
    context = question.cedar()["context"]
    assert isinstance(context, dict)
    assert context["stockpile"] == facts.cedar()


def test_a_catalog_of_one_party_and_one_system_is_checked_with_them() -> None:
    """The probes are made of the catalog's first system and party, so the smallest catalog
    is checked too (and a schema that refuses its requests is refused)."""
    smallest = Catalog.model_validate(
        {
            "parties": [{"code": "US", "name": "United States"}],
            "systems": [
                {"id": "s1", "name": "S1", "origin": "US", "category": "missile", "range_km": 1}
            ],
        }
    )
    bundle = make_bundle(smallest, PERMIT)
    check_schema_accepts_requests(bundle, smallest, "schema.cedarschema", SCHEMA)
    schema = SCHEMA.replace("    recipient?: Party,\n", "")
    refusing = make_bundle(smallest, PERMIT, schema=schema)
    with pytest.raises(PolicySourceError) as refused:
        check_schema_accepts_requests(refusing, smallest, "s.cedarschema", schema)
    assert refused.value.problem.startswith("schema does not accept transfer requests: ")


def test_a_policy_that_fails_to_evaluate_does_not_make_the_schema_refused(
    catalog: Catalog,
) -> None:
    """Only a request the schema cannot take refuses the schema: a policy that errors on the
    probe (an overflow) is the judgement's to fail closed, not the loader's."""
    bundle = make_bundle(
        catalog,
        '@id("overflow")\npermit (principal, action, resource)'
        " when { context.quantity * 9000000000000000000 * 2 > 0 };",
    )
    check_schema_accepts_requests(bundle, catalog, "schema.cedarschema", SCHEMA)


def test_a_schema_without_stockpile_that_refuses_uses_is_still_refused(catalog: Catalog) -> None:
    """Leaving ``stockpile`` out excuses only the probe that carries stockpile facts."""
    schema = "".join(
        line
        for line in SCHEMA.splitlines(keepends=True)
        if "stockpile" not in line and "target?: Target" not in line
    )
    bundle = make_bundle(catalog, PERMIT, schema=schema)
    with pytest.raises(PolicySourceError) as refused:
        check_schema_accepts_requests(bundle, catalog, "s.cedarschema", schema)
    assert refused.value.problem.startswith("schema does not accept employ requests: ")


def test_the_reasons_keep_the_bundle_s_order_past_ten_policies(catalog: Catalog) -> None:
    """Cedar names policies ``policy0`` … ``policy11``; their order is the bundle's, by
    number, not by the names' letters (``policy10`` after ``policy9``)."""
    ids = [f"p{n:02}" for n in range(12)]
    bundle = make_bundle(
        catalog, *(f'@id("{i}")\npermit (principal, action, resource);' for i in ids)
    )
    assert one(catalog, bundle, use()).reasons == tuple(f"US/{i}" for i in ids)


def test_a_question_that_fails_closed_does_not_stop_the_batch(catalog: Catalog) -> None:
    """The questions after one Cedar could not evaluate are still judged, in order."""
    failing = make_bundle(
        catalog,
        '@id("overflow")\npermit (principal, action, resource)'
        " when { context.quantity * 9000000000000000000 > 0 };",
    )
    allow = make_bundle(catalog, PERMIT)
    holder = us(catalog)
    answers = judge([Question(holder, failing, use()), Question(holder, allow, use())])
    assert [a.outcome for a in answers] == [Outcome.PROHIBITED, Outcome.PERMITTED]
    assert [a.bundle for a in answers] == [failing.revision, allow.revision]


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        (
            ("  months_to_recover?: Long,\n", ""),
            "record attribute `months_to_recover` should not exist according to the schema",
        ),
        (
            ("  months_to_recover?: Long,\n", "  months_to_recover: Long,\n"),
            "expected the record to have an attribute `months_to_recover`, but it does not",
        ),
    ],
    ids=["without months_to_recover", "months_to_recover required"],
)
def test_a_schema_must_take_stockpile_facts_with_and_without_months_to_recover(
    catalog: Catalog, change: tuple[str, str], missing: str
) -> None:
    """Facts carry ``months_to_recover`` only when production recovers the stock, so a
    schema that declares ``stockpile`` must take both shapes."""
    schema = SCHEMA.replace(*change)
    assert schema != SCHEMA
    bundle = make_bundle(catalog, PERMIT, schema=schema)
    with pytest.raises(PolicySourceError) as refused:
        check_schema_accepts_requests(bundle, catalog, "s.cedarschema", schema)
    assert refused.value.problem == (
        "schema does not accept transfer requests with stockpile facts: failed to build"
        f" request: while parsing context, {missing}"
    )


def test_a_stockpile_in_a_comment_is_not_a_declared_stockpile(catalog: Catalog) -> None:
    """Only code declares ``stockpile``: a comment saying ``stockpile:`` (with ``//`` in it
    again) does not, so the schema without the attribute is accepted."""
    schema = SCHEMA.replace(
        "    stockpile?: Stockpile,\n", "    // stockpile: see the notes // of the seed\n"
    )
    assert schema != SCHEMA
    bundle = make_bundle(catalog, PERMIT, schema=schema)
    check_schema_accepts_requests(bundle, catalog, "s.cedarschema", schema)


def test_a_stockpile_declared_at_the_start_of_a_line_is_declared(catalog: Catalog) -> None:
    schema = SCHEMA.replace("    stockpile?: Stockpile,\n", "stockpile?: Stockpile,\n").replace(
        "  available: Long,\n", "  available: String,\n"
    )
    bundle = make_bundle(catalog, PERMIT, schema=schema)
    with pytest.raises(PolicySourceError) as refused:
        check_schema_accepts_requests(bundle, catalog, "s.cedarschema", schema)
    assert refused.value.problem.startswith(
        "schema does not accept transfer requests with stockpile facts: "
    )
