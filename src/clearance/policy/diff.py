"""Two bundles of one holder compared: their text, and the requests they decide differently.

A text diff shows what an author changed; it does not show what the change
does. The semantic diff judges the same requests as the holder would under
OLD and under NEW, whatever the requests' dates, and groups the requests
whose outcome differs by kind of change ("permitted → review_required"),
with counts, examples and the policies that decided each side.

The requests come from three places, each with its own blind spot: the
pack's golden cases (what the authors thought of), stored cases (what was
really asked; passed in by the caller, since this layer reads no database)
and a deterministic sample of the whole request space (what nobody thought
of). Only requests about systems the holder has a right of consent over can
be judged by its bundles; the rest are left out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import itertools
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.core.catalog import Catalog
from clearance.core.decision import HolderJudgement
from clearance.core.regions import regions_of
from clearance.core.request import AnyRequest, check_against, parse_request
from clearance.core.stockpile import StockpileFacts
from clearance.errors import ClearanceError, InputError
from clearance.policy.bundle import PolicyBundle
from clearance.policy.engine import Screener
from clearance.policy.entities import target_zones, zone_labels
from clearance.policy.evaluate import Question, judge
from clearance.policy.golden import load_cases
from clearance.policy.pack import ScenarioPack, load_bundle, read_bundle_texts

__all__ = [
    "SAMPLE",
    "BundleDiff",
    "ChangeGroup",
    "Difference",
    "FileDiff",
    "Probe",
    "compare_bundles",
    "diff_bundles",
    "file_diffs",
    "golden_probes",
    "read_bundle",
    "read_pair",
    "sample_dates",
    "sample_probes",
    "text_diff",
    "unified",
]

QUANTITIES = (1, 10, 100, 1_000, 5_000)


@dataclass(frozen=True, slots=True)
class Probe:
    """One request to judge under both bundles; ``source`` is golden, stored or sample."""

    source: str
    label: str
    request: AnyRequest
    approvals: frozenset[str] = frozenset()
    stockpile: StockpileFacts | None = None


@dataclass(frozen=True, slots=True)
class Difference:
    probe: Probe
    old: HolderJudgement
    new: HolderJudgement

    @property
    def kind(self) -> str:
        return f"{self.old.outcome.value} → {self.new.outcome.value}"

    def as_dict(self) -> dict[str, Any]:
        def side(j: HolderJudgement) -> dict[str, Any]:
            return {"outcome": j.outcome.value, "reasons": list(j.reasons), "notes": list(j.notes)}

        return {
            "source": self.probe.source,
            "label": self.probe.label,
            "request": self.probe.request.model_dump(mode="json", exclude_none=True),
            "approvals": sorted(self.probe.approvals),
            "old": side(self.old),
            "new": side(self.new),
        }


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    """Every difference of one kind: how many, from where, which policies, a few examples."""

    kind: str
    count: int
    by_source: dict[str, int]
    old_policies: dict[str, int]
    new_policies: dict[str, int]
    examples: tuple[Difference, ...]
    by_zone: dict[str, int] = dataclasses.field(default_factory=dict)
    """Changed requests by the zone of their target region (``entities.zone_labels``)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "by_source": self.by_source,
            "old_policies": self.old_policies,
            "new_policies": self.new_policies,
            "by_zone": self.by_zone,
            "examples": [e.as_dict() for e in self.examples],
        }


@dataclass(frozen=True, slots=True)
class BundleDiff:
    old: PolicyBundle
    new: PolicyBundle
    text: tuple[str, ...]
    judged: dict[str, int]
    groups: tuple[ChangeGroup, ...]

    @property
    def same_outcomes(self) -> bool:
        return not self.groups

    def as_dict(self) -> dict[str, Any]:
        def bundle(b: PolicyBundle) -> dict[str, Any]:
            return {
                "holder": b.holder,
                "folder": b.folder,
                "effective_from": b.effective_from.isoformat(),
                "revision": b.revision,
            }

        return {
            "old": bundle(self.old),
            "new": bundle(self.new),
            "text_diff": "".join(self.text),
            "judged": self.judged,
            "changed": sum(g.count for g in self.groups),
            "changes": [g.as_dict() for g in self.groups],
        }


