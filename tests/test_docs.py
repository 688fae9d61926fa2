"""The documentation cannot drift from the code.

- docs/cli.md is exactly what scripts/gen_cli_docs.py generates from the real --help;
- every command is documented, and every option is in the settings table, with the
  environment variable it reads;
- every environment variable of clearance.settings, and every one an option reads, is
  in the settings table, and the table names no CLEARANCE_ variable that clearance
  would refuse;
- every error class, with its code, exit status and HTTP status, is in docs/formats.md,
  and with its HTTP status in the error table of docs/api.md;
- every key of a real decision, at every level, is in docs/formats.md, and the
  key tables list no key that a decision does not have;
- every key of a real case, case list, re-screening, ledger export line, event body,
  event payload, signed statement and audit report is in docs/formats.md; every case
  state and event type too; and the documented ways of checking a ledger export and a
  signature, run on a real export and a real signature, agree with clearance;
- every problem verify-decision reports on a tampered case is in docs/formats.md, and
  re-screening twice records its finding once, as docs/operations.md says;
- every policy annotation the loader accepts is in docs/policy-authoring.md;
- every route of the server's OpenAPI document is in the route table of docs/api.md,
  and the table has no route the server does not; the demo users there are the real
  ones; every classification level and role is in docs/access.md; every security
  header and metric of the server is in docs/operations.md;
- every function with a line marked ``# pragma: no mutate`` is in the table of lines left
  unmutated in docs/testing.md, and the table names no function without one;
- every relative link between the documents leads to a file and heading that exist.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import inspect
import io
import json
import os
import re
import shutil
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
from clearance.policy.pack import default_pack_path
from clearance.settings import SETTINGS, load_settings

from .conftest import NOW

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CLI_DOC = DOCS / "cli.md"
FORMATS = DOCS / "formats.md"
AUTHORING = DOCS / "policy-authoring.md"
CONFIGURATION = DOCS / "configuration.md"
API = DOCS / "api.md"
ACCESS = DOCS / "access.md"
OPERATIONS = DOCS / "operations.md"
TESTING = DOCS / "testing.md"
SOURCE = ROOT / "src" / "clearance"

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


def _option_params() -> Iterator[tuple[str, str | None]]:
    """``(option, environment variable or None)`` for every option of every command."""
    import typer.main

    from clearance.cli.app import whole_app

    def walk(command: Any) -> Iterator[tuple[str, str | None]]:
        for param in command.params:
            if param.param_type_name == "option":
                envvar = param.envvar if isinstance(param.envvar, str) else None
                yield from ((o, envvar) for o in param.opts if o.startswith("--"))
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    found = set(walk(typer.main.get_command(whole_app())))
    yield from sorted(p for p in found if p[0] not in {"--help", "--version"})


def _options() -> list[str]:
    return sorted({option for option, _ in _option_params()})


def _option_rows(option: str) -> list[str]:
    rows = [line for line in _read(CONFIGURATION).splitlines() if line.startswith("| `--")]
    return [line for line in rows if line.startswith(f"| `{option}")]


@pytest.mark.parametrize("option", _options())
def test_every_option_is_in_the_settings_table(option: str) -> None:
    assert _option_rows(option), (
        f"option {option} is not in the settings table of docs/configuration.md"
    )


OPTION_ENVIRONMENT = sorted({(o, e) for o, e in _option_params() if e is not None})


@pytest.mark.parametrize(("option", "envvar"), OPTION_ENVIRONMENT)
def test_every_option_names_the_variable_it_reads(option: str, envvar: str) -> None:
    cells = [row.split(" | ")[1] for row in _option_rows(option)]
    assert any(cell == f"`{envvar}`" for cell in cells), (
        f"the settings row of {option} should give `{envvar}` as its env var, on every command"
    )


def _settings_table() -> list[str]:
    """The rows of the table under '## Settings' in docs/configuration.md."""
    section = _read(CONFIGURATION).split("## Settings\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")]


# The settings, and the variables that options read as their defaults
# (CLEARANCE_PASSPHRASE, CLEARANCE_NEW_PASSWORD, CLEARANCE_SCENARIO).
ENVIRONMENT = sorted({*SETTINGS, *(e for _, e in _option_params() if e is not None)})


@pytest.mark.parametrize("name", ENVIRONMENT)
def test_every_environment_variable_is_in_the_settings_table(name: str) -> None:
    assert any(f"`{name}`" in row for row in _settings_table()), (
        f"environment variable {name} is not in the settings table of docs/configuration.md"
    )


def test_the_settings_table_names_no_unknown_variable() -> None:
    named = {n for row in _settings_table() for n in re.findall(r"CLEARANCE_[A-Z_]+", row)}
    assert named - set(ENVIRONMENT) == set(), "clearance reads none of these variables"
    for name in sorted(named - set(SETTINGS)):
        load_settings({name: "a value"})  # refused with "is not a setting" if unknown


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
        "value_usd": 825_000_000,
        "date": "2025-08-28",
    }
    found = [_decision(storm_shadow, screener), _decision(eram, screener)]
    assert found[0]["required_approvals"], "the Storm Shadow decision should need an approval"
    assert found[1]["conditions"], "the ERAM decision should carry a condition"
    assert found[1]["waiting_period"], "the ERAM decision should wait for Congress"
    return found


def _keys(decisions: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The keys at each level of a decision record."""
    holders = [h for d in decisions for h in d["holders"]]
    return {
        "Top-level keys": {k for d in decisions for k in d},
        "Holder object": {k for h in holders for k in h},
        "Path object": {k for h in holders for p in h["paths"] for k in p},
        "Approval object": {k for d in decisions for a in d["required_approvals"] for k in a},
        "Waiting period object": {
            k for d in decisions if "waiting_period" in d for k in d["waiting_period"]
        },
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

    folder: Path
    denied: dict[str, Any]
    conditional: dict[str, Any]
    listing: dict[str, Any]
    rescreenings: list[list[dict[str, Any]]]
    export: Path
    redacted: Path
    report: dict[str, Any]
    users: list[dict[str, Any]]
    verification: dict[str, Any]


def _status(*args: str) -> tuple[int, str, str]:
    """Run one ``clearance`` command in this process: exit status, standard output and error."""
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code
    assert code is None or isinstance(code, int), code
    return code or 0, out.getvalue(), err.getvalue()


def _run(*args: str) -> str:
    """Run one ``clearance`` command in this process; return its standard output."""
    code, out, err = _status(*args)
    assert not code, f"clearance {' '.join(args)}: {err}"
    return out


def _later_pack(folder: Path) -> Path:
    """The seed pack with one more US bundle, in force from 2025-09-01, that permits G2."""
    pack = folder / "later-pack"
    shutil.copytree(default_pack_path(), pack, ignore=shutil.ignore_patterns("cases"))
    bundle = pack / "bundles" / "US" / "2025-09-01"
    bundle.mkdir()
    shutil.copy(pack / "bundles" / "US" / "2024-11-17" / "policies.cedar", bundle)
    (bundle / "bundle.yaml").write_text(
        "holder: US\neffective_from: 2025-09-01\ntitle: Authority to strike inside Russia, again\n",
        encoding="utf-8",
    )
    return pack


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
        _run("cases", "submit", str(folder / "g2.json"), "--as", "ua.liaison")  # stays in review
        _run("users", "access", "ua.liaison", "--role", "requester", "--clearance", "SECRET")
        env.setenv("CLEARANCE_NEW_PASSWORD", "a password for the documents")
        _run("users", "password", "ua.liaison")
        token = json.loads(_run("users", "token", "us.liaison", "--name", "documents", "--json"))
        _run("users", "revoke-token", token["id"])
        secret = ("--classification", "SECRET")
        _run("cases", "submit", str(folder / "g2.json"), "--as", "ua.liaison", *secret)
        later = ("--scenario", str(_later_pack(folder)))
        rescreenings = [
            json.loads(_run("cases", "rescreen", "--as", "admin", *later, "--json"))
            for _ in range(2)
        ]
        denied = json.loads(_run("cases", "show", "1", "--json"))
        export = folder / "ledger.jsonl"
        _run("audit", "export", "--out", str(export))
        redacted = folder / "ledger-redacted.jsonl"
        _run("audit", "export", "--out", str(redacted), "--as", "us.liaison")
        users = _run("users", "list", "--json")
        (folder / "users.json").write_text(users, encoding="utf-8")
        (folder / "case.json").write_text(json.dumps(denied), encoding="utf-8")
        keys = ("--keys", str(folder / "users.json"))
        return Outputs(
            folder=folder,
            denied=denied,
            conditional=json.loads(_run("cases", "show", "2", "--json")),
            listing=json.loads(_run("cases", "list", "--all", "--json")),
            rescreenings=rescreenings,
            export=export,
            redacted=redacted,
            report=json.loads(_run("audit", "verify", "--json")),
            users=json.loads(users),
            verification=json.loads(
                _run("verify-decision", str(folder / "case.json"), *keys, "--json")
            ),
        )


def _section(text: str, heading: str) -> str:
    """The text under ``### heading``, up to the next heading."""
    return text.split(f"### {heading}\n", 1)[1].split("\n#", 1)[0]


def _export_lines(outputs: Outputs, path: Path | None = None) -> list[dict[str, Any]]:
    lines = (path or outputs.export).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _events(outputs: Outputs) -> list[dict[str, Any]]:
    """The event lines of the export (not its header or checkpoints), as JSON."""
    return [line for line in _export_lines(outputs) if "seq" in line]


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
    found = outputs.rescreenings[0]
    assert found, "the later pack should decide the open G2 case differently"
    for key in {*outputs.listing, *(k for row in [*rows, *found] for k in row)}:
        assert f"`{key}`" in section, f"case list key '{key}' is not in docs/formats.md"


def test_rescreening_lists_every_time_and_records_once(outputs: Outputs) -> None:
    first, again = outputs.rescreenings

    def findings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [row for row in rows if "suspended_for" not in row]

    assert findings(first) == findings(again), (
        "every run lists every open case that would be decided differently"
    )
    assert findings(again) == again, "an approved case is suspended once, by the first run"
    bodies = [json.loads(line["body"]) for line in _events(outputs)]
    recorded = [b for b in bodies if b["type"] == EventType.CASE_RESCREENED.value]
    assert len(recorded) == len(findings(first)), (
        "a finding already on the ledger is not recorded again"
    )
    text = _flat(_read(DOCS / "operations.md"))
    assert "Every run lists every open case that would now be decided differently" in text
    assert "It records a finding only once" in text


def test_the_ledger_is_documented(outputs: Outputs) -> None:
    lines = _export_lines(outputs) + _export_lines(outputs, outputs.redacted)
    assert any(line.get("redacted") for line in lines), (
        "the SECRET case is hidden from a US liaison"
    )
    bodies = [json.loads(line["body"]) for line in _events(outputs)]
    text = _read(FORMATS)
    assert _table_keys(text, "Ledger export") == {k for line in lines for k in line}
    assert _table_keys(text, "Event body") == {k for body in bodies for k in body}
    assert _table_keys(text, "Event types") == {t.value for t in EventType}
    assert _table_keys(text, "Audit report") == set(outputs.report)


def test_every_event_payload_key_is_documented(outputs: Outputs) -> None:
    rows = {
        match[0]: match[1]
        for match in re.findall(
            r"^\| `([a-z_]+)` \| (.*?) \|", _section(_read(FORMATS), "Event types"), re.MULTILINE
        )
    }
    bodies = [json.loads(line["body"]) for line in _events(outputs)]
    written = {b["type"] for b in bodies}
    assert {"case_rescreened", "bundle_activated", "approval_denied"} <= written
    assert {"user_access_changed", "api_token_issued", "api_token_revoked"} <= written
    for body in bodies:
        for key in body["payload"]:
            assert f"`{key}`" in rows[body["type"]], (
                f"payload key '{key}' of {body['type']} is not in docs/formats.md"
            )


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
    second = next(i for i, line in enumerate(lines) if json.loads(line).get("seq") == 3)
    event = json.loads(lines[second])
    event["body"] = event["body"].replace('"party":"US"', '"party":"GB"')
    assert event["body"] != json.loads(lines[second])["body"]
    lines[second] = json.dumps(event)
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


def _problem_form(problem: str) -> str:
    """A problem as docs/formats.md writes it, with placeholders for what varies."""
    problem = re.sub(r"^signed [a-z_]+ does not match", "signed FIELD does not match", problem)
    problem = re.sub(
        r"^the decision did not require \S+$", "the decision did not require OFFICE", problem
    )
    return re.sub(r"^\S+ did not hold \S+ on \S+$", "USER did not hold OFFICE on DAY", problem)


def test_every_problem_of_verify_decision_is_documented(outputs: Outputs) -> None:
    """Tamper with a real case (and keys file) one way at a time; each problem is documented."""
    answer = outputs.denied["approvals"][0]
    statement = json.loads(answer["statement"])
    day = statement["at"][:10]

    def case_with(**changes: Any) -> dict[str, Any]:
        case = json.loads(json.dumps(outputs.denied))
        case["approvals"][0].update(changes)
        return case

    not_required = json.loads(json.dumps(outputs.denied))
    not_required["decision"]["required_approvals"] = []
    other_decision = json.loads(json.dumps(outputs.denied))
    other_decision["decision"]["decision_id"] = "another-decision"
    no_office = [{**u, "holdings": []} for u in outputs.users]
    signature = answer["signature"]
    forged = ("A" if signature[0] != "A" else "B") + signature[1:]
    tampered: list[tuple[str, dict[str, Any], list[dict[str, Any]], str]] = [
        ("verdict", case_with(verdict="approve"), outputs.users, "signed verdict does not match the record"),
        ("time", case_with(at="2025-01-01T00:00:00+00:00"), outputs.users, "signed at does not match the record"),
        ("delegation", case_with(on_behalf_of="ua.liaison"), outputs.users, "signed on_behalf_of does not match the record"),
        ("decision", other_decision, outputs.users, "signed decision_id does not match the case"),
        ("office", not_required, outputs.users, f"the decision did not require {statement['authority']}"),
        ("holding", outputs.denied, no_office, f"{answer['actor']} did not hold {statement['authority']} on {day}"),
        ("signature", case_with(signature=forged), outputs.users, "signature does not verify against the actor's public key"),
        ("statement", case_with(statement="not json"), outputs.users, "the signed statement is missing or not a JSON object"),
    ]  # fmt: skip
    section = _flat(_section(_read(FORMATS), "Checking a case offline"))
    for name, case, users, expected in tampered:
        case_file = outputs.folder / f"tampered-{name}.json"
        keys_file = outputs.folder / f"keys-{name}.json"
        case_file.write_text(json.dumps(case), encoding="utf-8")
        keys_file.write_text(json.dumps(users), encoding="utf-8")
        code, out, err = _status(
            "verify-decision", str(case_file), "--keys", str(keys_file), "--json"
        )
        assert code == 1, (name, err)
        problems = json.loads(out)["signatures"][0]["problems"]
        assert expected in problems, (name, problems)
        if name == "statement":
            assert problems == [expected], "documented as the answer's only problem"
        for problem in problems:
            assert f"`{_problem_form(problem)}`" in section, (
                f"verify-decision reports '{problem}', which docs/formats.md does not describe"
            )


# --- (e) every annotation is documented ----------------------------------------------


@pytest.mark.parametrize("name", sorted({*KNOWN_ANNOTATIONS, "condition"}))
def test_every_annotation_is_documented(name: str) -> None:
    assert f"@{name}(" in _read(AUTHORING), f"@{name} is not in docs/policy-authoring.md"


# --- the server: routes, errors, access, headers, metrics ----------------------------


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The OpenAPI document of a real server, over an empty SQLite database."""
    from clearance.service.runtime import Runtime
    from clearance.web.app import create_app

    folder = tmp_path_factory.mktemp("server")
    server = Runtime(load_settings({"CLEARANCE_DATA_DIR": str(folder)}))
    try:
        document: dict[str, Any] = create_app(server).openapi()
    finally:
        server.database.dispose()
    return document


def _rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the table rows under ``## heading`` (up to the next ``## ``)."""
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| ---")
    ]


