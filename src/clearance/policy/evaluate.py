"""Judging a request by one holder's bundle: Cedar evaluation, gates, conditions.

For each holder (docs/policy-authoring.md, "How the engine decides"):

1. Evaluate with the request's facts and the approvals already given.
2. Allow → ``permitted``, carrying the conditions of the permits that allowed it.
3. Deny with a prohibition among the determining policies → ``prohibited``.
4. Deny by gates only → evaluate again with those gates' offices approving.
   Allow then → ``review_required`` by those offices; anything else →
   ``prohibited``: an approval would not help, so the decision never says so.
5. Deny with no determining policy: nothing permits it → ``prohibited``.

Evaluation errors fail closed: a policy that cannot be evaluated might have
been the forbid that mattered, so the holder's answer is ``prohibited`` with
the error in its notes.

Requests are evaluated in batches, one ``is_authorized_batch`` call per bundle
and pass, because cedarpy's per-call overhead is larger than Cedar's own work.
A judgement is a pure function of its question (``question_key``), so the same
question is judged once per batch, and, given a ``Memo``, once while the memo
remembers it: both passes are kept together, as the judgement.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import cedarpy

from clearance.core.catalog import Catalog
from clearance.core.decision import HolderJudgement, Outcome, merge_approvals
from clearance.core.holders import ConsentHolder
from clearance.core.request import EmployRequest, TransferRequest
from clearance.core.stockpile import Balance, Position, StockpileFacts, Thresholds, assess
from clearance.errors import PolicySourceError
from clearance.policy.bundle import Effect, PolicyBundle, PolicyInfo
from clearance.policy.entities import cedar_request
from clearance.policy.memo import Key, Memo

__all__ = [
    "CONTEXT_FIELDS",
    "JudgementMemo",
    "Question",
    "check_schema_accepts_requests",
    "context_read",
    "judge",
    "question_key",
]


@dataclass(frozen=True, slots=True)
class Question:
    """One holder asked about one request under one bundle, with approvals already given."""

    holder: ConsentHolder
    bundle: PolicyBundle
    request: EmployRequest | TransferRequest
    approvals: frozenset[str] = frozenset()
    stockpile: StockpileFacts | None = None
    zones: tuple[str, ...] = ()
    """The zones holding the target's region on the date judged (``entities.target_zones``)."""

    def cedar(self, extra: frozenset[str] = frozenset()) -> dict[str, object]:
        bases = (b.value for b in self.holder.bases)
        return cedar_request(
            self.request, bases, self.approvals | extra, self.stockpile, self.zones
        )

    @property
    def region_missing(self) -> bool:
        """A use whose target names no region, judged by a bundle whose policy reads one."""
        return (
            isinstance(self.request, EmployRequest)
            and self.request.target.region is None
            and self.bundle.reads_region
        )


JudgementMemo = Memo[HolderJudgement]
"""Holders' judgements by ``question_key``."""


CONTEXT_FIELDS = (
    "quantity",
    "approvals",
    "target",
    "recipient",
    "funding",
    "value_usd",
    "stockpile",
)
"""The attributes ``cedar_request`` may put in a Cedar context (``basis`` aside: it is the
holder's, and the holder is in every key)."""

_WHOLE_CONTEXT = re.compile(r"\bcontext\b(?!\s*(?:\.|\[|has\b))")
_reads: dict[str, frozenset[str]] = {}


def context_read(bundle: PolicyBundle) -> frozenset[str]:
    """The context attributes ``bundle``'s policies can read, by the bundle's revision.

    A Cedar policy reads a record's attribute only by naming it (``context.quantity``,
    ``context["quantity"]``, ``context has quantity``), so an attribute whose name is
    nowhere in the policies' text cannot change their answer; a policy that uses
    ``context`` whole (compares it, say) is taken to read everything. Any mention
    counts, even in a comment or a string: the test errs towards reading.
    """
    found = _reads.get(bundle.revision)  # pragma: no mutate
    if found is None:
        text = bundle.text
        if _WHOLE_CONTEXT.search(text):
            found = frozenset(CONTEXT_FIELDS)
        else:
            found = frozenset(f for f in CONTEXT_FIELDS if re.search(rf"\b{f}\b", text))
        _reads[bundle.revision] = found  # pragma: no mutate
    return found


