"""The installed ``clearance`` command, end to end, as a user runs it.

Every command runs as a real subprocess of the console script. The commands of a
module are started together (a few at a time) by a module fixture, because each
start of the CLI costs about half a second, and the tests then read the results.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from clearance.policy.pack import ScenarioPack, default_pack_path

CLI = Path(sys.executable).parent / "clearance"
SEED = default_pack_path()
HEX64 = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@dataclass(frozen=True)
class Command:
    args: tuple[str, ...]
    stdin: str | None = None
    columns: int | None = 200


def cli_env(columns: int | None) -> dict[str, str]:
    """The user's environment without anything that changes Rich's output."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}
    }
    env["NO_COLOR"] = "1"
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return env


def run_cli(*args: str | Path, stdin: str | None = None, columns: int | None = 200) -> Run:
    """Run the installed console script; ``columns=None`` leaves Rich at its default width."""
    argv = tuple(str(a) for a in args)
    done = subprocess.run(
        [str(CLI), *argv],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=cli_env(columns),
        timeout=120,
        check=False,
    )
    return Run(argv, done.returncode, done.stdout, done.stderr)


def run_many(commands: Mapping[str, Command]) -> dict[str, Run]:
    """Run every command, a few at a time, and give the results by name."""
    with ThreadPoolExecutor(max_workers=max(2, min(6, 2 * (os.cpu_count() or 1)))) as pool:
        futures = {
            name: pool.submit(run_cli, *c.args, stdin=c.stdin, columns=c.columns)
            for name, c in commands.items()
        }
        return {name: future.result() for name, future in futures.items()}


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def scenario_requests() -> dict[str, dict[str, Any]]:
    """The requests of G1–G5 as the seed pack's scenario file gives them."""
    data = yaml.safe_load((SEED / "cases" / "scenario.yaml").read_text(encoding="utf-8"))
    return {case["id"]: case["request"] for case in data["cases"]}


# --- what the scenario must give ----------------------------------------------------------------

SECDEF = [{"authority": "us.secdef", "delegable": False}]

EXPECTED: dict[str, dict[str, Any]] = {
    "G1": {
        "outcome": "permitted",
        "consent_holders": ["US"],
        "holder_paths": {"US": ["atacms → origin → US"]},
        "required_approvals": [],
        "conditions": [],
        "reasons": ["US/us-strikes-in-russia-authorised"],
    },
    "G2": {
        "outcome": "review_required",
        "consent_holders": ["US"],
        "holder_paths": {"US": ["atacms → origin → US"]},
        "required_approvals": SECDEF,
        "conditions": [],
        "reasons": ["US/us-review-mechanism"],
    },
    "G3": {
        "outcome": "review_required",
        "consent_holders": ["FR", "GB", "US"],
        "holder_paths": {
            "FR": ["storm-shadow → storm-shadow-airframe-fr → component (30% of value) → FR"],
            "GB": ["storm-shadow → origin → GB"],
            "US": ["storm-shadow → targeting-data → US"],
        },
        "required_approvals": SECDEF,
        "conditions": [],
        "reasons": ["US/us-review-mechanism"],
    },
    "G4": {
        "outcome": "permitted",
        "consent_holders": ["UA"],
        "holder_paths": {"UA": ["flamingo → origin → UA"]},
        "required_approvals": [],
        "conditions": [],
        "reasons": ["UA/ua-own-systems"],
    },
    "G5": {
        "outcome": "permitted",
        "consent_holders": ["US"],
        "holder_paths": {"US": ["eram → origin → US"]},
        "required_approvals": [],
        "conditions": ["European partners fund the purchase"],
        "reasons": ["US/us-eram-sale-european-funded"],
    },
    "G5-other-funding": {
        "outcome": "prohibited",
        "consent_holders": ["US"],
        "holder_paths": {"US": ["eram → origin → US"]},
        "required_approvals": [],
        "conditions": [],
        "reasons": [],
    },
}

