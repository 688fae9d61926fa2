"""Bad input, through the installed CLI: one line on stderr naming what and where, exit 2.

Requests with wrong fields, files that are missing or not JSON, a bad ``--as-of``,
and scenario packs broken in a copy of the seed pack. None of them may show a
traceback. The commands run together in a module fixture (see test_cli.py).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .test_cli import SEED, Command, Run, run_many, scenario_requests, write_json

G2 = scenario_requests()["G2"]  # UA employs atacms inside RU, 2025-06-15
G5 = scenario_requests()["G5"]  # US transfers eram to UA, funded by european-partners
US_REVIEW = "bundles/US/2025-05-01/policies.cedar"

# name: (request data, the fragments the error must contain). Every one is screened as a
# line of one stream; those in OWN_PROCESS (the brief's list) also each as a file of its own.
BAD_REQUESTS: dict[str, tuple[Any, list[str]]] = {
    "unknown system": ({**G2, "system": "nosuch"}, ["'system'", "unknown system 'nosuch'"]),
    "unknown requester": ({**G2, "requester": "XX"}, ["'requester'", "unknown party 'XX'"]),
    "unknown territory": (
        {**G2, "target": {"territory": "ZZ"}},
        ["'target.territory'", "unknown party 'ZZ'"],
    ),
    "unknown recipient": ({**G5, "recipient": "QQ"}, ["'recipient'", "unknown party 'QQ'"]),
    "unknown funding": ({**G5, "funding": "nobody"}, ["'funding'", "unknown party 'nobody'"]),
    "bad party code": ({**G2, "requester": "ukraine!"}, ["'requester'"]),
    "malformed date": ({**G2, "date": "15/06/2025"}, ["'date'", "15/06/2025"]),
    "short date": ({**G2, "date": "2025-6-15"}, ["'date'", "YYYY-MM-DD"]),
    "date with time": ({**G2, "date": "2025-06-15T10:00:00"}, ["'date'", "YYYY-MM-DD"]),
    "impossible date": ({**G2, "date": "2025-02-30"}, ["'date'", "2025-02-30"]),
    "date as number": ({**G2, "date": 20250615}, ["'date'", "YYYY-MM-DD"]),
    "missing quantity": (
        {k: v for k, v in G2.items() if k != "quantity"},
        ["'quantity'", "is required"],
    ),
    "missing target": ({k: v for k, v in G2.items() if k != "target"}, ["'target'", "is required"]),
    "missing territory": ({**G2, "target": {}}, ["'target.territory'", "is required"]),
    "missing recipient": (
        {k: v for k, v in G5.items() if k != "recipient"},
        ["'recipient'", "is required"],
    ),
    "missing action": (
        {k: v for k, v in G2.items() if k != "action"},
        ["'action'", "is required"],
    ),
    "unknown action": ({**G2, "action": "launch"}, ["'action'", "'employ' or 'transfer'"]),
    "extra field": ({**G2, "colour": "red"}, ["'colour'", "not a known field"]),
    "extra target field": (
        {**G2, "target": {"territory": "RU", "coordinates": [1, 2]}},
        ["'target.coordinates'", "not a known field"],
    ),
    "recipient on employ": ({**G2, "recipient": "UA"}, ["'recipient'", "not a known field"]),
    "quantity as text": ({**G2, "quantity": "2"}, ["'quantity'", "integer"]),
    "quantity zero": ({**G2, "quantity": 0}, ["'quantity'", "greater than or equal to 1"]),
    "quantity negative": ({**G2, "quantity": -3}, ["'quantity'", "greater than or equal to 1"]),
    "quantity fraction": ({**G2, "quantity": 2.5}, ["'quantity'", "integer"]),
    "quantity true": ({**G2, "quantity": True}, ["'quantity'", "integer"]),
    "quantity null": ({**G2, "quantity": None}, ["'quantity'", "integer"]),
    "system empty": ({**G2, "system": ""}, ["'system'"]),
    "not an object": ([G2], ["'request'", "JSON object"]),
}

OWN_PROCESS = [
    "unknown system",
    "unknown requester",
    "unknown territory",
    "unknown recipient",
    "unknown funding",
    "malformed date",
    "impossible date",
    "missing quantity",
    "extra field",
    "quantity as text",
    "quantity zero",
    "quantity fraction",
    "quantity true",
]


def _edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of ``old``; fail loudly if the seed pack has changed."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _cedar_syntax(pack: Path) -> None:
    # Line 20 of the review mechanism: `}` replaced by `]`.
    _edit(pack / US_REVIEW, 'Party::"RU" }\nunless', 'Party::"RU" ]\nunless')


def _chained(pack: Path, links: int) -> None:
    # Line 20 of the review mechanism: its condition chained with `&& true` many times.
    _edit(
        pack / US_REVIEW, 'Party::"RU" }\nunless', 'Party::"RU"' + " && true" * links + " }\nunless"
    )


def _schema_violation(pack: Path) -> None:
    _edit(
        pack / US_REVIEW,
        'context.target.territory == Party::"RU" }\nunless',
        'context.nosuch == Party::"RU" }\nunless',
    )


def _missing_id(pack: Path) -> None:
    _edit(pack / US_REVIEW, '@id("us-review-mechanism")\n', "")


def _unknown_gate(pack: Path) -> None:
    _edit(
        pack / US_REVIEW,
        '@gate("us.secdef")\n@delegable("false")\nforbid (principal, action',
        '@gate("us.potus")\n@delegable("false")\nforbid (principal, action',
    )


def _cycle(pack: Path) -> None:
    catalog = pack / "catalog.yaml"
    _edit(
        catalog,
        "      - {kind: software, supplier: US, description: navigation software}\n",
        "      - {kind: software, supplier: US, description: navigation software}\n"
        "      - {kind: component, component: demo-actuator-us, share: 0.5}\n",
    )
    _edit(
        catalog,
        "    name: Control actuator set (illustrative)\n    supplier: US\n",
        "    name: Control actuator set (illustrative)\n    supplier: US\n"
        "    dependencies:\n      - {kind: component, component: demo-guidance-kit-gb, share: 0.5}\n",
    )


def _unknown_supplier(pack: Path) -> None:
    _edit(pack / "catalog.yaml", "    supplier: GB\n", "    supplier: XX\n")


def _duplicate_dates(pack: Path) -> None:
    shutil.copytree(pack / "bundles/US/2025-05-01", pack / "bundles/US/second")


def _yaml_syntax(pack: Path) -> None:
    _edit(
        pack / "catalog.yaml", "  - {code: GB, name: United Kingdom}\n", "  - {code: GB, name: [\n"
    )


def _bundle_yaml_syntax(pack: Path) -> None:
    _edit(pack / "bundles/US/2025-05-01/bundle.yaml", "holder: US\n", "holder: US: x\n")


def _deep_catalog(pack: Path) -> None:
    (pack / "catalog.yaml").write_text("[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")


def _unknown_holder(pack: Path) -> None:
    _edit(pack / "bundles/US/2025-05-01/bundle.yaml", "holder: US\n", "holder: ZZ\n")


def _empty(pack: Path) -> None:
    shutil.rmtree(pack)
    pack.mkdir()


def _no_bundles(pack: Path) -> None:
    shutil.rmtree(pack / "bundles")


def _missing(pack: Path) -> None:
    shutil.rmtree(pack)


# name: (how to break a copy of the seed pack, the fragments the error must contain).
# `policy validate DIR` runs on every one, `screen --scenario DIR FILE` on those in SCREENED.
BROKEN_PACKS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "cedar syntax error": (_cedar_syntax, [US_REVIEW, "line 20"]),
    "policy violates the schema": (_schema_violation, [US_REVIEW, "line 15", "nosuch"]),
    "policy chained past what Cedar converts": (
        lambda pack: _chained(pack, 2_000),
        [US_REVIEW, "line 20", "chains more than 500 operators"],
    ),
    "policy nested past the Cedar limit": (
        lambda pack: _chained(pack, 150),
        [US_REVIEW, "line 15", "expression nesting exceeds the supported limit of 100 levels"],
    ),
    "policy without @id": (_missing_id, [US_REVIEW, "line 15", "@id"]),
    "gate names an unknown authority": (
        _unknown_gate,
        [US_REVIEW, "line 15", "us-review-mechanism", "unknown authority 'us.potus'"],
    ),
    "dependency cycle": (
        _cycle,
        [
            "catalog.yaml",
            "components[",
            "dependency cycle demo-guidance-kit-gb → demo-actuator-us → demo-guidance-kit-gb",
        ],
    ),
    "unknown supplier in catalog": (
        _unknown_supplier,
        ["catalog.yaml", "components[3].supplier", "unknown party 'XX'"],
    ),
    "duplicate bundle dates": (
        _duplicate_dates,
        ["bundles/US/second/bundle.yaml", "effective_from", "already has a bundle from 2025-05-01"],
    ),
    "catalog YAML syntax error": (_yaml_syntax, ["catalog.yaml", "line 7", "YAML"]),
    "catalog nested too deep": (_deep_catalog, ["catalog.yaml", "nested too deep"]),
    "bundle YAML syntax error": (
        _bundle_yaml_syntax,
        ["bundles/US/2025-05-01/bundle.yaml", "line 1", "YAML"],
    ),
    "bundle of an unknown holder": (
        _unknown_holder,
        ["bundles/US/2025-05-01/bundle.yaml", "holder", "unknown party 'ZZ'"],
    ),
    "empty folder": (_empty, ["not a scenario pack", "catalog.yaml"]),
    "pack with no bundles": (_no_bundles, ["bundles", "no policy bundles"]),
    "no such folder": (_missing, ["not a folder"]),
}

SCREENED = [
    "cedar syntax error",
    "policy violates the schema",
    "dependency cycle",
    "duplicate bundle dates",
    "empty folder",
    "pack with no bundles",
]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad")


@pytest.fixture(scope="module")
def good_request(work: Path) -> Path:
    return write_json(work / "good.json", G2)


@pytest.fixture(scope="module")
def refused(work: Path, good_request: Path) -> dict[str, Run]:
    """Every bad input of this module, run at once; keys are ``kind: name``."""
    commands: dict[str, Command] = {}
    for name in OWN_PROCESS:
        path = write_json(work / f"{name.replace(' ', '-')}.json", BAD_REQUESTS[name][0])
        commands[f"screen: {name}"] = Command(("screen", str(path), "--json"))
    lines = [
        json.dumps(G2),
        *(json.dumps(data) for data, _ in BAD_REQUESTS.values()),
        json.dumps(G5),
    ]
    commands["stream"] = Command(("screen", "-", "--json"), stdin="\n".join(lines) + "\n")
    for name, (breaks, _) in BROKEN_PACKS.items():
        pack = work / name.replace(" ", "-").replace("@", "")
        shutil.copytree(SEED, pack)
        breaks(pack)
        commands[f"validate: {name}"] = Command(("policy", "validate", str(pack)))
        if name not in SCREENED:
            continue
        commands[f"scenario: {name}"] = Command(
            ("screen", "--scenario", str(pack), str(good_request), "--json")
        )
    not_json = work / "not-json.json"
    not_json.write_text('{"action": "employ",\n  "system": atacms}\n', encoding="utf-8")
    missing = work / "nowhere.json"
    g2 = str(good_request)
    commands |= _worst_inputs(work)
    commands |= {
        "file: not JSON": Command(("screen", str(not_json))),
        "file: not found": Command(("screen", str(missing))),
        "file: explain not found": Command(("explain", str(missing))),
        "file: jsonl not found": Command(("screen", str(work / "nowhere.jsonl"))),
        "as-of: words": Command(("screen", g2, "--as-of", "yesterday")),
        "as-of: impossible": Command(("screen", g2, "--as-of", "2025-02-30")),
        "as-of: stream": Command(("screen", "-", "--as-of", "2025/06/15"), stdin=json.dumps(G2)),
        "catalog: unknown system": Command(("catalog", "holders", "nosuch")),
        "explain: unknown party": Command(
            ("explain", str(write_json(work / "explain-bad.json", {**G2, "requester": "XX"})))
        ),
    }
    return run_many(commands)


HUGE = "9" * 4_400
"""More digits than Python turns into an integer (4,300) unless told to."""


def _worst_inputs(work: Path) -> dict[str, Command]:
    """A tester's worst inputs, each through the installed command in a process of its own."""
    deep = work / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    huge = work / "huge.json"
    huge.write_text(json.dumps(G2).replace('"quantity": 2', f'"quantity": {HUGE}'))
    not_utf8 = work / "not-utf8.json"
    not_utf8.write_bytes(b'{"action": "employ", "system": "\xff\xfe"}')
    folder = work / "a-folder.json"
    folder.mkdir()
    lines = [json.dumps(G2).replace('"quantity": 2', f'"quantity": {HUGE}'), "[" * 100_000]
    return {
        "worst: screen deep": Command(("screen", str(deep))),
        "worst: explain deep": Command(("explain", str(deep))),
        "worst: submit deep": Command(("cases", "submit", str(deep), "--as", "ua.liaison")),
        "worst: huge number": Command(("screen", str(huge))),
        "worst: not UTF-8": Command(("explain", str(not_utf8))),
        "worst: folder": Command(("cases", "submit", str(folder), "--as", "ua.liaison")),
        "worst: page": Command(("cases", "list", "--page", "9" * 20)),
        "worst: far date": Command(
            ("screen", str(write_json(work / "far.json", {**G5, "date": "9999-12-31"})))
        ),
        "worst: stream": Command(
            ("screen", "-", "--json"), stdin="\n".join([*lines, json.dumps(G2)]) + "\n"
        ),
    }


