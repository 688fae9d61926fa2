"""The documentation cannot drift from the code.

- docs/cli.md is exactly what scripts/gen_cli_docs.py generates from the real --help;
- every command is documented, and every option is in the settings table;
- every environment variable of clearance.settings is in the settings table, and the
  table names no CLEARANCE_ variable that clearance would refuse;
- every error class, with its code, exit status and HTTP status, is in docs/formats.md;
- every key of a real decision, at every level, is in docs/formats.md, and the
  key tables list no key that a decision does not have;
- every key of a real case, case list, ledger export line, event body, signed
  statement and audit report is in docs/formats.md; every case state and event type
  too; and the documented ways of checking a ledger export and a signature, run on a
  real export and a real signature, agree with clearance;
- every policy annotation the loader accepts is in docs/policy-authoring.md;
- every relative link between the documents leads to a file and heading that exist.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import clearance.errors
from clearance.cli.app import main
from clearance.core.chain import EventType
from clearance.core.request import parse_request
from clearance.core.workflow import CaseState
from clearance.errors import RequestError
from clearance.policy.bundle import KNOWN_ANNOTATIONS
from clearance.policy.engine import Screener
from clearance.settings import SETTINGS

from .conftest import NOW

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CLI_DOC = DOCS / "cli.md"
FORMATS = DOCS / "formats.md"
AUTHORING = DOCS / "policy-authoring.md"
CONFIGURATION = DOCS / "configuration.md"

# Written with the benchmarks, not with these documents; linked before it exists.
MAY_BE_ABSENT = {DOCS / "benchmarks.md"}


def _load_generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_cli_docs.py"
    spec = importlib.util.spec_from_file_location("gen_cli_docs", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_cli_docs = _load_generator()


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _flat(text: str) -> str:
    """Text with every run of white space made one space, so wrapped lines still match."""
    return " ".join(text.split())


def _documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


@pytest.fixture(scope="module")
def generated_cli_doc() -> str:
    return str(gen_cli_docs.render())


# --- (a) the CLI reference is generated, and current ---------------------------------


def test_cli_reference_is_current(generated_cli_doc: str) -> None:
    current = _read(CLI_DOC) if CLI_DOC.exists() else ""
    assert current == generated_cli_doc, (
        f"docs/cli.md is out of date with the commands' --help: run `{gen_cli_docs.REGENERATE}`"
    )


# --- (b) every command is documented --------------------------------------------------

COMMANDS: list[tuple[str, ...]] = gen_cli_docs.commands()


def test_the_command_list_is_complete() -> None:
    assert {("screen",), ("explain",), ("catalog", "holders"), ("policy", "test")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) or "clearance" for p in COMMANDS])
def test_every_command_is_documented(path: tuple[str, ...]) -> None:
    name = " ".join(("clearance", *path))
    assert f"## `{name}`" in _read(CLI_DOC), (
        f"'{name}' is missing from docs/cli.md: run `{gen_cli_docs.REGENERATE}`"
    )
    prose = [README, *(p for p in sorted(DOCS.glob("*.md")) if p != CLI_DOC)]
    assert any(name in _flat(_read(p)) for p in prose), (
        f"'{name}' is not mentioned in README.md or docs/ (other than docs/cli.md)"
    )


def _options() -> Iterator[str]:
    import typer.main

    from clearance.cli.app import app

    def walk(command: Any) -> Iterator[str]:
        for param in command.params:
            if param.param_type_name == "option":
                yield from (o for o in param.opts if o.startswith("--"))
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    yield from sorted(set(walk(typer.main.get_command(app))) - {"--help", "--version"})


@pytest.mark.parametrize("option", list(_options()))
def test_every_option_is_in_the_settings_table(option: str) -> None:
    rows = [line for line in _read(CONFIGURATION).splitlines() if line.startswith("| `--")]
    assert any(line.startswith(f"| `{option}") for line in rows), (
        f"option {option} is not in the settings table of docs/configuration.md"
    )


def _settings_table() -> list[str]:
    """The rows of the table under '## Settings' in docs/configuration.md."""
    section = _read(CONFIGURATION).split("## Settings\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")]


ENVIRONMENT = sorted({*SETTINGS, "CLEARANCE_PASSPHRASE"})


@pytest.mark.parametrize("name", ENVIRONMENT)
def test_every_environment_variable_is_in_the_settings_table(name: str) -> None:
    assert any(f"`{name}`" in row for row in _settings_table()), (
        f"environment variable {name} is not in the settings table of docs/configuration.md"
    )


def test_the_settings_table_names_no_unknown_variable() -> None:
    named = {n for row in _settings_table() for n in re.findall(r"CLEARANCE_[A-Z_]+", row)}
    assert named - set(ENVIRONMENT) == set(), "clearance refuses these variables"


# --- (c) every error is documented with its code --------------------------------------

ERRORS = [
    value
    for name, value in inspect.getmembers(clearance.errors, inspect.isclass)
    if issubclass(value, clearance.errors.ClearanceError)
]


@pytest.mark.parametrize("error", ERRORS, ids=[e.__name__ for e in ERRORS])
def test_every_error_is_documented_with_its_code(
    error: type[clearance.errors.ClearanceError],
) -> None:
    row = f"| `{error.__name__}` | `{error.code}` | {error.exit_code} | {error.http_status} |"
    assert row in _read(FORMATS), f"docs/formats.md has no error table row starting {row!r}"


def test_the_error_codes_are_distinct() -> None:
    assert len({e.code for e in ERRORS}) == len(ERRORS)


# --- (d) every key of a real decision is documented -----------------------------------


def _decision(request: dict[str, Any], screener: Screener) -> dict[str, Any]:
    decision = screener.decide(parse_request(request), decision_id="docs", now=NOW)
    return decision.as_dict()


@pytest.fixture(scope="module")
def decisions(screener: Screener) -> list[dict[str, Any]]:
    """Real decisions that between them fill every part of the record."""
    storm_shadow = {
        "action": "employ",
        "requester": "UA",
        "system": "storm-shadow",
        "quantity": 2,
        "target": {"territory": "RU"},
        "date": "2025-06-15",
    }
    eram = {
        "action": "transfer",
        "requester": "US",
        "recipient": "UA",
        "system": "eram",
        "quantity": 3350,
        "funding": "european-partners",
        "date": "2025-08-28",
    }
    found = [_decision(storm_shadow, screener), _decision(eram, screener)]
    assert found[0]["required_approvals"], "the Storm Shadow decision should need an approval"
    assert found[1]["conditions"], "the ERAM decision should carry a condition"
    return found


def _keys(decisions: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The keys at each level of a decision record."""
    holders = [h for d in decisions for h in d["holders"]]
    return {
        "Top-level keys": {k for d in decisions for k in d},
        "Holder object": {k for h in holders for k in h},
        "Path object": {k for h in holders for p in h["paths"] for k in p},
        "Approval object": {k for d in decisions for a in d["required_approvals"] for k in a},
    }


