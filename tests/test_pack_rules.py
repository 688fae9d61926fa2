"""How a scenario pack is read and each mistake in it refused, stated on the pure code
(``policy.pack``).

The golden and command tests load the seed pack whole; these build the
smallest packs and bundles (in memory where the code allows, else in a
temporary folder) and state each rule: what a pack holds when loaded, what
each file may be, and every refusal with its file, place and exact words.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from clearance.errors import PackError, PolicySourceError
from clearance.policy.pack import (
    ScenarioPack,
    _closures,
    bundle_from_texts,
    default_pack_path,
    load_bundle,
    load_catalog,
    load_pack,
    parse_yaml,
    read_bundle_texts,
    read_yaml,
)

SEED = default_pack_path()
PERMIT = '@id("permit")\npermit (principal, action, resource);\n'
BUNDLE_YAML = "holder: US\neffective_from: 2020-01-01\ntitle: T\n"


@pytest.fixture(scope="module")
def seed() -> ScenarioPack:
    return load_pack()


def refused(error: pytest.ExceptionInfo[PackError]) -> tuple[str, str, str]:
    return error.value.file, error.value.where, error.value.problem


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def small_pack(root: Path, **extra: str) -> Path:
    """The seed's catalog and schema, and one US bundle that permits everything."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED / "catalog.yaml", root / "catalog.yaml")
    shutil.copy(SEED / "schema.cedarschema", root / "schema.cedarschema")
    files = {"bundles/US/2020/bundle.yaml": BUNDLE_YAML, "bundles/US/2020/p.cedar": PERMIT}
    return write(root, {**files, **extra})


# --- YAML --------------------------------------------------------------------------------


def test_yaml_that_does_not_parse_is_refused_naming_the_line() -> None:
    with pytest.raises(PackError) as error:
        parse_yaml("a: 1\nb: [\n", "x.yaml")
    assert refused(error) == (
        "x.yaml",
        "line 3",
        "YAML does not parse: expected the node content, but found '<stream end>'",
    )
    assert parse_yaml("a: [1, 2]\n", "x.yaml") == {"a": [1, 2]}


def test_a_character_yaml_does_not_allow_is_refused_in_one_line() -> None:
    """PyYAML's reader refuses a control character with no line of its own and a second
    line about ``<unicode string>``; the pack says the first line alone."""
    with pytest.raises(PackError) as error:
        parse_yaml("a: \x07\n", "x.yaml")
    assert refused(error) == (
        "x.yaml",
        "",
        "YAML does not parse: unacceptable character #x0007: special characters are not allowed",
    )
    assert str(error.value).count("\n") == 0


def test_a_date_no_calendar_has_is_refused_as_yaml_that_does_not_parse() -> None:
    """PyYAML reads an unquoted date itself and refuses 30 February with a bare error; the
    pack names the file all the same (a proposal's ``bundle.yaml`` comes from a browser)."""
    with pytest.raises(PackError) as error:
        parse_yaml("effective_from: 2025-02-30\n", "b/bundle.yaml")
    assert refused(error) == (
        "b/bundle.yaml",
        "",
        "YAML does not parse: day is out of range for month",
    )


def test_every_yaml_file_of_the_seed_pack_reads_as_pyyaml_s_own_loader_reads_it() -> None:
    """The pack is read by libyaml where PyYAML has it; the value must be what PyYAML's
    pure loader, the one its errors come from, makes of the same text."""
    files = sorted(SEED.rglob("*.yaml"))
    assert len(files) > 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert parse_yaml(text, path.name) == yaml.safe_load(text), path


@pytest.mark.parametrize("depth", [3000, 100_000])
def test_yaml_nested_too_deep_is_refused_naming_the_file(depth: int) -> None:
    """A pack file could hold lists nested past what PyYAML's loader recurses (it made
    ``policy validate`` end in a RecursionError's traceback): a refusal in words."""
    with pytest.raises(PackError) as error:
        parse_yaml("a: " + "[" * depth + "]" * depth + "\n", "catalog.yaml")
    assert refused(error) == ("catalog.yaml", "", "YAML does not parse: nested too deep")


def test_a_yaml_tag_that_is_not_safe_is_refused_naming_its_line() -> None:
    with pytest.raises(PackError) as error:
        parse_yaml("a: !!python/name:os.system\n", "x.yaml")
    file, where, problem = refused(error)
    assert (file, where) == ("x.yaml", "line 1")
    assert problem.startswith("YAML does not parse: could not determine a constructor")