def test_every_route_is_in_the_route_table(openapi: dict[str, Any]) -> None:
    served = {
        f"{method.upper()} {path}"
        for path, operations in openapi["paths"].items()
        for method in operations
    }
    assert any(route.startswith("POST /api/v1/") for route in served)
    documented = {
        match
        for row in _rows(_read(API), "Routes")
        for match in re.findall(r"^`([A-Z]+ /\S*)`$", row[0])
    }
    assert served - documented == set(), "served, but not in the route table of docs/api.md"
    assert documented - served == set(), "in the route table of docs/api.md, but not served"
    text = _read(API)
    for route in sorted(r for r in served if " /api/v1/" in r):
        path = route.split(" ", 1)[1]
        assert text.count(f"`{path}`") + text.count(f"{route}`") >= 2, (
            f"{route} is in the table of docs/api.md but described nowhere else there"
        )


def test_every_error_is_in_the_error_table_of_the_api() -> None:
    rows = {(row[0], row[1]) for row in _rows(_read(API), "Errors") if row[0].isdigit()}
    for error in ERRORS:
        if error is clearance.errors.ClearanceError:
            continue  # the root, never raised itself
        assert (str(error.http_status), f"`{error.code}`") in rows, (
            f"{error.__name__} ({error.http_status} {error.code}) is not in docs/api.md"
        )
    # The codes only the web layer answers with (clearance/web/errors.py).
    web_only = {"`method_not_allowed`", "`internal_error`"}
    codes = {f"`{e.code}`" for e in ERRORS} | web_only
    assert {code for _, code in rows} <= codes, "docs/api.md lists a code nothing answers with"


