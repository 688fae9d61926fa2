"""The layers of docs/architecture.md hold: a crossing fails the test run, not a review."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_public_surface_is_declared() -> None:
    import clearance
    import clearance.errors

    assert clearance.__all__ == ["__version__"]
    assert set(clearance.errors.__all__) == {
        name
        for name, value in vars(clearance.errors).items()
        if isinstance(value, type) and issubclass(value, clearance.errors.ClearanceError)
    }