WORST = [
    ("worst: screen deep", ["deep.json", "nested too deep"]),
    ("worst: explain deep", ["deep.json", "nested too deep"]),
    ("worst: submit deep", ["deep.json", "nested too deep"]),
    ("worst: huge number", ["huge.json", "a whole number of 4,400 digits"]),
    ("worst: not UTF-8", ["not-utf8.json", "not UTF-8 text"]),
    ("worst: folder", ["a-folder.json", "is a folder, not a file"]),
    ("worst: page", ["'--page'", "1000000"]),
    ("worst: far date", ["'date'", "9999-12-31 is outside the dates clearance takes"]),
]


@pytest.mark.parametrize(("name", "fragments"), WORST, ids=[name for name, _ in WORST])
def test_the_worst_inputs_are_refused_in_one_line(
    name: str, fragments: list[str], refused: dict[str, Run]
) -> None:
    assert_refused(refused[name], fragments)


def test_a_stream_goes_on_past_a_huge_number_and_deep_nesting(refused: dict[str, Run]) -> None:
    run = refused["worst: stream"]
    assert "Traceback" not in run.stderr
    assert run.returncode == 2
    huge, deep, good = (json.loads(line) for line in run.stdout.splitlines())
    assert (huge["line"], huge["field"]) == (1, "request")
    assert "4,400 digits" in huge["error"]
    assert (deep["line"], deep["field"]) == (2, "request")
    assert "nested too deep" in deep["error"]
    assert (good["line"], good["outcome"]) == (3, "review_required")


