"""``clearance policy test --coverage``: the policies and gates no golden case reached."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from clearance.policy.coverage import coverage
from clearance.policy.engine import Screener
from clearance.policy.golden import run_cases
from clearance.policy.pack import default_pack_path, load_pack

from .conftest import NOW
from .test_cases_cli import Cli

ATACMS_JUNE = (
    "{action: employ, requester: UA, system: atacms, quantity: 2,"
    ' target: {territory: RU}, date: "2025-06-15"}'
)


def _pack(tmp_path: Path, cases: str) -> Path:
    """The seed pack with only the golden cases given."""
    root = tmp_path / "pack"
    shutil.copytree(default_pack_path(), root)
    shutil.rmtree(root / "cases")
    (root / "cases").mkdir()
    (root / "cases" / "only.yaml").write_text(f"cases:\n{cases}")
    return root


def _review_gate(root: Path) -> tuple[list[str], list[tuple[str, str]]]:
    screener = Screener(load_pack(root))
    report = coverage(screener, run_cases(screener, now=NOW), now=NOW)
    review = next(b for b in report if b.bundle.folder == "bundles/US/2025-05-01")
    return list(review.never_determining), list(review.gates_never_exercised)


def test_a_gate_required_by_a_case_is_exercised(tmp_path: Path) -> None:
    root = _pack(
        tmp_path,
        f"  - id: G2\n    request: {ATACMS_JUNE}\n    expect: {{outcome: review_required}}\n",
    )
    never, gates = _review_gate(root)
    assert "us-review-mechanism" not in never
    assert ("us-review-mechanism", "us.secdef") not in gates


def test_a_gate_lifted_by_an_approval_is_exercised(tmp_path: Path) -> None:
    root = _pack(
        tmp_path,
        f"  - id: T6\n    request: {ATACMS_JUNE}\n    approvals: [us.secdef]\n"
        "    expect: {outcome: permitted}\n",
    )
    never, gates = _review_gate(root)
    assert ("us-review-mechanism", "us.secdef") not in gates
    # The gate did not decide the case (the permit did), so it was never determining.
    assert "us-review-mechanism" in never
    assert "us-strikes-in-russia-authorised" not in never


def test_a_gate_no_case_reaches_is_listed(tmp_path: Path) -> None:
    root = _pack(
        tmp_path,
        f"  - id: T7\n    request: {ATACMS_JUNE}\n    approvals: [us.usdp]\n"
        "    expect: {outcome: review_required}\n"
        "  - id: old\n    request: {action: employ, requester: UA, system: atacms, quantity: 2,"
        ' target: {territory: UA}, date: "2023-01-01"}\n    expect: {outcome: permitted}\n',
    )
    _never, gates = _review_gate(root)
    # A wrong approval leaves the gate required: that exercises it.
    assert ("us-review-mechanism", "us.secdef") not in gates
    screener = Screener(load_pack(root))
    report = coverage(screener, run_cases(screener, now=NOW), now=NOW)
    untouched = next(b for b in report if b.bundle.folder == "bundles/US/2025-08-28")
    assert {p.id for p in untouched.bundle.policies} == set(untouched.never_determining)
    assert ("us-review-mechanism", "us.secdef") in untouched.gates_never_exercised


def test_the_seed_pack_determines_its_central_policies(screener: Screener) -> None:
    report = coverage(screener, run_cases(screener, now=NOW), now=NOW)
    by_folder = {b.bundle.folder: b for b in report}
    assert "us-review-mechanism" not in by_folder["bundles/US/2025-05-01"].never_determining
    assert "us-no-strikes-in-russia" not in by_folder["bundles/US/2022-02-24"].never_determining
    assert len(report) == len(screener.history)


def test_the_command_adds_coverage_to_its_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _pack(
        tmp_path,
        f"  - id: G2\n    request: {ATACMS_JUNE}\n    expect: {{outcome: review_required}}\n",
    )
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", monkeypatch)
    report = json.loads(cli("policy", "test", str(root), "--coverage", "--json").stdout)
    assert report["passed"] == 1
    review = next(b for b in report["coverage"] if b["folder"] == "bundles/US/2025-05-01")
    assert "us-review-mechanism" not in review["never_determining"]
    assert "coverage" not in json.loads(cli("policy", "test", str(root), "--json").stdout)
    table = cli("policy", "test", str(root), "--coverage").stdout
    assert "policies never determining" in table
    assert "gates never exercised" in table


def test_every_seed_policy_and_gate_is_reached_by_a_golden_case(screener: Screener) -> None:
    report = coverage(screener, run_cases(screener, now=NOW), now=NOW)
    assert {b.bundle.folder: b.never_determining for b in report if b.never_determining} == {}
    assert {
        b.bundle.folder: b.gates_never_exercised for b in report if b.gates_never_exercised
    } == {}