def test_the_demo_users_are_documented_as_they_are() -> None:
    from clearance.service.demo import DEMO_PASSWORD, DEMO_USERS

    rows = {row[0]: row for row in _rows(_read(API), "Trying it") if row[0].startswith("`")}
    for user in DEMO_USERS:
        row = rows.get(f"`{user.id}`")
        assert row is not None, f"demo user {user.id} is not in docs/api.md"
        roles = ", ".join(role.value for role in user.roles)
        office = f"`{user.office}`" if user.office else "—"
        assert row[1:4] == [user.party, roles, user.clearance.label], row
        assert row[4].startswith(office), row
    assert set(rows) == {f"`{user.id}`" for user in DEMO_USERS}, "docs/api.md has other users"
    assert f"`{DEMO_PASSWORD}`" in _read(API)


def test_every_level_and_role_is_in_the_access_rules() -> None:
    from clearance.core.access import Level, Role

    text = _read(ACCESS)
    levels = [row for row in _rows(text, "Levels") if row[0] != "level"]
    assert levels == [[f"`{level.label}`", str(int(level))] for level in Level]
    roles = {row[0] for row in _rows(text, "Roles")}
    assert {f"`{role.value}`" for role in Role} <= roles


def test_every_security_header_and_metric_is_documented() -> None:
    from clearance.web.app import LATENCY, REQUESTS, SECURITY_HEADERS

    text = _read(OPERATIONS)
    for name, value in SECURITY_HEADERS.items():
        assert f"| `{name}` | `{value}` |" in text, f"header {name} is not in docs/operations.md"
    for metric in (REQUESTS, LATENCY):
        for family in metric.describe():
            assert f"| `{family.name}" in text, f"metric {family.name} is not documented"