def read_bundle(pack: ScenarioPack, folder: Path, what: str) -> PolicyBundle:
    """Load a bundle folder against ``pack`` (its catalog and shared schema)."""
    if not folder.is_dir():
        raise InputError(what, f"'{folder}' is not a folder")
    if not (folder / "bundle.yaml").is_file():
        raise InputError(what, f"'{folder}' is not a bundle: it has no bundle.yaml")
    return load_bundle(folder, pack.root, pack.catalog, pack.root / "schema.cedarschema")


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file's unified diff: its ``---``/``+++`` header, then its hunks (each line keeps
    its marker and ends in a newline); ``change`` is added, removed or changed."""

    name: str
    change: str
    header: tuple[str, str]
    lines: tuple[str, ...]


def file_diffs(
    before: Mapping[str, str], after: Mapping[str, str], old: str, new: str
) -> list[FileDiff]:
    """The files of two bundles (by name, as ``read_bundle_texts`` gives them) compared, one
    unified diff per file that differs; ``old`` and ``new`` name the two sides."""
    diffs = []
    for name in sorted(before.keys() | after.keys()):
        lines = [
            line if line.endswith("\n") else line + "\n"
            for line in difflib.unified_diff(
                before.get(name, "").splitlines(keepends=True),
                after.get(name, "").splitlines(keepends=True),
                fromfile=f"{old}/{name}" if name in before else "/dev/null",
                tofile=f"{new}/{name}" if name in after else "/dev/null",
            )
        ]
        if lines:
            change = (
                "removed" if name not in after else "added" if name not in before else "changed"
            )
            diffs.append(FileDiff(name, change, (lines[0], lines[1]), tuple(lines[2:])))
    return diffs


def text_diff(old: Path, new: Path) -> list[str]:
    """A unified diff of the two folders, file by file (lines keep their newlines)."""
    return unified(file_diffs(read_bundle_texts(old), read_bundle_texts(new), str(old), str(new)))


def unified(files: Iterable[FileDiff]) -> list[str]:
    """The files' diffs as one unified diff, each file's header before its hunks."""
    return [line for f in files for line in (*f.header, *f.lines)]


def golden_probes(screener: Screener) -> Iterator[Probe]:
    """The pack's golden cases, with their approvals; a case that is not a valid request is
    the golden runner's to report, so it is left out here."""
    pack = screener.pack
    for path in pack.case_files:
        for case in load_cases(path, pack.relative(path)):
            try:
                request = parse_request(case.request)
                check_against(request, screener.catalog)
            except ClearanceError:
                continue
            facts = screener.stockpile_facts(request, case.as_of or request.date)
            yield Probe("golden", case.id, request, frozenset(case.approvals), facts)


def _sample_regions(catalog: Catalog, territory: str) -> list[str | None]:
    """The regions a sample tries for a target in ``territory``: none, every region a zone
    names there, and one region no zone ever names (the "deep" case)."""
    zoned = sorted(
        {
            r
            for z in catalog.zones
            for s in z.history
            for r in s.regions
            if r.startswith(f"{territory}-")
        }
    )
    if not zoned:
        return [None]
    deep = next((r for r in regions_of(territory) if r not in zoned), None)
    return [None, *zoned, *([deep] if deep else [])]


def sample_dates(bundles: tuple[PolicyBundle, PolicyBundle]) -> list[dt.date]:
    """The days a sample is drawn on: each bundle's first day, and a year after the later."""
    dates = [b.effective_from for b in bundles]
    return [*dates, max(dates) + dt.timedelta(days=365)]


SAMPLE = 2000
"""Generated requests judged under both bundles, unless asked otherwise: ``policy diff``'s
``--sample`` and the pages' diffs alike."""