COMMANDS_WITH_HELP = [
    (),
    ("screen",),
    ("explain",),
    ("demo",),
    ("catalog",),
    ("catalog", "holders"),
    ("catalog", "systems"),
    ("policy",),
    ("policy", "validate"),
    ("policy", "test"),
]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def altered_pack(work: Path) -> Path:
    """A copy of the seed pack in which G2 expects `permitted` (it gets review_required)."""
    pack = work / "altered"
    shutil.copytree(SEED, pack)
    path = pack / "cases" / "scenario.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for case in data["cases"]:
        if case["id"] == "G2":
            case["expect"]["outcome"] = "permitted"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return pack


@pytest.fixture(scope="module")
def bracket_pack(work: Path) -> Path:
    """A copy of the seed pack whose ERAM condition has square brackets in its text."""
    pack = work / "brackets"
    shutil.copytree(SEED, pack)
    path = pack / "bundles" / "US" / "2025-08-28" / "policies.cedar"
    text = path.read_text(encoding="utf-8")
    old = '@condition("European partners fund the purchase")'
    assert text.count(old) == 1
    path.write_text(
        text.replace(old, '@condition("European partners fund the purchase [see annex B]")'),
        encoding="utf-8",
    )
    return pack


@pytest.fixture(scope="module")
def files(work: Path) -> dict[str, Path]:
    requests = scenario_requests()
    return {case: write_json(work / f"{case}.json", requests[case]) for case in EXPECTED}


def stream_text(lines: Sequence[Any]) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


BAD_STREAM = [
    "G1",
    "G2",
    "{not json",
    {**scenario_requests()["G1"], "system": "nosuch"},
    {**scenario_requests()["G2"], "quantity": "2"},
    "G4",
    "G5",
]


def stream_lines(items: Sequence[Any]) -> list[Any]:
    requests = scenario_requests()
    return [
        requests[item] if isinstance(item, str) and item in requests else item for item in items
    ]


@pytest.fixture(scope="module")
def runs(files: dict[str, Path], altered_pack: Path, bracket_pack: Path) -> dict[str, Run]:
    commands: dict[str, Command] = {
        f"screen {case}": Command(("screen", str(path), "--json")) for case, path in files.items()
    }
    commands |= {
        "stream good": Command(
            ("screen", "-", "--json"), stdin=stream_text(stream_lines(list(EXPECTED)))
        ),
        "stream bad": Command(
            ("screen", "-", "--json"), stdin=stream_text(stream_lines(BAD_STREAM))
        ),
        "stream bad text": Command(("screen", "-"), stdin=stream_text(stream_lines(BAD_STREAM))),
        "stream as-of": Command(
            ("screen", "-", "--json", "--as-of", "2024-12-01"),
            stdin=stream_text(stream_lines(["G2", "G3"])),
        ),
        "as-of earlier": Command(("screen", str(files["G2"]), "--json", "--as-of", "2024-12-01")),
        "as-of later": Command(("screen", str(files["G1"]), "--json", "--as-of", "2025-06-15")),
        "as-of before policy": Command(
            ("screen", str(files["G1"]), "--json", "--as-of", "2022-02-23")
        ),
        "explain G2": Command(("explain", str(files["G2"]))),
        "explain G3": Command(("explain", str(files["G3"]))),
        "explain G2 json": Command(("explain", str(files["G2"]), "--json")),
        "explain G5-other-funding": Command(("explain", str(files["G5-other-funding"]))),
        "explain as-of": Command(("explain", str(files["G2"]), "--json", "--as-of", "2024-12-01")),
        "holders": Command(("catalog", "holders", "storm-shadow", "--json")),
        "holders text": Command(("catalog", "holders", "storm-shadow")),
        "systems": Command(("catalog", "systems", "--json")),
        "validate": Command(("policy", "validate", "--json")),
        "validate text": Command(("policy", "validate")),
        "test": Command(("policy", "test")),
        "test json": Command(("policy", "test", "--json")),
        "test altered": Command(("policy", "test", str(altered_pack))),
        "test altered json": Command(("policy", "test", str(altered_pack), "--json")),
        "version": Command(("--version",)),
        "condition brackets": Command(
            ("screen", "--scenario", str(bracket_pack), str(files["G5"]))
        ),
        "condition brackets json": Command(
            ("screen", "--scenario", str(bracket_pack), str(files["G5"]), "--json")
        ),
    }
    commands |= {"help " + " ".join(c): Command((*c, "--help")) for c in COMMANDS_WITH_HELP}
    return run_many(commands)


