"""Loading a scenario pack: a folder of data, never code.

::

    pack.yaml            name, description, what is illustrative
    catalog.yaml         parties, authorities, components, systems
    schema.cedarschema   the Cedar schema shared by the bundles
    bundles/<HOLDER>/<folder>/   one policy bundle each (see bundle.py)
    cases/*.yaml         golden cases (see golden.py)
    stockpile.yaml       optional: tracked stock positions (see stockfigures.py)

Every error names the file (relative to the pack), the place inside it and
what is wrong, and nothing is half-loaded: ``load_pack`` returns a whole pack
or raises.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from clearance.core.catalog import Catalog, CatalogIntegrityError
from clearance.core.unreadable import unreadable_file
from clearance.core.working_days import calendar_problem
from clearance.errors import PackError
from clearance.policy.bundle import BundleFiles, PolicyBundle, build_bundle
from clearance.policy.evaluate import check_schema_accepts_requests
from clearance.policy.history import BundleHistory
from clearance.policy.locations import pydantic_location
from clearance.policy.stockfigures import FILE as STOCK_FILE
from clearance.policy.stockfigures import StockFigures, load_stock_figures

__all__ = ["ScenarioPack", "default_pack_path", "load_bundle", "load_pack", "read_yaml"]


@dataclass(frozen=True, slots=True, eq=False)
class ScenarioPack:
    root: Path
    name: str
    description: str
    catalog: Catalog
    history: BundleHistory
    case_files: tuple[Path, ...]
    stock: StockFigures = field(default_factory=StockFigures)
    closures: dict[str, frozenset[dt.date]] = field(default_factory=dict)
    """Days offices are closed beyond their public holidays, per calendar (``US``)."""

    def relative(self, path: Path) -> str:
        return _relative(self.root, path)


def default_pack_path() -> Path:
    """The seed scenario shipped inside the package."""
    return Path(str(resources.files("clearance") / "scenarios" / "seed"))


def _relative(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def read_yaml(path: Path, name: str) -> Any:
    """Parse a YAML file; a syntax error names the file and line."""
    return parse_yaml(_read_text(path, name), name)


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader in C (libyaml) where the wheel has it: a pack loads in two thirds
of the time, and every command that screens loads one."""


def parse_yaml(text: str, name: str) -> Any:
    """Parse YAML text; a syntax error names ``name`` and the line.

    Text libyaml refuses is read again by PyYAML's own loader, for the error a person
    reads: libyaml's words are terser, and at the end of the text its line is one past
    the last. Both build the value with the same safe constructor."""
    try:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)
        except (yaml.YAMLError, ValueError):
            return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        # a reader's error (a control character) has no problem of its own, and its text
        # runs on to a second line naming "<unicode string>": its first line says it
        problem = getattr(exc, "problem", None) or str(exc).partition("\n")[0]  # pragma: no mutate
        raise PackError(name, where, f"YAML does not parse: {problem}") from None
    except ValueError as exc:  # a date no calendar has (2025-02-30): PyYAML's reader refuses it
        raise PackError(name, "", f"YAML does not parse: {exc}") from None
    except RecursionError:  # lists or mappings inside each other past what Python recurses
        raise PackError(name, "", "YAML does not parse: nested too deep") from None


def _mapping(data: Any, name: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PackError(name, "", "must be a YAML mapping")
    return data


def load_catalog(root: Path) -> Catalog:
    name = "catalog.yaml"
    data = _mapping(read_yaml(root / name, name), name)
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, CatalogIntegrityError):
            raise PackError(name, cause.where, cause.problem) from None
        where = pydantic_location(error["loc"])
        message = error["msg"] if error["type"] != "extra_forbidden" else "is not a known field"
        raise PackError(name, where, message) from None