def test_a_file_that_cannot_be_read_is_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(PackError) as missing:
        read_yaml(tmp_path / "none.yaml", "none.yaml")
    assert refused(missing) == ("none.yaml", "", "file not found")
    (tmp_path / "bad.yaml").write_bytes(b"a: 1\n" * 300 + b"\xff")
    with pytest.raises(PackError) as binary:
        read_yaml(tmp_path / "bad.yaml", "bad.yaml")
    assert refused(binary) == ("bad.yaml", "", "not UTF-8 text (byte 1,501 cannot be read)")


# --- the catalog -------------------------------------------------------------------------


def test_a_catalog_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"catalog.yaml": "- a\n"})
    with pytest.raises(PackError) as error:
        load_catalog(tmp_path)
    assert refused(error) == ("catalog.yaml", "", "must be a YAML mapping")


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        ({"colour": "red"}, "colour", "is not a known field"),
        ({"parties": "US"}, "parties", "Input should be a valid tuple"),
        ({"parties": [{"code": "US"}]}, "parties[0].name", "Field required"),
        ({"systems": [{"id": "x"}]}, "systems[0].name", "Field required"),
    ],
)
def test_a_wrong_catalog_entry_is_refused_naming_its_place(
    tmp_path: Path, change: dict[str, Any], where: str, problem: str
) -> None:
    data = yaml.safe_load((SEED / "catalog.yaml").read_text(encoding="utf-8"))
    write(tmp_path, {"catalog.yaml": yaml.safe_dump({**data, **change})})
    with pytest.raises(PackError) as error:
        load_catalog(tmp_path)
    assert refused(error) == ("catalog.yaml", where, problem)


def test_a_catalog_whose_entries_do_not_fit_is_refused_naming_the_entry(tmp_path: Path) -> None:
    data = yaml.safe_load((SEED / "catalog.yaml").read_text(encoding="utf-8"))
    data["parties"].append(dict(data["parties"][0]))
    write(tmp_path, {"catalog.yaml": yaml.safe_dump(data)})
    with pytest.raises(PackError) as error:
        load_catalog(tmp_path)
    assert refused(error) == ("catalog.yaml", "parties[10]", "duplicate id 'US'")


def test_a_catalog_that_is_not_a_list_of_anything_is_refused_at_the_top(tmp_path: Path) -> None:
    write(tmp_path, {"catalog.yaml": "{}\n"})
    with pytest.raises(PackError) as error:
        load_catalog(tmp_path)
    file, where, _ = refused(error)
    assert (file, where) == ("catalog.yaml", "parties")


# --- a pack ------------------------------------------------------------------------------


def test_a_small_pack_loads_whole(tmp_path: Path) -> None:
    root = small_pack(
        tmp_path / "p",
        **{
            "pack.yaml": "name: small\ndescription: one bundle\n",
            "cases/b.yaml": "cases: []\n",
            "cases/a.yaml": "cases: []\n",
            "cases/notes.txt": "",
        },
    )
    pack = load_pack(root)
    assert (pack.root, pack.name, pack.description) == (root, "small", "one bundle")
    assert pack.case_files == (root / "cases/a.yaml", root / "cases/b.yaml")
    (bundle,) = pack.history
    assert (bundle.holder, bundle.folder, bundle.title) == ("US", "bundles/US/2020", "T")
    assert pack.stock.positions == ()
    assert pack.closures == {}
    assert pack.relative(root / "cases/a.yaml") == "cases/a.yaml"
    assert pack.relative(Path("/elsewhere/x")) == "/elsewhere/x"
    assert load_pack(str(root)).name == "small"


def test_a_pack_without_pack_yaml_is_named_by_its_folder(tmp_path: Path) -> None:
    pack = load_pack(small_pack(tmp_path / "mine"))
    assert (pack.name, pack.description) == ("mine", "")


def test_the_default_pack_is_the_seed(seed: ScenarioPack) -> None:
    """``load_pack()`` with no folder loads the seed shipped inside the package."""
    assert default_pack_path() == Path(__file__).parent.parent / "src/clearance/scenarios/seed"
    assert (seed.root, seed.name) == (default_pack_path(), "seed")


def test_a_pack_reads_its_stock_figures(tmp_path: Path) -> None:
    stock = "opened_on: 2022-02-24\npositions:\n  - {holder: US, system: atacms, on_hand: 5}\n"
    pack = load_pack(small_pack(tmp_path / "p", **{"stockpile.yaml": stock}))
    assert pack.stock.opening("US", "atacms", dt.date(2022, 2, 24)) == 5