def ok(run: Run) -> Run:
    assert run.returncode == 0, (run.args, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    return run


# --- screen FILE --json ---------------------------------------------------------------------


@pytest.mark.parametrize("case", list(EXPECTED))
def test_screen_json_gives_the_scenario_decision(
    case: str, runs: dict[str, Run], seed_pack: ScenarioPack
) -> None:
    decision = ok(runs[f"screen {case}"]).json()
    expected = EXPECTED[case]
    for key, value in expected.items():
        assert decision[key] == value, key
    uuid.UUID(decision["decision_id"])
    request = scenario_requests()[case]
    assert decision["request"] == request
    assert decision["judged_as_of"] == request["date"]
    assert set(decision["bundles"]) == set(expected["consent_holders"])
    for party, revision in decision["bundles"].items():
        in_force = seed_pack.history.bundle_in_force(party, dt.date.fromisoformat(request["date"]))
        assert in_force is not None
        assert revision == in_force.revision
        assert HEX64.match(revision)
    assert [h["party"] for h in decision["holders"]] == expected["consent_holders"]
    assert decision["catalog_revision"] == seed_pack.catalog.revision


def test_every_screening_gets_its_own_decision_id(runs: dict[str, Run]) -> None:
    ids = [runs[f"screen {case}"].json()["decision_id"] for case in EXPECTED]
    assert len(set(ids)) == len(ids)


def test_g1_and_g2_are_judged_by_different_us_bundles(runs: dict[str, Run]) -> None:
    g1 = runs["screen G1"].json()["bundles"]["US"]
    g2 = runs["screen G2"].json()["bundles"]["US"]
    assert g1 != g2


# --- screen - (JSON lines) ------------------------------------------------------------------


def test_stream_of_good_lines_gives_one_decision_per_line_in_order(runs: dict[str, Run]) -> None:
    run = ok(runs["stream good"])
    records = run.json_lines()
    assert [r["line"] for r in records] == list(range(1, len(EXPECTED) + 1))
    assert [r["outcome"] for r in records] == [e["outcome"] for e in EXPECTED.values()]
    assert [r["consent_holders"] for r in records] == [
        e["consent_holders"] for e in EXPECTED.values()
    ]
    assert [r["required_approvals"] for r in records] == [
        e["required_approvals"] for e in EXPECTED.values()
    ]
    assert len({r["decision_id"] for r in records}) == len(records)
    assert run.stderr == ""


def test_a_bad_line_gives_an_error_record_in_its_place_and_the_rest_go_on(
    runs: dict[str, Run],
) -> None:
    run = runs["stream bad"]
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    records = run.json_lines()
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5, 6, 7]
    assert [r.get("outcome") for r in records] == [
        "permitted",
        "review_required",
        None,
        None,
        None,
        "permitted",
        "permitted",
    ]
    not_json, unknown, wrong_type = records[2], records[3], records[4]
    for record in (not_json, unknown, wrong_type):
        assert set(record) >= {"line", "error", "code", "field"}
        assert record["code"] == "invalid_request"
        assert "decision_id" not in record
    assert "not JSON" in not_json["error"]
    assert unknown["field"] == "system"
    assert "nosuch" in unknown["error"]
    assert wrong_type["field"] == "quantity"
    assert records[6]["conditions"] == ["European partners fund the purchase"]