def question_key(question: Question) -> Key:
    """Everything a judgement depends on, and nothing it does not, as one hashable value.

    The bundle by its revision (a digest of its content: policies, schema,
    entities, meta, effective date); the holder whole (its party names the
    reasons, its bases go to Cedar, its paths ride along in the judgement);
    the action, requester and system (Cedar's principal, action and resource);
    whether a use names no region (``region_missing``); and of the rest of
    what ``cedar_request`` puts in the context, what the bundle's policies can
    read (``context_read``): the approvals, the quantity, for a use the
    target's territory, region and zones, for a transfer the recipient,
    funding, value and the stockpile facts as Cedar sees them. The date is
    left out: it chooses the bundle and the zones, which are in the key. The
    bundle's entities are made from the catalog too, so one memo serves one
    catalog (``engine.Screener`` keeps one per screener).
    """
    request, reads = question.request, context_read(question.bundle)
    parts: list[object] = [
        question.bundle.revision,
        question.holder,
        request.action,
        request.requester,
        request.system,
    ]
    if "approvals" in reads:
        parts.append(question.approvals)
    if "quantity" in reads:
        parts.append(request.quantity)
    if isinstance(request, EmployRequest):
        target = request.target
        parts.append(target.region is None)
        if "target" in reads:
            zones = tuple(sorted(question.zones)) if target.region is not None else ()
            parts += (target.territory, target.region, zones)
        return Key(*parts)
    for field, value in (
        ("recipient", request.recipient),
        ("funding", request.funding),
        ("value_usd", request.value_usd),
    ):
        if field in reads:
            parts.append(value)
    if "stockpile" in reads:
        stock = question.stockpile
        parts.append(None if stock is None else tuple(stock.cedar().items()))
    return Key(*parts)


def _evaluate(pairs: Sequence[tuple[PolicyBundle, dict[str, object]]]) -> list[cedarpy.AuthzResult]:
    """Evaluate (bundle, cedar request) pairs, one Cedar batch per bundle, results in order."""
    groups: dict[int, list[int]] = defaultdict(list)
    for index, (bundle, _) in enumerate(pairs):
        groups[id(bundle)].append(index)
    results: list[cedarpy.AuthzResult | None] = [None] * len(pairs)
    for indices in groups.values():
        bundle = pairs[indices[0]][0]
        answers = cedarpy.is_authorized_batch(
            [pairs[i][1] for i in indices], bundle.policy_set, bundle.entities
        )
        for i, answer in zip(indices, answers, strict=True):  # pragma: no mutate
            results[i] = answer
    return [r for r in results if r is not None]


def _determining(bundle: PolicyBundle, result: cedarpy.AuthzResult) -> list[PolicyInfo]:
    """The determining policies in the bundle's order: Cedar gives them as a set, in an order
    that changes from one evaluation to the next, and a judgement must not."""
    return [bundle.by_position[r] for r in sorted(result.diagnostics.reasons, key=_position)]


def _position(policy_id: str) -> int:
    """``policy7`` → 7: where the bundle put the policy (``PolicyBundle.by_position``)."""
    return int(policy_id.removeprefix("policy"))


def _ids(holder: str, policies: Sequence[PolicyInfo]) -> tuple[str, ...]:
    return tuple(f"{holder}/{p.id}" for p in policies)


def _failed(question: Question, result: cedarpy.AuthzResult) -> HolderJudgement | None:
    """A fail-closed judgement when Cedar could not evaluate cleanly, else None."""
    errors = result.diagnostics.errors
    if result.decision is not cedarpy.Decision.NoDecision and not errors:
        return None
    notes = tuple(f"evaluation error, failing closed: {e}" for e in errors) or (
        "Cedar reached no decision, failing closed",
    )
    return _judgement(question, Outcome.PROHIBITED, notes=notes)