@pytest.mark.parametrize(
    ("setup", "file", "problem"),
    [
        ("nothing", "{root}", "not a folder"),
        ("empty", "{root}", "not a scenario pack: it has no catalog.yaml"),
        (
            "no bundles",
            "bundles/",
            "the pack has no policy bundles (bundles/<HOLDER>/<folder>/bundle.yaml)",
        ),
    ],
)
def test_what_is_not_a_pack_is_refused(tmp_path: Path, setup: str, file: str, problem: str) -> None:
    root = tmp_path / "p"
    if setup != "nothing":
        root.mkdir()
    if setup == "no bundles":
        shutil.copy(SEED / "catalog.yaml", root / "catalog.yaml")
    with pytest.raises(PackError) as error:
        load_pack(root)
    assert refused(error) == (file.format(root=root), "", problem)


def test_a_pack_yaml_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackError) as error:
        load_pack(small_pack(tmp_path / "p", **{"pack.yaml": "- a\n"}))
    assert refused(error) == ("pack.yaml", "", "must be a YAML mapping")


def test_two_bundles_of_a_holder_from_one_day_are_refused(tmp_path: Path) -> None:
    root = small_pack(
        tmp_path / "p",
        **{"bundles/US/2020b/bundle.yaml": BUNDLE_YAML, "bundles/US/2020b/p.cedar": PERMIT},
    )
    with pytest.raises(PackError) as error:
        load_pack(root)
    assert refused(error) == (
        "bundles/US/2020b/bundle.yaml",
        "effective_from",
        "US already has a bundle from 2020-01-01 (bundles/US/2020)",
    )


def test_bundles_of_a_pack_are_loaded_in_folder_order_and_by_date(tmp_path: Path) -> None:
    root = small_pack(
        tmp_path / "p",
        **{
            "bundles/US/2019/bundle.yaml": BUNDLE_YAML.replace("2020", "2021"),
            "bundles/US/2019/p.cedar": PERMIT,
            "bundles/GB/x/bundle.yaml": BUNDLE_YAML.replace("US", "GB"),
            "bundles/GB/x/p.cedar": PERMIT,
        },
    )
    pack = load_pack(root)
    assert [(b.holder, b.folder) for b in pack.history] == [
        ("GB", "bundles/GB/x"),
        ("US", "bundles/US/2020"),
        ("US", "bundles/US/2019"),
    ]


# --- closures ----------------------------------------------------------------------------


def test_closures_are_days_per_calendar() -> None:
    value = [
        {"calendar": "US", "day": dt.date(2024, 12, 24), "reason": "decree"},
        {"calendar": "US", "day": dt.date(2025, 12, 24), "reason": "decree"},
        {"calendar": "GB", "day": dt.date(2025, 1, 2), "reason": "decree"},
    ]
    assert _closures(value) == {
        "US": frozenset({dt.date(2024, 12, 24), dt.date(2025, 12, 24)}),
        "GB": frozenset({dt.date(2025, 1, 2)}),
    }
    assert _closures(None) == {}
    assert _closures([]) == {}


GOOD = {"calendar": "US", "day": dt.date(2024, 12, 24), "reason": "decree"}


@pytest.mark.parametrize(
    ("value", "where", "problem"),
    [
        ({"calendar": "US"}, "closures", "must be a list of {calendar, day, reason}"),
        ([GOOD, "US"], "closures[2]", "must be {calendar, day, reason}"),
        ([{**GOOD, "why": "x"}], "closures[1]", "must be {calendar, day, reason}"),
        (
            [{"calendar": "US", "day": GOOD["day"]}],
            "closures[1]",
            "must be {calendar, day, reason}",
        ),
        ([{**GOOD, "calendar": 1}], "closures[1].calendar", "must be a country code such as US"),
        (
            [{**GOOD, "calendar": "XX"}],
            "closures[1].calendar",
            "'XX' is not a country with a known public-holiday calendar",
        ),
        ([{**GOOD, "day": "2024-12-24"}], "closures[1].day", "must be a date written YYYY-MM-DD"),
        (
            [{**GOOD, "day": dt.datetime(2024, 12, 24, 9)}],
            "closures[1].day",
            "must be a date written YYYY-MM-DD",
        ),
        ([{**GOOD, "reason": " "}], "closures[1].reason", "must say why the offices closed"),
        ([{**GOOD, "reason": 5}], "closures[1].reason", "must say why the offices closed"),
    ],
)
def test_a_wrong_closure_is_refused_naming_its_place(value: Any, where: str, problem: str) -> None:
    with pytest.raises(PackError) as error:
        _closures(value)
    assert refused(error) == ("pack.yaml", where, problem)


