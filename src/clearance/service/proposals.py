"""The policy lifecycle: a bundle is proposed, tested, and activated from a date, signed.

- **Propose**: the files of a new bundle for a holder (from a folder or an
  upload) are validated exactly as a pack's bundle is (schema, annotations,
  catalog names), then the pack's golden cases are run with the candidate in
  the holder's history from its date; the failures are kept as expected vs
  got. Files, revision and results are stored and the proposal is on the ledger.
- **Activate**: only a proposal whose golden cases all pass, effective no
  earlier than the day of activation (policy never changes the past), and
  only by the holder of the office that the holder's bundle in force names as
  its ``policy_authority`` (personally: not delegable). The activator signs a
  statement over the proposal's revision and the ledger head, as an approver
  signs a decision; the ledger records who activated what, when, from which
  date.
- **In force**: activated proposals join the pack's bundle history
  (``service.policy_in_force``). Each is rebuilt from its stored files and its
  revision checked against the signed one, so a stored bundle changed after
  activation is refused rather than used: a correction is a new proposal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any

from clearance.core.digest import canonical_json, sha256_hex
from clearance.core.events import BundleProposed, GoldenTally
from clearance.core.signing import Signer, sign_statement
from clearance.errors import (
    ConflictError,
    IllegalTransition,
    LedgerBroken,
    NotFoundError,
    PackError,
    PermissionDenied,
)
from clearance.policy.bundle import PolicyBundle
from clearance.policy.engine import Screener
from clearance.policy.golden import CaseResult, run_cases
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack, bundle_from_texts
from clearance.service.access import Action, may, principal, today
from clearance.service.bundles_taken_effect import record_taken_effect
from clearance.service.people import can_act_for
from clearance.service.policy_in_force import policy_in_force, stored_bundle
from clearance.service.proposal_impact import Impact, impact_of
from clearance.store.proposals import ProposalRecord
from clearance.store.protocol import Transaction
from clearance.store.repository import Store

__all__ = ["PolicyProposals", "ProposalView", "proposal_summary"]

_log = logging.getLogger("clearance.proposals")

PROPOSED = "proposed"
_PERSONALLY = "must activate policy personally: a delegate may not"


def _refuse_date_taken(pack: ScenarioPack, holder: str, on: dt.date) -> None:
    for existing in pack.history.of(holder):
        if existing.effective_from == on:
            raise ConflictError(
                f"{holder} already has a bundle in force from {on} ({existing.folder});"
                " a correction is a new bundle with a later date"
            )


def proposal_summary(record: ProposalRecord) -> dict[str, Any]:
    """One proposal in a list: what ``policy proposals --json`` and the API's list show."""
    return {
        "number": record.number,
        "state": record.state,
        "holder": record.holder,
        "effective_from": record.effective_from.isoformat(),
        "title": record.title,
        "tests_passed": record.tests_passed,
        "proposed_by": record.proposed_by,
        "activated_by": record.activated_by,
    }