def assert_refused(run: Run, fragments: list[str]) -> None:
    """Exit 2, nothing on stdout, exactly one line on stderr with every fragment."""
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    assert run.returncode == 2, (run.args, run.returncode, run.stdout, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("name", OWN_PROCESS)
def test_a_bad_request_is_refused_naming_the_field(name: str, refused: dict[str, Run]) -> None:
    assert_refused(refused[f"screen: {name}"], ["request field", *BAD_REQUESTS[name][1]])


def test_every_bad_request_in_a_stream_gets_an_error_record_naming_the_field(
    refused: dict[str, Run],
) -> None:
    run = refused["stream"]
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(records) == len(BAD_REQUESTS) + 2
    assert [r["line"] for r in records] == list(range(1, len(records) + 1))
    assert records[0]["outcome"] == "review_required"
    assert records[-1]["outcome"] == "permitted"
    for record, (name, (_, fragments)) in zip(records[1:-1], BAD_REQUESTS.items(), strict=True):
        assert record["code"] == "invalid_request", name
        assert "outcome" not in record, name
        field = fragments[0].strip("'")
        assert record["field"] == field, name
        for fragment in fragments:
            assert fragment in record["error"], (name, fragment, record["error"])


@pytest.mark.parametrize("name", list(BROKEN_PACKS))
def test_policy_validate_refuses_a_broken_pack(name: str, refused: dict[str, Run]) -> None:
    assert_refused(refused[f"validate: {name}"], BROKEN_PACKS[name][1])


@pytest.mark.parametrize("name", SCREENED)
def test_screen_refuses_to_judge_by_a_broken_pack(name: str, refused: dict[str, Run]) -> None:
    run = refused[f"scenario: {name}"]
    assert_refused(run, BROKEN_PACKS[name][1])
    assert run.stderr == refused[f"validate: {name}"].stderr


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("file: not JSON", ["not-json.json", "not JSON", "line 2"]),
        ("file: not found", ["nowhere.json", "file not found"]),
        ("file: explain not found", ["nowhere.json", "file not found"]),
        ("file: jsonl not found", ["nowhere.jsonl", "file not found"]),
        ("as-of: words", ["--as-of", "YYYY-MM-DD"]),
        ("as-of: impossible", ["--as-of", "'2025-02-30' is not a date of the calendar"]),
        ("as-of: stream", ["--as-of", "2025/06/15"]),
        ("catalog: unknown system", ["unknown system 'nosuch'", "storm-shadow"]),
        ("explain: unknown party", ["'requester'", "unknown party 'XX'"]),
    ],
)
def test_bad_files_and_options_are_refused(
    name: str, fragments: list[str], refused: dict[str, Run]
) -> None:
    assert_refused(refused[name], fragments)