def test_a_pack_reads_its_closures(tmp_path: Path) -> None:
    closures = "closures:\n  - {calendar: US, day: 2024-12-24, reason: decree}\n"
    pack = load_pack(small_pack(tmp_path / "p", **{"pack.yaml": closures}))
    assert pack.closures == {"US": frozenset({dt.date(2024, 12, 24)})}


# --- one bundle --------------------------------------------------------------------------


def test_a_bundle_folder_is_read_with_its_own_schema_and_entities(tmp_path: Path) -> None:
    root = small_pack(tmp_path / "p")
    folder = write(
        root / "bundles/US/2020",
        {
            "schema.cedarschema": (SEED / "schema.cedarschema").read_text(encoding="utf-8"),
            "entities.json": "[]",
            "q.cedar": '@id("q")\nforbid (principal, action, resource) when { false };\n',
        },
    )
    pack = load_pack(root)
    bundle = load_bundle(folder, root, pack.catalog, None)
    assert [(p.id, p.file) for p in bundle.policies] == [
        ("permit", "bundles/US/2020/p.cedar"),
        ("q", "bundles/US/2020/q.cedar"),
    ]
    assert read_bundle_texts(folder) == {
        "bundle.yaml": BUNDLE_YAML,
        "schema.cedarschema": (SEED / "schema.cedarschema").read_text(encoding="utf-8"),
        "entities.json": "[]",
        "p.cedar": PERMIT,
        "q.cedar": '@id("q")\nforbid (principal, action, resource) when { false };\n',
    }


def test_a_bundle_without_a_schema_anywhere_is_refused(tmp_path: Path) -> None:
    root = small_pack(tmp_path / "p")
    pack = load_pack(root)
    folder = root / "bundles/US/2020"
    with pytest.raises(PackError) as none:
        load_bundle(folder, root, pack.catalog, None)
    assert refused(none) == (
        "bundles/US/2020",
        "",
        "no schema.cedarschema in the bundle or the pack",
    )
    with pytest.raises(PackError) as gone:
        load_bundle(folder, root, pack.catalog, root / "gone.cedarschema")
    assert refused(gone) == (
        "bundles/US/2020",
        "",
        "no schema.cedarschema in the bundle or the pack",
    )


def test_a_bundle_yaml_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    root = small_pack(tmp_path / "p", **{"bundles/US/2020/bundle.yaml": "- US\n"})
    with pytest.raises(PackError) as error:
        load_pack(root)
    assert refused(error) == ("bundles/US/2020/bundle.yaml", "", "must be a YAML mapping")


def test_a_bundle_s_wrong_schema_is_refused_by_the_schema_s_name(tmp_path: Path) -> None:
    schema = (SEED / "schema.cedarschema").read_text(encoding="utf-8")
    root = small_pack(
        tmp_path / "p",
        **{"bundles/US/2020/schema.cedarschema": schema.replace("    target?: Target,\n", "")},
    )
    with pytest.raises(PolicySourceError) as error:
        load_pack(root)
    assert error.value.file == "bundles/US/2020/schema.cedarschema"
    assert error.value.problem.startswith("schema does not accept employ requests: ")


def test_what_is_not_a_bundle_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackError) as nothing:
        read_bundle_texts(tmp_path / "none")
    assert refused(nothing) == (str(tmp_path / "none"), "", "not a folder")
    with pytest.raises(PackError) as empty:
        read_bundle_texts(tmp_path)
    assert refused(empty) == (str(tmp_path), "", "not a bundle: it has no bundle.yaml")


def test_a_bundle_file_that_cannot_be_read_is_named_folder_and_file(tmp_path: Path) -> None:
    folder = write(tmp_path / "b", {"bundle.yaml": BUNDLE_YAML})
    (folder / "p.cedar").write_bytes(b"\xff")
    with pytest.raises(PackError) as error:
        read_bundle_texts(folder)
    assert refused(error) == ("b/p.cedar", "", "not UTF-8 text (byte 1 cannot be read)")


# --- a bundle from texts -----------------------------------------------------------------