def _report(results: list[CaseResult]) -> dict[str, Any]:
    return {
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "failures": [
            {
                "id": r.case.id,
                "file": r.file,
                "title": r.case.title,
                "mismatches": [
                    {"field": m.field, "expected": m.expected, "got": m.got} for m in r.mismatches
                ],
            }
            for r in results
            if not r.passed
        ],
    }


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal with its bundle, its test report, and who may activate it."""

    record: ProposalRecord
    bundle: PolicyBundle
    tests: dict[str, Any]
    authority: str | None

    def as_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "number": r.number,
            "id": r.id,
            "state": r.state,
            "holder": r.holder,
            "effective_from": r.effective_from.isoformat(),
            "title": r.title,
            "revision": r.revision,
            "proposed_by": r.proposed_by,
            "proposed_at": r.proposed_at.isoformat(),
            "tests": self.tests,
            "tests_passed": r.tests_passed,
            "policy_authority": self.authority,
            "activated_by": r.activated_by,
            "activated_as": r.authority,
            "activated_at": r.activated_at.isoformat() if r.activated_at else None,
            "statement": r.statement,
            "signature": r.signature,
            "policies": [
                {"id": p.id, "effect": p.effect.value, "file": p.file, "text": p.statement.text}
                for p in self.bundle.policies
            ],
            "files": json.loads(r.files),
        }


class PolicyProposals:
    """Proposals over one store and the scenario pack on disk."""

    def __init__(self, store: Store, pack: ScenarioPack) -> None:
        self.store = store
        self.pack = pack

    def in_force(self) -> ScenarioPack:
        return policy_in_force(self.store, self.pack)

    def _authority(self, pack: ScenarioPack, holder: str, on: dt.date) -> str | None:
        bundle = pack.history.bundle_in_force(holder, on)
        return None if bundle is None else bundle.policy_authority

    def test(self, bundle: PolicyBundle, pack: ScenarioPack, now: dt.datetime) -> dict[str, Any]:
        """The pack's golden cases with ``bundle`` added to its holder's history."""
        history = BundleHistory([*pack.history, bundle])
        screener = Screener(dataclasses.replace(pack, history=history))
        return _report(run_cases(screener, now=now))

    def propose(self, files: dict[str, str], *, actor: str, now: dt.datetime) -> ProposalView:
        """Validate, test and store a proposed bundle; a bundle that does not load is refused."""
        pack = self.in_force()
        bundle = bundle_from_texts(files, pack, "proposal")
        if bundle.policy_authority is None:
            raise PackError(
                "proposal/bundle.yaml",
                "policy_authority",
                "is required of a proposal: once in force it names who may activate the"
                f" next bundle of {bundle.holder}, and without it nobody could",
            )
        _refuse_date_taken(pack, bundle.holder, bundle.effective_from)
        tests = self.test(bundle, pack, now)
        with self.store.transaction() as tx:
            tx.serialise()
            user = tx.people.user(actor)
            if user is None:
                raise NotFoundError(f"unknown user '{actor}'")
            if user.party != bundle.holder:
                raise PermissionDenied(
                    f"{actor} acts for {user.party} and cannot propose policy of {bundle.holder}"
                )
            record = ProposalRecord(
                id=str(uuid.uuid4()),
                number=tx.proposals.next_number(),
                holder=bundle.holder,
                effective_from=bundle.effective_from,
                title=bundle.title,
                revision=bundle.revision,
                files=canonical_json(files).decode(),
                tests=canonical_json(tests).decode(),
                tests_passed=tests["failed"] == 0,
                state=PROPOSED,
                proposed_by=actor,
                proposed_at=now,
            )
            tx.proposals.add(record)
            tx.append(
                BundleProposed(
                    record.id,
                    record.number,
                    record.holder,
                    record.effective_from,
                    record.revision,
                    record.title,
                    GoldenTally(tests["passed"], tests["failed"]),
                    files_digest=sha256_hex(record.files.encode()),
                    tests_digest=sha256_hex(record.tests.encode()),
                ),
                actor=actor,
                at=now,
            )
        return ProposalView(
            record,
            stored_bundle(record, pack),
            tests,
            self._authority(pack, bundle.holder, now.date()),
        )

    def _get(self, tx: Transaction, number: int, *, lock: bool = False) -> ProposalRecord:
        record = tx.proposals.get(number, lock=lock)
        if record is None:
            raise NotFoundError(f"no proposal {number}")
        return record

    def _seen(
        self, tx: Transaction, number: int, actor: str, *, lock: bool = False
    ) -> ProposalRecord:
        """A proposal ``actor`` may see, or not found in the words of one that does not exist."""
        record = self._get(tx, number, lock=lock)
        if not may(principal(tx, actor, today()), Action.PROPOSAL_VIEW, record.holder):
            raise NotFoundError(f"no proposal {number}")
        return record

    def view(self, number: int, *, actor: str, now: dt.datetime) -> ProposalView:
        """A proposal as ``actor`` (a user, or ``ADMIN``) may see it: not found if not."""
        with self.store.reading() as tx:
            record = self._seen(tx, number, actor)
        pack = self.in_force()
        return ProposalView(
            record,
            stored_bundle(record, pack),
            json.loads(record.tests),
            self._authority(pack, record.holder, now.date()),
        )

    def impact(
        self, number: int, *, actor: str, now: dt.datetime, view: ProposalView | None = None
    ) -> Impact:
        """What the proposal would change, of what ``actor`` may see (``service.proposal_impact``);
        ``view``, when the caller has it (read as ``actor``), saves reading it again."""
        pack = self.in_force()
        if view is None:
            with self.store.reading() as tx:
                record = self._seen(tx, number, actor)
            bundle, effective = stored_bundle(record, pack), record.effective_from
        else:
            bundle, effective = view.bundle, view.record.effective_from
        return impact_of(self.store, pack, bundle, effective, actor=actor, now=now)

    def may_activate(self, view: ProposalView, user_id: str, day: dt.date) -> bool:
        """Whether ``user_id`` could activate the proposal on ``day``: it is still proposed,
        passes its golden cases, and they hold its named office personally. ``activate``
        checks all of it again, with the signature."""
        record = view.record
        if record.state != PROPOSED or not record.tests_passed or view.authority is None:
            return False
        with self.store.reading() as tx:
            try:
                can_act_for(tx, user_id, view.authority, day, delegable=False)
            except PermissionDenied:
                return False
        return True

    def activated_marker(self) -> tuple[int, int]:
        """Changes whenever a proposal is activated: for processes that cache the policy."""
        with self.store.reading() as tx:
            return tx.proposals.activated_marker()

    def visible(self, *, actor: str) -> list[ProposalRecord]:
        """The proposals ``actor`` may see, oldest first."""
        with self.store.reading() as tx:
            reader = principal(tx, actor, today())
            return [r for r in tx.proposals.all() if may(reader, Action.PROPOSAL_VIEW, r.holder)]

    def activate(
        self, number: int, *, actor: str, signer: Signer, now: dt.datetime
    ) -> ProposalView:
        """Activate a proposal from its date, signed by the holder of the named office.

        A proposal ``actor`` may not see is not found before anything else; ``signer``
        is called only once everything else holds."""
        pack = self.in_force()
        with self.store.transaction() as tx:
            tx.serialise()
            record = self._seen(tx, number, actor, lock=True)
            if record.state != PROPOSED:
                raise IllegalTransition(
                    f"proposal {number} is {record.state}: an activated bundle cannot change;"
                    " a correction is a new proposal"
                )
            bundle = stored_bundle(record, pack)
            if not record.tests_passed:
                failed = [f["id"] for f in json.loads(record.tests)["failures"]]
                raise IllegalTransition(
                    f"proposal {number} fails golden case(s) {', '.join(failed)}; it cannot be"
                    " activated"
                )
            if record.effective_from < now.date():
                raise IllegalTransition(
                    f"proposal {number} would take effect on {record.effective_from}, before"
                    f" today ({now.date()}): policy never changes the past; propose a new date"
                )
            _refuse_date_taken(pack, record.holder, record.effective_from)
            authority = self._authority(pack, record.holder, now.date())
            if authority is None:
                raise PermissionDenied(
                    f"no bundle of {record.holder} in force today names a policy_authority:"
                    " nobody may activate its policy"
                )
            user = tx.people.user(actor)
            if user is None:
                raise NotFoundError(f"unknown user '{actor}'")
            can_act_for(tx, actor, authority, now.date(), delegable=False, personally=_PERSONALLY)
            # what took effect before this activation goes on the ledger before it
            record_taken_effect(tx, pack, now=now)
            prior_seq, prior_hash = tx.ledger.head()
            statement = {
                "proposal": record.id,
                "number": record.number,
                "holder": record.holder,
                "revision": record.revision,
                "effective_from": record.effective_from.isoformat(),
                "authority": authority,
                "actor": actor,
                "at": now.isoformat(),
                "prior_seq": prior_seq,
                "prior_hash": prior_hash,
            }
            message, signature = sign_statement(
                statement, signer, public_key=user.public_key, actor=actor
            )
            activated = tx.proposals.activate(
                number,
                actor=actor,
                authority=authority,
                at=now,
                statement=message.decode(),
                signature=signature,
            )
            tx.append(
                replace(
                    bundle.in_force(),
                    proposal=record.id,
                    authority=authority,
                    statement=statement,
                    signature=signature,
                    public_key=user.public_key,
                ),
                actor=actor,
                at=now,
            )
            try:
                tx.ledger.checkpoint(now, "activation")
            except (
                LedgerBroken
            ) as exc:  # the activation stands; every verification names the damage
                _log.error("no checkpoint at activation: %s", exc.message)
        return ProposalView(activated, bundle, json.loads(record.tests), authority)
