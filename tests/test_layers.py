"""The layers of docs/architecture.md hold: a crossing fails the test run, not a review."""

from __future__ import annotations

import ast
from collections.abc import Iterator
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


MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250


def _sizes() -> Iterator[tuple[str, int, int, str]]:
    """Each module and class of the package: where, its lines, its limit, its docstring."""
    for path in sorted((ROOT / "src" / "clearance").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        tree = ast.parse(text)
        where = str(path.relative_to(ROOT))
        yield where, len(text.splitlines()), MAX_MODULE_LINES, ast.get_docstring(tree) or ""
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                doc = ast.get_docstring(node) or ""
                yield f"{where}:{node.name}", lines, MAX_CLASS_LINES, doc


def test_a_long_module_or_class_says_why_it_is_one_piece() -> None:
    """A newcomer finds their way in small rooms: a module past 400 lines or a class past
    250 says in its docstring why it is one piece, in a sentence about its lines."""
    unexplained = [
        f"{where} ({lines} lines)"
        for where, lines, limit, doc in _sizes()
        if lines > limit and "lines" not in doc
    ]
    assert unexplained == []