def test_a_bad_line_in_a_text_stream_is_reported_in_place(runs: dict[str, Run]) -> None:
    run = runs["stream bad text"]
    assert run.returncode == 2
    lines = run.stdout.splitlines()
    assert len(lines) == 7
    assert lines[0].startswith(
        "PERMITTED  UA employs 2 × atacms against a target in RU, 2024-12-01"
    )
    assert lines[1].startswith("REVIEW REQUIRED")
    assert "needs us.secdef (personally)" in lines[1]
    assert lines[2].startswith("line 3: error:")
    assert lines[3].startswith("line 4: error:")
    assert "unknown system 'nosuch'" in lines[3]
    assert lines[4].startswith("line 5: error: request field 'quantity'")
    assert lines[5].startswith("PERMITTED")
    assert "on condition: European partners fund the purchase" in lines[6]


def test_stream_as_of_judges_every_line_on_that_date(runs: dict[str, Run]) -> None:
    records = ok(runs["stream as-of"]).json_lines()
    assert [r["outcome"] for r in records] == ["permitted", "permitted"]
    assert {r["judged_as_of"] for r in records} == {"2024-12-01"}
    assert [r["request"]["date"] for r in records] == ["2025-06-15", "2025-06-15"]


# --- --as-of ------------------------------------------------------------------------------


def test_as_of_judges_by_the_bundles_in_force_on_that_date(runs: dict[str, Run]) -> None:
    earlier = ok(runs["as-of earlier"]).json()
    assert earlier["outcome"] == "permitted"
    assert earlier["judged_as_of"] == "2024-12-01"
    assert earlier["request"]["date"] == "2025-06-15"
    assert earlier["bundles"] == runs["screen G1"].json()["bundles"]

    later = ok(runs["as-of later"]).json()
    assert later["outcome"] == "review_required"
    assert later["required_approvals"] == SECDEF
    assert later["bundles"] == runs["screen G2"].json()["bundles"]


def test_as_of_before_any_policy_is_prohibited_with_a_note(runs: dict[str, Run]) -> None:
    decision = ok(runs["as-of before policy"]).json()
    assert decision["outcome"] == "prohibited"
    assert decision["bundles"] == {"US": None}
    assert decision["holders"][0]["notes"] == ["no policy of US is in force on 2022-02-23"]


# --- explain ------------------------------------------------------------------------------


def test_explain_shows_outcome_policy_text_and_what_would_change_it(runs: dict[str, Run]) -> None:
    out = ok(runs["explain G2"]).stdout
    assert "REVIEW REQUIRED" in out
    assert "us.secdef (personally)" in out
    assert "US/us-review-mechanism" in out
    assert "bundles/US/2025-05-01/policies.cedar:15" in out
    assert '@id("us-review-mechanism")' in out
    assert '@gate("us.secdef")' in out
    assert 'unless { context.approvals.contains(Authority::"us.secdef") };' in out
    assert "atacms → origin → US" in out
    assert "What would change it" in out
    changes = out.split("What would change it", 1)[1]
    assert "Approval by us.secdef (personally; may not be delegated) would permit it." in changes
    assert "US would have answered: permitted" in changes  # the November 2024 authority


def test_explain_names_every_holder_and_its_path(runs: dict[str, Run]) -> None:
    out = ok(runs["explain G3"]).stdout
    assert "storm-shadow → targeting-data → US" in out
    assert "storm-shadow → origin → GB" in out
    assert "GB/gb-strikes-in-russia-authorised" in out
    assert "What would change it" in out


def test_explain_a_prohibition_says_no_approval_would_help(runs: dict[str, Run]) -> None:
    out = ok(runs["explain G5-other-funding"]).stdout
    assert "PROHIBITED" in out
    assert "no policy of US permits this request" in out
    assert "Approval by" not in out


