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


def test_errors_below_the_interfaces_name_fields_not_flags() -> None:
    """An API client must never be told about a CLI option: the service names the
    request or form field, and the CLI turns it into the option the user typed."""
    below = [ROOT / "src" / "clearance" / layer for layer in ("core", "policy", "store", "service")]
    flagged = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in below
        for path in sorted(folder.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if 'Error("--' in line or 'Error(f"--' in line
    ]
    assert flagged == []