def test_a_bundle_from_texts_is_built_against_the_pack(seed: ScenarioPack) -> None:
    bundle = bundle_from_texts(
        {"bundle.yaml": BUNDLE_YAML, "b.cedar": PERMIT.replace('permit"', 'b"'), "a.cedar": PERMIT},
        seed,
        "proposal",
    )
    assert bundle.folder == "proposal"
    assert [(p.id, p.file) for p in bundle.policies] == [
        ("permit", "proposal/a.cedar"),
        ("b", "proposal/b.cedar"),
    ]


def test_a_bundle_from_texts_may_bring_its_schema_and_entities(seed: ScenarioPack) -> None:
    schema = (SEED / "schema.cedarschema").read_text(encoding="utf-8")
    texts = {"bundle.yaml": BUNDLE_YAML, "p.cedar": PERMIT, "entities.json": "{}"}
    with pytest.raises(PolicySourceError) as entities:
        bundle_from_texts(texts, seed, "prop")
    assert (entities.value.file, entities.value.problem) == (
        "prop/entities.json",
        "must be a JSON list of entities",
    )
    broken = {
        "bundle.yaml": BUNDLE_YAML,
        "p.cedar": PERMIT,
        "schema.cedarschema": schema.replace("    target?: Target,\n", ""),
    }
    with pytest.raises(PolicySourceError) as own:
        bundle_from_texts(broken, seed, "prop")
    assert own.value.file == "prop/schema.cedarschema"
    assert own.value.problem.startswith("schema does not accept employ requests: ")
    shared = {
        "bundle.yaml": BUNDLE_YAML,
        "p.cedar": '@id("x")\npermit (principal, action, resource) when { context.colour };\n',
    }
    with pytest.raises(PolicySourceError) as invalid:
        bundle_from_texts(shared, seed, "prop")
    assert invalid.value.file == "prop/p.cedar"


def test_a_bundle_from_texts_without_a_schema_reads_the_packs_naming_it(
    seed: ScenarioPack, tmp_path: Path
) -> None:
    bare = dataclasses.replace(seed, root=tmp_path)  # a pack folder with no shared schema
    with pytest.raises(PackError) as error:
        bundle_from_texts({"bundle.yaml": BUNDLE_YAML, "p.cedar": PERMIT}, bare, "prop")
    assert refused(error)[:2] == ("schema.cedarschema", "")


def test_a_mistake_in_the_bundle_yaml_of_texts_names_it(seed: ScenarioPack) -> None:
    texts = {"bundle.yaml": BUNDLE_YAML + "sources: 5\n", "p.cedar": PERMIT}
    with pytest.raises(PackError) as error:
        bundle_from_texts(texts, seed, "prop")
    assert refused(error) == ("prop/bundle.yaml", "sources", "must be a list of texts")


def test_catalog_entities_that_do_not_fit_an_own_schema_name_the_schema(
    seed: ScenarioPack,
) -> None:
    schema = (SEED / "schema.cedarschema").read_text(encoding="utf-8")
    texts = {
        "bundle.yaml": BUNDLE_YAML,
        "p.cedar": PERMIT,
        "schema.cedarschema": schema.replace("  range_km: Long,", "  range_km: String,"),
    }
    with pytest.raises(PolicySourceError) as error:
        bundle_from_texts(texts, seed, "prop")
    assert error.value.file == "prop/schema.cedarschema"
    assert error.value.problem.startswith("entities do not fit the schema: ")


def test_an_own_schema_that_leaves_stockpile_out_is_accepted(seed: ScenarioPack) -> None:
    schema = (SEED / "schema.cedarschema").read_text(encoding="utf-8")
    without = schema.replace("    stockpile?: Stockpile,\n", "")
    assert without != schema
    texts = {"bundle.yaml": BUNDLE_YAML, "p.cedar": PERMIT, "schema.cedarschema": without}
    assert [p.id for p in bundle_from_texts(texts, seed, "prop").policies] == ["permit"]