def sample_probes(
    screener: Screener, holder: str, dates: Iterable[dt.date], *, count: int, seed: int
) -> list[Probe]:
    """``count`` requests drawn from every system the holder holds consent over × requester ×
    action × territory (and region, where zones lie), or recipient and funding × ``dates``;
    the same seed draws the same."""
    catalog = screener.catalog
    systems = [
        s.id for s in catalog.systems if any(h.party == holder for h in screener.holders(s.id))
    ]
    states = [p.code for p in catalog.parties if p.kind == "state"]
    funders: list[str | None] = [None, *(p.code for p in catalog.parties)]
    days = sorted(set(dates))
    targets = [(t, r) for t in states for r in _sample_regions(catalog, t)]
    uses = [
        ("employ", system, requester, territory, region, day)
        for system, requester, (territory, region), day in itertools.product(
            systems, states, targets, days
        )
    ]
    transfers = itertools.product(["transfer"], systems, states, states, funders, days)
    space = [*uses, *transfers]
    rng = random.Random(seed)
    chosen = space if count >= len(space) else rng.sample(space, count)
    probes = []
    for number, (action, system, requester, other, extra, day) in enumerate(chosen, 1):
        data: dict[str, Any] = {
            "action": action,
            "requester": requester,
            "system": system,
            "quantity": rng.choice(QUANTITIES),
            "date": day.isoformat(),
        }
        if action == "employ":
            data["target"] = {"territory": other}
            if extra is not None:
                data["target"]["region"] = extra
        else:
            data["recipient"] = other
            if extra is not None:
                data["funding"] = extra
        request = parse_request(data)
        facts = screener.stockpile_facts(request, day)
        probes.append(Probe("sample", f"sample {number}", request, stockpile=facts))
    return probes


def _group(catalog: Catalog, kind: str, found: list[Difference], examples: int) -> ChangeGroup:
    def count(items: Iterable[str]) -> dict[str, int]:
        return dict(Counter(items).most_common())

    return ChangeGroup(
        kind=kind,
        count=len(found),
        by_source=count(d.probe.source for d in found),
        old_policies=count(r for d in found for r in d.old.reasons),
        new_policies=count(r for d in found for r in d.new.reasons),
        examples=tuple(found[:examples]),
        by_zone=count(z for d in found for z in zone_labels(catalog, d.probe.request)),
    )


def read_pair(pack: ScenarioPack, old: Path, new: Path) -> tuple[PolicyBundle, PolicyBundle]:
    """Load OLD and NEW; refuse two bundles of different holders."""
    before, after = read_bundle(pack, old, "OLD"), read_bundle(pack, new, "NEW")
    if before.holder != after.holder:
        raise InputError("NEW", f"is a bundle of {after.holder}, but OLD is one of {before.holder}")
    return before, after


def diff_bundles(
    screener: Screener,
    folders: tuple[Path, Path],
    bundles: tuple[PolicyBundle, PolicyBundle],
    probes: Iterable[Probe],
    *,
    examples: int = 3,
) -> BundleDiff:
    """Compare two bundle folders of one holder (from ``read_pair``): ``compare_bundles``
    with the folders' text diff."""
    return compare_bundles(screener, bundles, probes, text=text_diff(*folders), examples=examples)


def compare_bundles(
    screener: Screener,
    bundles: tuple[PolicyBundle, PolicyBundle],
    probes: Iterable[Probe],
    *,
    text: Sequence[str],
    examples: int = 3,
) -> BundleDiff:
    """Compare two bundles of one holder, judging ``probes`` under each; ``text`` is their
    text diff, wherever their files were read from (a folder, a stored proposal).

    Each probe is judged as ``Screener.judge_under`` would, all probes in one
    Cedar batch per bundle, through the screener's memo: a question asked
    before (the same bundle compared again, a sample drawn again) is not put
    to Cedar again.
    """
    old, new = bundles
    asked: list[Question] = []
    kept: list[Probe] = []
    for probe in probes:
        holder = next(
            (h for h in screener.holders(probe.request.system) if h.party == old.holder), None
        )
        if holder is not None:
            kept.append(probe)
            zones = target_zones(screener.catalog, probe.request, probe.request.date)
            asked.append(
                Question(holder, old, probe.request, probe.approvals, probe.stockpile, zones)
            )
    before = judge(asked, screener.judgements)
    after = judge([dataclasses.replace(q, bundle=new) for q in asked], screener.judgements)
    by_kind: dict[str, list[Difference]] = {}
    for probe, was, will in zip(kept, before, after, strict=True):  # pragma: no mutate
        if was.outcome is not will.outcome:
            difference = Difference(probe, was, will)
            by_kind.setdefault(difference.kind, []).append(difference)
    groups = sorted(
        (_group(screener.catalog, kind, found, examples) for kind, found in by_kind.items()),
        key=lambda g: (-g.count, g.kind),
    )
    return BundleDiff(
        old=old,
        new=new,
        text=tuple(text),
        judged=dict(Counter(p.source for p in kept)),
        groups=tuple(groups),
    )