def test_every_migration_is_in_the_table_of_docs_operations() -> None:
    import clearance.store

    versions = Path(clearance.store.__file__).parent / "migrations" / "versions"
    revisions = [
        match[1]
        for path in sorted(versions.glob("*.py"))
        if (match := re.search(r'^revision = "([^"]+)"', _read(path), flags=re.MULTILINE))
    ]
    assert revisions, "no migrations found"
    text = _read(OPERATIONS)
    for revision in revisions:
        assert f"\n| `{revision}` | " in text, (
            f"migration {revision} is not in the migrations table of docs/operations.md"
        )


# --- the lines mutation testing leaves alone -----------------------------------------

_NO_MUTATE = "# pragma: no mutate"


def _function_spans(node: ast.AST, prefix: str) -> list[tuple[int, int, str]]:
    """(first line, last line, Class.function) of every function and method in ``node``."""
    spans: list[tuple[int, int, str]] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            spans += _function_spans(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            spans.append((child.lineno, child.end_lineno or child.lineno, prefix + child.name))
    return spans


def _functions_with_unmutated_lines() -> set[tuple[str, str]]:
    """(file under src/clearance, Class.function) for each function with a marked line."""
    found: set[tuple[str, str]] = set()
    for path in sorted(SOURCE.rglob("*.py")):
        text = _read(path)
        if _NO_MUTATE not in text:
            continue
        spans = _function_spans(ast.parse(text), "")
        for number, line in enumerate(text.splitlines(), start=1):
            if _NO_MUTATE in line:
                names = [name for first, last, name in spans if first <= number <= last]
                where = path.relative_to(SOURCE).as_posix()
                assert names, f"{where}:{number} is marked outside any function"
                found.add((where, names[-1]))
    return found


def _functions_in_the_unmutated_table() -> set[tuple[str, str]]:
    section = _read(TESTING).split("### Lines left unmutated", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed: set[tuple[str, str]] = set()
    for row in rows:
        cells = row.split("|")
        file = cells[1].strip().strip("`")
        listed |= {(file, name) for name in re.findall(r"`([^`]+)`", cells[2])}
    return listed


def test_every_unmutated_line_is_explained_in_docs_testing() -> None:
    marked = _functions_with_unmutated_lines()
    listed = _functions_in_the_unmutated_table()
    assert marked, "no line is marked; the table in docs/testing.md should then go too"
    assert sorted(marked - listed) == [], "marked lines the table of docs/testing.md leaves out"
    assert sorted(listed - marked) == [], "the table of docs/testing.md names unmarked functions"


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