@pytest.mark.parametrize(
    ("texts", "file", "where", "problem"),
    [
        (
            {"bundle.yaml": BUNDLE_YAML, "p.cedar": PERMIT, "notes.txt": "", "a.md": ""},
            "prop/a.md",
            "",
            "is not a bundle file (bundle.yaml, *.cedar, schema.cedarschema, entities.json)",
        ),
        ({"p.cedar": PERMIT}, "prop", "", "a bundle needs a bundle.yaml"),
        (
            {"bundle.yaml": "[1]", "p.cedar": PERMIT},
            "prop/bundle.yaml",
            "",
            "must be a YAML mapping",
        ),
        ({"bundle.yaml": "a: [", "p.cedar": PERMIT}, "prop/bundle.yaml", "line 1", None),
    ],
)
def test_a_wrong_bundle_from_texts_is_refused_naming_the_file(
    seed: ScenarioPack, texts: dict[str, str], file: str, where: str, problem: str | None
) -> None:
    with pytest.raises(PackError) as error:
        bundle_from_texts(texts, seed, "prop")
    got = refused(error)
    assert got[:2] == (file, where)
    if problem is not None:
        assert got[2] == problem


# --- a copy of the seed pack with one file broken ----------------------------------------

BUNDLE = "bundles/US/2024-11-17"


def seed_copy(tmp_path: Path) -> Path:
    root = tmp_path / "seed"
    shutil.copytree(default_pack_path(), root)
    return root


@pytest.mark.parametrize(
    "file", ["pack.yaml", "catalog.yaml", f"{BUNDLE}/bundle.yaml", "stockpile.yaml"]
)
def test_yaml_that_does_not_parse_in_a_pack_names_the_file_and_line(
    tmp_path: Path, file: str
) -> None:
    root = seed_copy(tmp_path)
    path = root / file
    path.write_text("a: b: c\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(PackError) as error:
        load_pack(root)
    assert refused(error) == (
        file,
        "line 1",
        "YAML does not parse: mapping values are not allowed here",
    )


@pytest.mark.parametrize(
    "file",
    [
        "schema.cedarschema",
        f"{BUNDLE}/schema.cedarschema",
        f"{BUNDLE}/policies.cedar",
        f"{BUNDLE}/entities.json",
    ],
)
def test_a_pack_file_that_is_not_utf8_is_refused_by_its_name(tmp_path: Path, file: str) -> None:
    root = seed_copy(tmp_path)
    (root / file).write_bytes(b"\xff")
    with pytest.raises(PackError) as error:
        load_pack(root)
    assert refused(error) == (file, "", "not UTF-8 text (byte 1 cannot be read)")


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("{}", "", "must be a JSON list of entities"),
        ("[\n  {,\n]", "line 2", "Expecting property name enclosed in double quotes"),
    ],
)
def test_a_bundle_s_wrong_entities_json_is_refused_by_its_name(
    tmp_path: Path, text: str, where: str, problem: str
) -> None:
    root = seed_copy(tmp_path)
    (root / BUNDLE / "entities.json").write_text(text, encoding="utf-8")
    with pytest.raises(PolicySourceError) as error:
        load_pack(root)
    assert refused(error) == (f"{BUNDLE}/entities.json", where, problem)


def test_catalog_entities_that_do_not_fit_a_bundle_s_schema_name_the_schema(
    tmp_path: Path,
) -> None:
    """With no ``entities.json`` in the bundle, the schema is the file to blame."""
    root = seed_copy(tmp_path)
    schema = (root / "schema.cedarschema").read_text(encoding="utf-8")
    (root / BUNDLE / "schema.cedarschema").write_text(
        schema.replace("  range_km: Long,", "  range_km: String,"), encoding="utf-8"
    )
    with pytest.raises(PolicySourceError) as error:
        load_pack(root)
    assert refused(error) == (
        f"{BUNDLE}/schema.cedarschema",
        "",
        "entities do not fit the schema: entity does not conform to the schema",
    )


def test_a_bundle_s_own_schema_may_leave_stockpile_out(tmp_path: Path) -> None:
    root = seed_copy(tmp_path)
    schema = (root / "schema.cedarschema").read_text(encoding="utf-8")
    without = schema.replace("    stockpile?: Stockpile,\n", "")
    assert without != schema
    (root / BUNDLE / "schema.cedarschema").write_text(without, encoding="utf-8")
    pack = load_pack(root)
    assert next(b for b in pack.history if b.folder == BUNDLE).holder == "US"


def test_a_wrong_field_of_a_bundle_yaml_in_a_pack_names_the_file_and_field(
    tmp_path: Path,
) -> None:
    root = seed_copy(tmp_path)
    path = root / BUNDLE / "bundle.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "colour: red\n", encoding="utf-8")
    with pytest.raises(PackError) as error:
        load_pack(root)
    assert refused(error) == (f"{BUNDLE}/bundle.yaml", "colour", "is not a known field")