def _table_keys(text: str, heading: str) -> set[str]:
    """The `key`s in the first column of the table under ``### heading``."""
    section = text.split(f"### {heading}\n", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def test_every_decision_key_is_documented(decisions: list[dict[str, Any]]) -> None:
    text = _read(FORMATS)
    for heading, keys in _keys(decisions).items():
        documented = _table_keys(text, heading)
        assert keys - documented == set(), f"undocumented under '{heading}' in docs/formats.md"
        assert documented - keys == set(), f"documented under '{heading}' but not in a decision"


def test_stream_records_are_documented() -> None:
    text = _read(FORMATS)
    error = RequestError("date", "must be a date written YYYY-MM-DD")
    record = {"line": 1, "error": error.message, **error.as_dict()}
    for key in record:
        assert f"| `{key}` |" in text, f"stream error record key '{key}' is not in docs/formats.md"
    assert '{"line":1,"decision_id"' in text


def test_every_request_field_is_documented() -> None:
    from clearance.core.request import EmployRequest, Target, TransferRequest

    fields = {*EmployRequest.model_fields, *TransferRequest.model_fields}
    fields |= {f"target.{name}" for name in Target.model_fields}
    text = _read(FORMATS)
    for field in fields:
        assert f"| `{field}` |" in text, f"request field '{field}' is not in docs/formats.md"


# --- cases, the ledger and signatures, as the commands write them ----------------------

G2 = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}
ERAM = {
    "action": "transfer",
    "requester": "US",
    "recipient": "UA",
    "system": "eram",
    "quantity": 3350,
    "funding": "european-partners",
    "date": "2025-08-28",
}


