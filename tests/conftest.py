"""Shared fixtures: the seed pack, loaded once, and a screener over it."""

from __future__ import annotations

import datetime as dt

import pytest

from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack, load_pack

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def seed_pack() -> ScenarioPack:
    return load_pack()


@pytest.fixture(scope="session")
def screener(seed_pack: ScenarioPack) -> Screener:
    return Screener(seed_pack)
