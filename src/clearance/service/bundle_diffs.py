"""A bundle compared with the one it replaces, for the pages where policy is read and signed.

Both halves are ``clearance policy diff``'s own (``policy.diff``): the text, file
by file, and the requests whose outcome changes, grouped by kind of change. The
old side is the holder's bundle that the new one succeeds: the last one in force
before the new one's first day, the new one itself left out (an activated
proposal is in the history already).

The files come from where the bundle was built: an activated proposal's
stored files (its revision already checked against the signed one by
``service.proposals``), or the pack's folder. The semantic half judges the
pack's golden cases and a generated sample, which name no case; the stored
cases a proposal would change are its impact (``service.proposal_impact``),
shown only as far as the reader may see them, so they are not judged twice here.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from clearance.policy.bundle import PolicyBundle
from clearance.policy.diff import (
    SAMPLE,
    BundleDiff,
    FileDiff,
    compare_bundles,
    file_diffs,
    golden_probes,
    sample_dates,
    sample_probes,
    unified,
)
from clearance.policy.engine import Screener
from clearance.policy.history import BundleHistory
from clearance.policy.pack import read_bundle_texts
from clearance.service.policy_in_force import ACTIVATED
from clearance.service.proposals import ProposalView
from clearance.store.repository import Store

__all__ = ["SAMPLE", "Comparison", "history", "judged", "of_proposal", "replaced"]


@dataclass(frozen=True, slots=True)
class Comparison:
    """``new`` against ``old`` (None: the holder's first bundle, every file new); ``effect``
    is the semantic diff, when it was asked for and there is an old bundle to judge by."""

    old: PolicyBundle | None
    new: PolicyBundle
    files: tuple[FileDiff, ...]
    effect: BundleDiff | None


def replaced(history: BundleHistory, bundle: PolicyBundle) -> PolicyBundle | None:
    """The holder's bundle that ``bundle`` succeeds: in force the day before it, itself aside."""
    earlier = [
        b
        for b in history.of(bundle.holder)
        if b.effective_from < bundle.effective_from and b.revision != bundle.revision
    ]
    return earlier[-1] if earlier else None


def _stored(store: Store) -> dict[str, dict[str, str]]:
    """The files of every activated proposal, by revision."""
    with store.reading() as tx:
        return {r.revision: json.loads(r.files) for r in tx.proposals.all(state=ACTIVATED)}


def _texts(
    stored: dict[str, dict[str, str]], screener: Screener, bundle: PolicyBundle
) -> dict[str, str]:
    """The files ``bundle`` was built from: an activated proposal's, or its pack folder's."""
    found = stored.get(bundle.revision)
    return found if found is not None else read_bundle_texts(screener.pack.root / bundle.folder)


def _files(
    before: dict[str, str], after: dict[str, str], old: PolicyBundle | None, new: PolicyBundle
) -> tuple[FileDiff, ...]:
    return tuple(file_diffs(before, after, old.folder if old else "/dev/null", new.folder))


def history(store: Store, screener: Screener, holder: str) -> list[Comparison]:
    """Each of ``holder``'s bundles, oldest first, against the one before it: the text only
    (the effect is asked for one bundle at a time, ``judged``)."""
    stored = _stored(store)
    bundles = screener.history.of(holder)
    texts = [_texts(stored, screener, b) for b in bundles]
    olds: list[PolicyBundle | None] = [None, *bundles[:-1]]
    befores: list[dict[str, str]] = [{}, *texts[:-1]]
    return [
        Comparison(old, new, _files(before, after, old, new), None)
        for old, new, before, after in zip(olds, bundles, befores, texts, strict=True)
    ]


def judged(
    screener: Screener, comparison: Comparison, *, sample: int = SAMPLE, seed: int = 0
) -> Comparison:
    """``comparison`` with its effect: the pack's golden cases and a sample of ``sample``
    generated requests judged under both bundles (nothing to judge against a first bundle)."""
    old, new = comparison.old, comparison.new
    if old is None:
        return comparison
    pair = (old, new)
    probes = [
        *golden_probes(screener),
        *sample_probes(screener, new.holder, sample_dates(pair), count=sample, seed=seed),
    ]
    effect = compare_bundles(screener, pair, probes, text=unified(comparison.files))
    return dataclasses.replace(comparison, effect=effect)


def of_proposal(store: Store, screener: Screener, view: ProposalView) -> Comparison:
    """A proposal (already read through the door, ``PolicyProposals.view``) against the
    bundle it replaces in ``screener``'s history, text and effect."""
    new = view.bundle
    old = replaced(screener.history, new)
    before = {} if old is None else _texts(_stored(store), screener, old)
    files = _files(before, json.loads(view.record.files), old, new)
    return judged(screener, Comparison(old, new, files, None))