@dataclass(frozen=True)
class Outputs:
    """What the case and audit commands wrote, on a SQLite database of their own."""

    denied: dict[str, Any]
    conditional: dict[str, Any]
    listing: dict[str, Any]
    export: Path
    report: dict[str, Any]
    users: list[dict[str, Any]]
    verification: dict[str, Any]


def _run(*args: str) -> str:
    """Run one ``clearance`` command in this process; return its standard output."""
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code
    assert not code, f"clearance {' '.join(args)}: {err.getvalue()}"
    return out.getvalue()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    folder = tmp_path_factory.mktemp("cases")
    with pytest.MonkeyPatch.context() as env:
        for name in [n for n in os.environ if n.startswith("CLEARANCE_")]:
            env.delenv(name)
        env.setenv("CLEARANCE_DATA_DIR", str(folder / "data"))
        env.setenv("CLEARANCE_PASSPHRASE", "a passphrase for the documents")
        _run("init")
        for user, party in [("ua.liaison", "UA"), ("us.liaison", "US"), ("secdef", "US")]:
            _run("users", "add", user, "--name", user, "--party", party)
        _run("users", "grant", "secdef", "us.secdef", "--from", "2025-01-25")
        requests = {"g2": G2, "eram": ERAM}
        for name, request in requests.items():
            (folder / f"{name}.json").write_text(json.dumps(request), encoding="utf-8")
        _run("cases", "submit", str(folder / "g2.json"), "--as", "ua.liaison")
        _run("cases", "deny", "1", "--as", "secdef", "--reason", "Not now.")
        _run("cases", "submit", str(folder / "eram.json"), "--as", "us.liaison")
        condition = "European partners fund the purchase"
        _run("cases", "condition-met", "2", "--as", "us.liaison", "--condition", condition,
             "--evidence", "a letter")  # fmt: skip
        denied = json.loads(_run("cases", "show", "1", "--json"))
        export = folder / "ledger.jsonl"
        _run("audit", "export", "--out", str(export))
        users = _run("users", "list", "--json")
        (folder / "users.json").write_text(users, encoding="utf-8")
        (folder / "case.json").write_text(json.dumps(denied), encoding="utf-8")
        keys = ("--keys", str(folder / "users.json"))
        return Outputs(
            denied=denied,
            conditional=json.loads(_run("cases", "show", "2", "--json")),
            listing=json.loads(_run("cases", "list", "--all", "--json")),
            export=export,
            report=json.loads(_run("audit", "verify", "--json")),
            users=json.loads(users),
            verification=json.loads(
                _run("verify-decision", str(folder / "case.json"), *keys, "--json")
            ),
        )


def _section(text: str, heading: str) -> str:
    """The text under ``### heading``, up to the next heading."""
    return text.split(f"### {heading}\n", 1)[1].split("\n#", 1)[0]


def _export_lines(outputs: Outputs) -> list[dict[str, Any]]:
    lines = outputs.export.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_case_key_is_documented(outputs: Outputs) -> None:
    case = outputs.denied
    assert case["approvals"], "the denied case should carry a signed answer"
    assert outputs.conditional["conditions"], "the ERAM case should carry a condition"
    found = {
        "Case object": set(case),
        "Answer object": {k for a in case["approvals"] for k in a},
        "Condition object": {k for c in outputs.conditional["conditions"] for k in c},
        "Event object": {k for e in case["events"] for k in e},
        "Statement": {k for a in case["approvals"] for k in json.loads(a["statement"])},
    }
    text = _read(FORMATS)
    for heading, keys in found.items():
        documented = _table_keys(text, heading)
        assert keys - documented == set(), f"undocumented under '{heading}' in docs/formats.md"
        assert documented - keys == set(), f"documented under '{heading}' but not written"