def _judgement(
    question: Question,
    outcome: Outcome,
    policies: Sequence[PolicyInfo] = (),
    *,
    approvals: Sequence[PolicyInfo] = (),
    permits: Sequence[PolicyInfo] = (),
    notes: tuple[str, ...] = (),
) -> HolderJudgement:
    holder = question.holder.party
    if outcome is not Outcome.PERMITTED and question.region_missing:
        notes = (
            *notes,
            f"the target's region was not given, and the policy of {holder} in force tests regions",
        )
    return HolderJudgement(
        holder=question.holder,
        outcome=outcome,
        bundle=question.bundle.revision,
        bundle_effective_from=question.bundle.effective_from,
        reasons=_ids(holder, policies),
        required_approvals=merge_approvals(p.gate for p in approvals if p.gate is not None),
        conditions=tuple(dict.fromkeys(c for p in permits for c in p.conditions)),
        notes=notes,
    )


def judge(
    questions: Sequence[Question], memo: JudgementMemo | None = None
) -> list[HolderJudgement]:
    """Answer every question; the answers come back in the questions' order.

    Each distinct question (``question_key``) is put to Cedar once, unless
    ``memo`` already holds its answer; new answers are kept in ``memo``. A
    question asked again within the batch counts as a hit.
    """
    keys = [question_key(q) for q in questions]
    known: dict[Key, HolderJudgement] = {}
    asked: dict[Key, Question] = {}
    for key, question in zip(keys, questions, strict=True):  # pragma: no mutate
        if key in known or key in asked:
            if memo is not None:
                memo.reused()
            continue
        found = None if memo is None else memo.get(key)
        if found is None:
            asked[key] = question
        else:
            known[key] = found
    answers = _judge_afresh(list(asked.values()))
    for key, judgement in zip(asked, answers, strict=True):  # pragma: no mutate
        known[key] = judgement
        if memo is not None:
            memo.put(key, judgement)
    return [known[key] for key in keys]


def _judge_afresh(questions: Sequence[Question]) -> list[HolderJudgement]:
    """Put every question to Cedar, gated ones twice (the module's steps 1–5)."""
    first = _evaluate([(q.bundle, q.cedar()) for q in questions])
    answers: list[HolderJudgement | None] = [None] * len(questions)
    gated: list[tuple[int, list[PolicyInfo]]] = []
    pairs = zip(questions, first, strict=True)  # pragma: no mutate
    for index, (question, result) in enumerate(pairs):
        failed = _failed(question, result)
        if failed is not None:
            answers[index] = failed
            continue
        policies = _determining(question.bundle, result)
        if result.decision is cedarpy.Decision.Allow:
            answers[index] = _judgement(question, Outcome.PERMITTED, policies, permits=policies)
        elif not policies:
            note = f"no policy of {question.holder.party} permits this request"
            answers[index] = _judgement(question, Outcome.PROHIBITED, notes=(note,))
        elif any(p.is_prohibition for p in policies):
            prohibitions = [p for p in policies if p.is_prohibition]
            answers[index] = _judgement(question, Outcome.PROHIBITED, prohibitions)
        else:
            gated.append((index, policies))

    second = _evaluate(
        [
            (
                questions[i].bundle,
                questions[i].cedar(frozenset(g.gate.authority for g in gates if g.gate)),
            )
            for i, gates in gated
        ]
    )
    for (index, gates), result in zip(gated, second, strict=True):  # pragma: no mutate
        question = questions[index]
        failed = _failed(question, result)
        if failed is not None:
            answers[index] = failed
        elif result.decision is cedarpy.Decision.Allow:
            permits = _determining(question.bundle, result)
            # A gate approved but still forbidding (it needs another office too) is a reason only.
            asked = [g for g in gates if g.gate and g.gate.authority not in question.approvals]
            answers[index] = _judgement(
                question, Outcome.REVIEW_REQUIRED, gates, approvals=asked, permits=permits
            )
        else:
            still = [p for p in _determining(question.bundle, result) if p.effect is Effect.FORBID]
            after = [p for p in still if p not in gates]
            unlifted = ", ".join(_ids(question.holder.party, [p for p in still if p in gates]))
            authorities = ", ".join(sorted({g.gate.authority for g in gates if g.gate}))
            if after:
                why = "another policy still forbids it"
            elif unlifted:  # a gate whose unless clause does not name its office
                why = f"that approval does not lift {unlifted}"
            else:
                why = "no policy permits this request"
            note = f"approval by {authorities} would not be enough: {why}"
            answers[index] = _judgement(
                question, Outcome.PROHIBITED, [*gates, *after], notes=(note,)
            )
    return [a for a in answers if a is not None]