# --- bugs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bugs(work: Path) -> dict[str, Run]:
    def request(name: str, data: Any) -> str:
        return str(write_json(work / f"bug-{name}.json", data))

    lines = [json.dumps({**G2, "system": "[/x]"}), json.dumps(G2)]
    return run_many(
        {
            "long error": Command(("catalog", "holders", "nosuch"), columns=None),
            "[/x]": Command(("screen", request("close", {**G2, "system": "[/x]"}))),
            "[bold]x": Command(("screen", request("bold", {**G2, "system": "[bold]x"}))),
            "text stream": Command(("screen", "-"), stdin="\n".join(lines) + "\n"),
            "2**53": Command(("screen", request("big", {**G2, "quantity": 2**53}))),
            "2**53-1": Command(
                ("screen", request("largest", {**G2, "quantity": 2**53 - 1}), "--json")
            ),
        }
    )


def test_a_long_error_stays_on_one_line_at_the_default_width(bugs: dict[str, Run]) -> None:
    run = bugs["long error"]
    assert run.returncode == 2
    assert len(run.stderr.splitlines()) == 1, run.stderr


@pytest.mark.parametrize("system", ["[/x]", "[bold]x"])
def test_an_error_quoting_brackets_is_printed_as_written(system: str, bugs: dict[str, Run]) -> None:
    assert_refused(bugs[system], [f"unknown system '{system}'"])


