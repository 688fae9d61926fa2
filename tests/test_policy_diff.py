"""``clearance policy diff``: the text and the effect of changing a holder's bundle."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.policy.diff import diff_bundles, golden_probes, read_pair, sample_probes
from clearance.policy.engine import Screener
from clearance.policy.pack import default_pack_path

from .test_cases_cli import G2, Cli

BUNDLES = default_pack_path() / "bundles"
US = sorted((BUNDLES / "US").iterdir())
AUTHORITY, REVIEW = BUNDLES / "US" / "2024-11-17", BUNDLES / "US" / "2025-05-01"


def _diff(screener: Screener, old: Path, new: Path, *, sample: int = 300, seed: int = 0):  # type: ignore[no-untyped-def]
    bundles = read_pair(screener.pack, old, new)
    dates = [b.effective_from for b in bundles]
    probes = [
        *golden_probes(screener),
        *sample_probes(screener, bundles[0].holder, dates, count=sample, seed=seed),
    ]
    return diff_bundles(screener, (old, new), bundles, probes)


def test_the_review_mechanism_turns_permitted_strikes_into_reviews(screener: Screener) -> None:
    diff = _diff(screener, AUTHORITY, REVIEW)
    groups = {g.kind: g for g in diff.groups}
    review = groups["permitted → review_required"]
    assert review.by_source["golden"] >= 5
    assert "US/us-strikes-in-russia-authorised" in review.old_policies
    assert "US/us-review-mechanism" in review.new_policies
    assert len(review.examples) == 3
    assert all(e.old.outcome.value == "permitted" for e in review.examples)
    assert '+@id("us-review-mechanism")\n' in diff.text
    assert any(
        line.startswith("--- ") and "2024-11-17/policies.cedar" in line for line in diff.text
    )


def test_a_difference_is_the_reverse_of_the_reverse_one(screener: Screener) -> None:
    forward = {g.kind: g.count for g in _diff(screener, AUTHORITY, REVIEW).groups}
    backward = {g.kind: g.count for g in _diff(screener, REVIEW, AUTHORITY).groups}
    reverse = {" → ".join(reversed(k.split(" → "))): n for k, n in forward.items()}
    assert backward == reverse


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(folder=st.sampled_from(sorted(BUNDLES.glob("*/*"))), seed=st.integers(0, 2**32))
def test_a_bundle_differs_from_itself_in_nothing(
    screener: Screener, folder: Path, seed: int
) -> None:
    diff = _diff(screener, folder, folder, sample=200, seed=seed)
    assert diff.text == ()
    assert diff.groups == ()
    assert sum(diff.judged.values()) > 0


def test_the_sample_is_the_same_for_the_same_seed(screener: Screener) -> None:
    dates = [b.effective_from for b in screener.history.of("US")]
    one = sample_probes(screener, "US", dates, count=50, seed=7)
    again = sample_probes(screener, "US", dates, count=50, seed=7)
    other = sample_probes(screener, "US", dates, count=50, seed=8)
    assert [p.request for p in one] == [p.request for p in again]
    assert [p.request for p in one] != [p.request for p in other]
    assert {p.request.system for p in one} <= {
        s.id for s in screener.catalog.systems if "US" in {h.party for h in screener.holders(s.id)}
    }


def test_the_command_judges_stored_cases_too(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path, database_url, monkeypatch)
    cli("init")
    cli("users", "add", "ua.liaison", "--name", "Liaison", "--party", "UA")
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    report = cli.json("policy", "diff", str(AUTHORITY), str(REVIEW), "--sample", "100")
    assert report["judged"]["stored"] == 1
    assert report["judged"]["sample"] > 0
    review = next(c for c in report["changes"] if c["kind"] == "permitted → review_required")
    assert review["by_source"]["stored"] == 1
    assert '+@id("us-review-mechanism")' in report["text_diff"]
    plain = cli("policy", "diff", str(AUTHORITY), str(AUTHORITY), "--sample", "50").stdout
    assert "The two folders hold the same text." in plain
    assert "No request changes outcome" in plain


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{tmp}/nowhere", str(REVIEW), "OLD: '"),
        (str(AUTHORITY), str(BUNDLES / "GB" / "2024-11-17"), "NEW: is a bundle of GB"),
        (str(AUTHORITY), "{tmp}/broken", "broken/policies.cedar"),
    ],
)
def test_bad_input_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, message: str
) -> None:
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'absent.db'}", monkeypatch)
    shutil.copytree(AUTHORITY, tmp_path / "broken")
    (tmp_path / "broken" / "policies.cedar").write_text("permit (principal, action, resource")
    run = cli("policy", "diff", old.format(tmp=tmp_path), new.format(tmp=tmp_path), ok=False)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