def test_explain_json(runs: dict[str, Run]) -> None:
    data = ok(runs["explain G2 json"]).json()
    assert set(data) == {"decision", "holders", "what_would_change_it"}
    assert data["decision"]["outcome"] == "review_required"
    (us,) = data["holders"]
    assert us["party"] == "US"
    assert us["outcome"] == "review_required"
    assert us["bundle"]["effective_from"] == "2025-05-01"
    assert us["bundle"]["in_force_until"] == "2025-08-27"
    assert us["bundle"]["title"] == "The review mechanism"
    (policy,) = us["policies"]
    assert policy["id"] == "us-review-mechanism"
    assert policy["effect"] == "forbid"
    assert policy["file"] == "bundles/US/2025-05-01/policies.cedar"
    assert policy["line"] == 15
    assert '@gate("us.secdef")' in policy["text"]
    assert '@delegable("false")' in policy["text"]
    others = {o["effective_from"]: o["outcome"] for o in us["under_other_bundles"]}
    assert others == {
        "2022-02-24": "prohibited",
        "2024-05-30": "prohibited",
        "2024-06-20": "prohibited",
        "2024-11-17": "permitted",
    }
    assert data["what_would_change_it"][0] == (
        "Approval by us.secdef (personally; may not be delegated) would permit it."
    )


def test_explain_as_of(runs: dict[str, Run]) -> None:
    data = ok(runs["explain as-of"]).json()
    assert data["decision"]["outcome"] == "permitted"
    assert data["decision"]["judged_as_of"] == "2024-12-01"
    assert data["holders"][0]["policies"][0]["id"] == "us-strikes-in-russia-authorised"
    assert not any(c.startswith("Approval by") for c in data["what_would_change_it"])


# --- catalog ----------------------------------------------------------------------------


def test_catalog_holders_storm_shadow_json(runs: dict[str, Run], seed_pack: ScenarioPack) -> None:
    data = ok(runs["holders"]).json()
    assert data["system"] == "storm-shadow"
    assert data["catalog_revision"] == seed_pack.catalog.revision
    assert data["consent_holders"] == ["FR", "GB", "US"]
    paths = data["holder_paths"]
    assert paths["US"] == [
        {
            "basis": "targeting-data",
            "via": ["storm-shadow"],
            "party": "US",
            "share": None,
            "text": "storm-shadow → targeting-data → US",
        }
    ]
    assert [p["text"] for p in paths["GB"]] == ["storm-shadow → origin → GB"]
    assert [p["basis"] for p in paths["FR"]] == ["component"]
    assert paths["FR"][0]["share"] == pytest.approx(0.3)
    assert paths["FR"][0]["via"] == ["storm-shadow", "storm-shadow-airframe-fr"]


def test_catalog_holders_text(runs: dict[str, Run]) -> None:
    out = ok(runs["holders text"]).stdout
    assert "storm-shadow: consent holders" in out
    assert "storm-shadow → targeting-data → US" in out


def test_catalog_systems_json(runs: dict[str, Run], seed_pack: ScenarioPack) -> None:
    systems = {s["id"]: s for s in ok(runs["systems"]).json()}
    assert list(systems) == [s.id for s in seed_pack.catalog.systems]
    assert {"atacms", "storm-shadow", "eram", "flamingo"} <= set(systems)
    assert systems["atacms"]["consent_holders"] == ["US"]
    assert systems["atacms"]["origin"] == "US"
    assert systems["atacms"]["range_km"] == 305
    assert systems["storm-shadow"]["consent_holders"] == ["FR", "GB", "US"]
    assert systems["flamingo"]["consent_holders"] == ["UA"]
    assert systems["demo-rocket"]["consent_holders"] == ["UA", "US"]
    assert systems["demo-rocket-lite"]["consent_holders"] == ["UA"]
    assert all("dependencies" not in s for s in systems.values())


# --- policy validate / test -----------------------------------------------------------------