def test_a_text_stream_survives_brackets_in_a_bad_line(bugs: dict[str, Run]) -> None:
    run = bugs["text stream"]
    assert "Traceback" not in run.stderr
    assert run.returncode == 2
    out = run.stdout.splitlines()
    assert len(out) == 2
    assert "unknown system '[/x]'" in out[0]
    assert out[1].startswith("REVIEW REQUIRED")


def test_a_quantity_too_large_for_exact_json_is_refused(bugs: dict[str, Run]) -> None:
    assert_refused(bugs["2**53"], ["'quantity'"])


def test_the_largest_quantity_a_request_takes_is_decided(bugs: dict[str, Run]) -> None:
    run = bugs["2**53-1"]
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["outcome"] == "review_required"


# --- a new user's slips with a request file ------------------------------------------------


@pytest.fixture(scope="module")
def slips(work: Path) -> dict[str, Run]:
    """What a new user gets wrong first, each through the installed command."""
    not_json = work / "slip-not-json.json"
    not_json.write_text('{"action": "employ",\n  "system": atacms}\n', encoding="utf-8")
    as_yaml = work / "g2.yaml"
    as_yaml.write_text(yaml.safe_dump(G2), encoding="utf-8")
    pack = work / "pack-with-a-folder"
    shutil.copytree(SEED, pack)
    (pack / "catalog.yaml").unlink()
    (pack / "catalog.yaml").mkdir()
    two_missing = {k: v for k, v in G2.items() if k not in ("requester", "quantity")}
    two_wrong = {**G2, "quantity": "2", "date": "2025-02-30"}
    lower = {**G2, "target": {"territory": "ru"}}
    return run_many(
        {
            "column": Command(("screen", str(not_json))),
            "yaml": Command(("screen", str(as_yaml))),
            "yaml submitted": Command(("cases", "submit", str(as_yaml), "--as", "ua.liaison")),
            "two missing": Command(("screen", str(write_json(work / "two.json", two_missing)))),
            "two wrong": Command(("screen", str(write_json(work / "wrong.json", two_wrong)))),
            "lower case": Command(("screen", str(write_json(work / "lower.json", lower)))),
            "lower requester": Command(
                ("screen", str(write_json(work / "ua.json", {**G2, "requester": "ua"})))
            ),
            "mixed case": Command(
                ("screen", str(write_json(work / "Ua.json", {**G2, "requester": "Ua"})))
            ),
            "folder in a pack": Command(("policy", "validate", str(pack))),
            "stream": Command(
                ("screen", "-", "--json"), stdin=f'{{"action": employ}}\n{json.dumps(lower)}\n'
            ),
        }
    )