def test_every_case_state_is_documented() -> None:
    documented = _table_keys(_read(FORMATS), "Case states")
    assert documented == {s.value for s in CaseState}


def test_case_lists_are_documented(outputs: Outputs) -> None:
    section = _section(_read(FORMATS), "Case lists")
    rows = outputs.listing["cases"]
    assert rows, "the list should hold the cases"
    for key in {*outputs.listing, *(k for row in rows for k in row)}:
        assert f"`{key}`" in section, f"case list key '{key}' is not in docs/formats.md"


def test_the_ledger_is_documented(outputs: Outputs) -> None:
    lines = _export_lines(outputs)
    bodies = [json.loads(line["body"]) for line in lines]
    text = _read(FORMATS)
    assert _table_keys(text, "Ledger export") == {k for line in lines for k in line}
    assert _table_keys(text, "Event body") == {k for body in bodies for k in body}
    assert _table_keys(text, "Event types") == {t.value for t in EventType}
    assert _table_keys(text, "Audit report") == set(outputs.report)


def _snippet(heading: str) -> dict[str, Any]:
    """Run the Python code block under ``### heading`` of docs/formats.md; return its names."""
    code = _section(_read(FORMATS), heading).split("```python\n", 1)[1].split("```", 1)[0]
    names: dict[str, Any] = {}
    exec(compile(code, f"docs/formats.md: {heading}", "exec"), names)
    return names


def test_the_documented_ledger_check_agrees_with_clearance(outputs: Outputs) -> None:
    check = _snippet("How the hash is computed")["check"]
    assert outputs.report["ok"]
    assert check(outputs.export) == (outputs.report["events"], outputs.report["head"])
    lines = outputs.export.read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[1])
    event["body"] = event["body"].replace('"party":"US"', '"party":"GB"')
    assert event["body"] != json.loads(lines[1])["body"]
    lines[1] = json.dumps(event)
    tampered = outputs.export.with_name("tampered.jsonl")
    tampered.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="event"):
        check(tampered)


def test_the_documented_signature_check_agrees_with_clearance(outputs: Outputs) -> None:
    from cryptography.exceptions import InvalidSignature

    check_answer = _snippet("Checking a case offline")["check_answer"]
    keys = {u["id"]: u["public_key"] for u in outputs.users}
    answer = outputs.denied["approvals"][0]
    assert outputs.verification["valid"]
    check_answer(answer, keys[answer["actor"]])
    forged = {**answer, "statement": answer["statement"].replace("deny", "approve")}
    with pytest.raises(InvalidSignature):
        check_answer(forged, keys[answer["actor"]])
    section = _section(_read(FORMATS), "Checking a case offline")
    found = {*outputs.verification, *(k for s in outputs.verification["signatures"] for k in s)}
    for key in found:
        assert f"`{key}`" in section or f'"{key}"' in section, f"'{key}' is not documented"


# --- (e) every annotation is documented ----------------------------------------------


@pytest.mark.parametrize("name", sorted({*KNOWN_ANNOTATIONS, "condition"}))
def test_every_annotation_is_documented(name: str) -> None:
    assert f"@{name}(" in _read(AUTHORING), f"@{name} is not in docs/policy-authoring.md"


# --- links ----------------------------------------------------------------------------

_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file (outside code blocks)."""
    anchors: set[str] = set()
    fenced = False
    for line in _read(path).splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return anchors


def _links() -> Iterator[tuple[Path, str]]:
    for document in _documents():
        for target in _LINK.findall(_read(document)):
            if not re.match(r"[a-z]+:", target):
                yield document, target


@pytest.mark.parametrize(
    ("document", "target"), list(_links()), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_relative_links_resolve(document: Path, target: str) -> None:
    file, _, anchor = target.partition("#")
    path = (document.parent / file).resolve() if file else document
    if path in MAY_BE_ABSENT and not path.exists():
        return
    assert path.exists(), f"{document.name} links to missing {file}"
    if anchor:
        assert anchor in _anchors(path), f"{document.name} links to missing #{anchor} in {file}"
