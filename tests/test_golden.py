"""The seed pack's golden cases, each one a test, through the engine."""

from __future__ import annotations

import pytest

from clearance.policy.engine import Screener
from clearance.policy.golden import CaseResult, run_cases
from clearance.policy.pack import load_pack

from .conftest import NOW

_RESULTS = run_cases(Screener(load_pack()), now=NOW)


def test_the_pack_holds_the_scenario_floor() -> None:
    ids = {r.case.id for r in _RESULTS}
    assert {"G1", "G2", "G3", "G4", "G5", "G5-other-funding"} <= ids
    assert len(ids) >= 35


@pytest.mark.parametrize("result", _RESULTS, ids=[r.case.id for r in _RESULTS])
def test_golden_case(result: CaseResult) -> None:
    assert result.passed, [(m.field, m.expected, m.got) for m in result.mismatches]