SLIPS = [
    ("column", ["slip-not-json.json", "not JSON", "at line 2, column 13"]),
    ("yaml", ["g2.yaml", "not JSON but YAML", "a request must be JSON"]),
    ("yaml submitted", ["g2.yaml", "not JSON but YAML", "a request must be JSON"]),
    ("two missing", ["'requester'", "is required, and so is 'quantity'"]),
    (
        "two wrong",
        ["'quantity'", "valid integer", "also 'date': '2025-02-30' is not a date of the calendar"],
    ),
    ("lower case", ["'target.territory'", "unknown party 'ru'", "did you mean 'RU'?"]),
    ("lower requester", ["'requester'", "unknown party 'ua'", "did you mean 'UA'?"]),
    (
        "mixed case",
        ["'requester'", "'Ua' is not a party code", "two capital letters", "did you mean 'UA'?"],
    ),
    ("folder in a pack", ["catalog.yaml", "is a folder, not a file"]),
]


@pytest.mark.parametrize(("name", "fragments"), SLIPS, ids=[name for name, _ in SLIPS])
def test_a_new_users_slip_is_named_in_words_they_can_act_on(
    name: str, fragments: list[str], slips: dict[str, Run]
) -> None:
    run = slips[name]
    assert_refused(run, fragments)
    assert "Errno" not in run.stderr
    assert "more)" not in run.stderr


def test_a_stream_names_the_column_and_the_capitals_of_a_bad_line(slips: dict[str, Run]) -> None:
    not_json, lower = slips["stream"].json_lines()
    assert not_json["field"] == "request"
    assert "at column 12" in not_json["error"]
    assert lower["field"] == "target.territory"
    assert "did you mean 'RU'?" in lower["error"]