_DECLARES_STOCKPILE = re.compile(r"\bstockpile\s*\??\s*:")
"""An attribute ``stockpile`` declared (``stockpile?: Stockpile``), not a word in a comment."""


def _code(schema_text: str) -> str:
    """A schema's text without its ``//`` comments (Cedar schemas have no other kind)."""
    return "\n".join(
        line.split("//", 1)[0]  # pragma: no mutate
        for line in schema_text.splitlines()
    )


def check_schema_accepts_requests(
    bundle: PolicyBundle, catalog: Catalog, schema_file: str, bundle_schema_text: str
) -> None:
    """Refuse a schema that cannot take the requests the engine builds.

    The engine evaluates without re-validating each request against the schema
    (that would cost more than the evaluation), so the shapes are checked here,
    once per bundle, with one request of each kind, and transfers carrying
    stockpile facts (with and without ``months_to_recover``) when the schema
    declares ``stockpile``. (A schema without
    it is fine: policies are validated against the schema, so none can read it.)
    """
    if not catalog.systems:
        return
    system, party = catalog.systems[0].id, catalog.parties[0].code
    probes: list[EmployRequest | TransferRequest] = [
        EmployRequest.model_validate(
            {
                "action": "employ",
                "requester": party,
                "system": system,
                "quantity": 1,  # pragma: no mutate
                "target": {"territory": party},
                "date": "2000-01-01",
            }
        ),
        TransferRequest.model_validate(
            {
                "action": "transfer",
                "requester": party,
                "recipient": party,
                "funding": party,
                "system": system,
                "quantity": 1,
                "date": "2000-01-01",
            }
        ),
    ]
    approvals = [a.id for a in catalog.authorities[:1]]
    # Stockpile facts of both shapes: 1 given of 2 against a requirement of 1 leaves the
    # stock yellow with no production to recover it (no months_to_recover); 1 of 3 leaves
    # it green (months_to_recover 0).
    position = Position(party, system, 1)  # pragma: no mutate
    stocks = [
        assess(position, Balance(n), Thresholds(), 1, probes[1].date)
        for n in (2, 3)  # pragma: no mutate
    ]
    checks = [(probes[0], None), (probes[1], None), *((probes[1], s) for s in stocks)]
    for probe, facts in checks:
        request = cedar_request(probe, ["origin"], approvals, facts)
        result = cedarpy.is_authorized(request, bundle.policy_set, bundle.entities, bundle.schema)
        if result.decision is cedarpy.Decision.NoDecision and result.diagnostics.errors:
            problem = result.diagnostics.errors[0]
            if facts is not None and not _DECLARES_STOCKPILE.search(_code(bundle_schema_text)):
                # the schema leaves stockpile out, so no policy can read it
                continue  # pragma: no mutate
            what = "transfer requests with stockpile facts" if facts else f"{probe.action} requests"
            raise PolicySourceError(schema_file, None, f"schema does not accept {what}: {problem}")