def _read_text(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")  # pragma: no mutate
    except OSError as exc:
        raise PackError(name, "", unreadable_file(exc)) from None
    except UnicodeDecodeError as exc:
        raise PackError(
            name, "", f"not UTF-8 text (byte {exc.start + 1:,} cannot be read)"
        ) from None


def load_bundle(
    folder: Path, root: Path, catalog: Catalog, shared_schema: Path | None
) -> PolicyBundle:
    """Load one bundle folder (also used for a proposed bundle outside any pack)."""
    rel = _relative(root, folder)
    meta_name = f"{rel}/bundle.yaml"
    meta = _mapping(read_yaml(folder / "bundle.yaml", meta_name), meta_name)
    schema_path = folder / "schema.cedarschema"
    if not schema_path.exists():
        if shared_schema is None or not shared_schema.exists():
            raise PackError(rel, "", "no schema.cedarschema in the bundle or the pack")
        schema_path = shared_schema
    entities_path = folder / "entities.json"
    entities_file = _relative(root, entities_path) if entities_path.exists() else None
    schema_file = _relative(root, schema_path)
    policies = [(p, _relative(root, p)) for p in sorted(folder.glob("*.cedar"))]
    files = BundleFiles(
        meta_file=meta_name,
        meta=meta,
        policy_files=tuple((name, _read_text(p, name)) for p, name in policies),
        schema_file=schema_file,
        schema_text=_read_text(schema_path, schema_file),
        entities_file=entities_file,
        entities_text=None if entities_file is None else _read_text(entities_path, entities_file),
    )
    bundle = build_bundle(files, catalog, rel)
    check_schema_accepts_requests(bundle, catalog, files.schema_file, files.schema_text)
    return bundle


BUNDLE_FILES = ("bundle.yaml", "schema.cedarschema", "entities.json")


def read_bundle_texts(folder: Path) -> dict[str, str]:
    """A bundle folder's files by name (``bundle.yaml``, ``*.cedar``, optional schema, entities)."""
    if not folder.is_dir():
        raise PackError(str(folder), "", "not a folder")
    if not (folder / "bundle.yaml").is_file():
        raise PackError(str(folder), "", "not a bundle: it has no bundle.yaml")
    names = [n for n in BUNDLE_FILES if (folder / n).is_file()]
    names += sorted(p.name for p in folder.glob("*.cedar"))
    return {n: _read_text(folder / n, f"{folder.name}/{n}") for n in names}


def bundle_from_texts(texts: dict[str, str], pack: ScenarioPack, folder: str) -> PolicyBundle:
    """Build a bundle from its files' texts (a proposal, stored or uploaded) against ``pack``.

    The same checks as a bundle folder of the pack; names in errors are
    ``<folder>/<file>``. A missing schema means the pack's shared one.
    """
    unknown = sorted(n for n in texts if n not in BUNDLE_FILES and not n.endswith(".cedar"))
    if unknown:
        raise PackError(
            f"{folder}/{unknown[0]}",
            "",
            "is not a bundle file (bundle.yaml, *.cedar, schema.cedarschema, entities.json)",
        )
    if "bundle.yaml" not in texts:
        raise PackError(folder, "", "a bundle needs a bundle.yaml")
    meta_file = f"{folder}/bundle.yaml"
    meta = _mapping(parse_yaml(texts["bundle.yaml"], meta_file), meta_file)
    if "schema.cedarschema" in texts:
        schema_file, schema_text = f"{folder}/schema.cedarschema", texts["schema.cedarschema"]
    else:
        schema_file = "schema.cedarschema"
        schema_text = _read_text(pack.root / schema_file, schema_file)
    files = BundleFiles(
        meta_file=meta_file,
        meta=meta,
        policy_files=tuple(
            (f"{folder}/{name}", texts[name]) for name in sorted(texts) if name.endswith(".cedar")
        ),
        schema_file=schema_file,
        schema_text=schema_text,
        entities_file=f"{folder}/entities.json" if "entities.json" in texts else None,
        entities_text=texts.get("entities.json"),
    )
    bundle = build_bundle(files, pack.catalog, folder)
    check_schema_accepts_requests(bundle, pack.catalog, files.schema_file, files.schema_text)
    return bundle


def _closures(value: Any) -> dict[str, frozenset[dt.date]]:
    """``closures: [{calendar: US, day: 2025-12-24, reason: ...}]`` in pack.yaml: days an
    office is closed that its country's public holidays do not list (a closure by decree)."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise PackError("pack.yaml", "closures", "must be a list of {calendar, day, reason}")
    days: dict[str, set[dt.date]] = {}
    for n, item in enumerate(value, start=1):
        where = f"closures[{n}]"
        if not isinstance(item, dict) or set(item) != {"calendar", "day", "reason"}:
            raise PackError("pack.yaml", where, "must be {calendar, day, reason}")
        country = item["calendar"]
        if not isinstance(country, str) or (problem := calendar_problem(country)) is not None:
            problem = (
                "must be a country code such as US" if not isinstance(country, str) else problem
            )
            raise PackError("pack.yaml", f"{where}.calendar", str(problem))
        on = item["day"]
        if isinstance(on, dt.datetime) or not isinstance(on, dt.date):
            raise PackError("pack.yaml", f"{where}.day", "must be a date written YYYY-MM-DD")
        if not isinstance(item["reason"], str) or not item["reason"].strip():
            raise PackError("pack.yaml", f"{where}.reason", "must say why the offices closed")
        days.setdefault(country, set()).add(on)
    return {country: frozenset(d) for country, d in days.items()}


def load_pack(path: Path | str | None = None) -> ScenarioPack:
    """Load and validate a whole pack (default: the bundled seed scenario)."""
    root = Path(path) if path is not None else default_pack_path()
    if not root.is_dir():
        raise PackError(str(root), "", "not a folder")
    if not (root / "catalog.yaml").exists():
        raise PackError(str(root), "", "not a scenario pack: it has no catalog.yaml")
    meta = (
        _mapping(read_yaml(root / "pack.yaml", "pack.yaml"), "pack.yaml")
        if (root / "pack.yaml").exists()
        else {}
    )
    catalog = load_catalog(root)
    shared_schema = root / "schema.cedarschema"
    folders = sorted(p.parent for p in (root / "bundles").glob("*/*/bundle.yaml"))
    if not folders:
        raise PackError(
            "bundles/", "", "the pack has no policy bundles (bundles/<HOLDER>/<folder>/bundle.yaml)"
        )
    bundles = [load_bundle(folder, root, catalog, shared_schema) for folder in folders]
    seen: dict[tuple[str, dt.date], PolicyBundle] = {}
    for bundle in bundles:
        key = (bundle.holder, bundle.effective_from)
        if key in seen:
            raise PackError(
                f"{bundle.folder}/bundle.yaml",
                "effective_from",
                f"{bundle.holder} already has a bundle from {bundle.effective_from} ({seen[key].folder})",
            )
        seen[key] = bundle
    stock_path = root / STOCK_FILE
    stock = load_stock_figures(
        read_yaml(stock_path, STOCK_FILE) if stock_path.exists() else None, catalog
    )
    return ScenarioPack(
        root=root,
        name=str(meta.get("name", root.name)),
        description=str(meta.get("description", "")),
        catalog=catalog,
        history=BundleHistory(bundles),
        case_files=tuple(sorted((root / "cases").glob("*.yaml"))),
        stock=stock,
        closures=_closures(meta.get("closures")),
    )