def test_policy_validate_json(runs: dict[str, Run], seed_pack: ScenarioPack) -> None:
    data = ok(runs["validate"]).json()
    assert data["valid"] is True
    assert data["pack"] == "seed"
    assert data["catalog_revision"] == seed_pack.catalog.revision
    bundles = {(b["holder"], b["effective_from"]): b for b in data["bundles"]}
    assert len(bundles) == len(seed_pack.history) == len(data["bundles"])
    review = bundles[("US", "2025-05-01")]
    assert review["gates"] == ["us.secdef", "us.usdp"]
    assert review["stockpile_thresholds"] == {"green_percent": 120, "yellow_percent": 100}
    assert bundles[("US", "2024-11-17")]["stockpile_thresholds"] is None
    assert review["in_force_until"] == "2025-08-27"
    assert review["folder"] == "bundles/US/2025-05-01"
    assert bundles[("US", "2025-08-28")]["in_force_until"] is None
    assert bundles[("US", "2024-11-17")]["gates"] == []
    for bundle in seed_pack.history:
        row = bundles[(bundle.holder, bundle.effective_from.isoformat())]
        assert row["revision"] == bundle.revision
        assert row["policies"] == len(bundle.policies)


def test_policy_validate_text(runs: dict[str, Run], seed_pack: ScenarioPack) -> None:
    out = ok(runs["validate text"]).stdout
    assert f"{len(seed_pack.history)} bundles, all valid" in out


def test_policy_test_passes_on_the_seed_pack(runs: dict[str, Run]) -> None:
    out = ok(runs["test"]).stdout
    assert re.search(r"\b\d+ passed, 0 failed\b", out)
    assert "FAIL" not in out


def test_policy_test_json(runs: dict[str, Run]) -> None:
    data = ok(runs["test json"]).json()
    assert data["failed"] == 0
    assert data["passed"] == len(data["cases"]) >= 35
    assert all(c["passed"] and c["mismatches"] == [] for c in data["cases"])
    by_id = {c["id"]: c for c in data["cases"]}
    assert by_id["G2"]["outcome"] == "review_required"
    assert by_id["G2"]["file"] == "cases/scenario.yaml"


def test_policy_test_of_an_altered_pack_fails_and_shows_expected_vs_got(
    runs: dict[str, Run],
) -> None:
    run = runs["test altered"]
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "G2" in run.stdout
    assert "outcome: expected 'permitted', got 'review_required'" in run.stdout
    assert re.search(r"\b\d+ passed, 1 failed\b", run.stdout)


def test_policy_test_json_of_an_altered_pack(runs: dict[str, Run]) -> None:
    run = runs["test altered json"]
    assert run.returncode == 1
    data = run.json()
    assert data["failed"] == 1
    (failed,) = [c for c in data["cases"] if not c["passed"]]
    assert failed["id"] == "G2"
    assert failed["mismatches"] == [
        {"field": "outcome", "expected": "permitted", "got": "review_required"}
    ]


# --- help and version -------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS_WITH_HELP, ids=lambda c: " ".join(c) or "clearance")
def test_help_works_on_every_command(command: tuple[str, ...], runs: dict[str, Run]) -> None:
    run = ok(runs["help " + " ".join(command)])
    assert "Usage:" in run.stdout
    assert " ".join(("clearance", *command)) in " ".join(run.stdout.split())
    assert run.stderr == ""


def test_version(runs: dict[str, Run]) -> None:
    assert re.fullmatch(r"clearance \d+\.\d+\.\d+\n", ok(runs["version"]).stdout)


# --- bugs ----------------------------------------------------------------------------------


def test_a_condition_with_brackets_is_kept_whole_in_json(runs: dict[str, Run]) -> None:
    decision = ok(runs["condition brackets json"]).json()
    assert decision["conditions"] == ["European partners fund the purchase [see annex B]"]


def test_a_condition_with_brackets_is_shown_whole_in_the_decision_panel(
    runs: dict[str, Run],
) -> None:
    out = ok(runs["condition brackets"]).stdout
    assert "European partners fund the purchase [see annex B]" in out
