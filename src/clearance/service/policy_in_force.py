"""The policy in force: the scenario pack with every activated proposal in its holder's history.

An activated proposal is rebuilt from its stored files and its revision checked
against the one it was activated with, so a stored bundle changed after
activation is refused rather than used.

Kept apart from the proposal lifecycle (``service.proposals``), which imports
replay to show a proposal's impact, so that replay and screening from the
command line, which only judge by the policy in force, read it without
importing the lifecycle.
"""

from __future__ import annotations

import dataclasses
import json

from clearance.errors import StoreError
from clearance.policy.bundle import PolicyBundle
from clearance.policy.history import BundleHistory
from clearance.policy.pack import ScenarioPack, bundle_from_texts
from clearance.store.proposals import ProposalRecord
from clearance.store.repository import Store

__all__ = ["ACTIVATED", "folder_of", "policy_in_force", "stored_bundle"]

ACTIVATED = "activated"


def folder_of(number: int) -> str:
    """How a proposal's bundle is named in errors, decisions and the ledger."""
    return f"proposals/{number}"


def stored_bundle(record: ProposalRecord, pack: ScenarioPack) -> PolicyBundle:
    """A stored proposal's bundle, rebuilt from its files; refused if they are no longer the
    revision it was proposed or activated with."""
    bundle = bundle_from_texts(json.loads(record.files), pack, folder_of(record.number))
    if bundle.revision != record.revision:
        raise StoreError(
            f"proposal {record.number}'s stored files do not match the revision it was"
            f" {record.state} with; refusing to use it"
        )
    return bundle


def policy_in_force(store: Store, pack: ScenarioPack) -> ScenarioPack:
    """The pack with every activated proposal in its holder's history."""
    with store.reading() as tx:
        activated = tx.proposals.all(state=ACTIVATED)
    if not activated:
        return pack
    bundles = [*pack.history, *(stored_bundle(r, pack) for r in activated)]
    return dataclasses.replace(pack, history=BundleHistory(bundles))
