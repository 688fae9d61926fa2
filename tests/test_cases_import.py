"""``clearance cases import``: many requests at once, each recorded as ``cases submit`` records it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .cli_support import Cli

G2 = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}


def _request(number: int) -> dict[str, Any]:
    return {**G2, "quantity": 1 + number % 5, "date": f"2025-06-{1 + number % 28:02d}"}


def _lines(path: Path, lines: list[Any]) -> str:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def _events(cli: Cli, number: int) -> list[str]:
    return [e["type"] for e in cli.json("cases", "show", str(number))["events"]]


def test_an_import_records_each_case_as_a_submission_and_is_idempotent(cli: Cli) -> None:
    lines = [{"request": _request(n), "idempotency_key": f"import-{n}"} for n in range(1, 13)]
    lines[3] = {**lines[3], "classification": "UNCLASSIFIED"}
    lines.append(_request(99))  # a bare request: no key
    file = _lines(cli.tmp / "requests.jsonl", lines)

    done = cli.json("cases", "import", file, "--as", "ua.liaison", "--batch", "5")
    assert done["submitted"] == 13
    assert done["existing"] == 0
    assert done["refused"] == []
    assert done["cases"] == list(range(1, 14))

    alone = cli.json("cases", "submit", cli.file("one.json", _request(1)), "--as", "ua.liaison")
    first = cli.json("cases", "show", "1")
    assert first["decision"]["outcome"] == alone["decision"]["outcome"]
    assert first["decision"]["required_approvals"] == alone["decision"]["required_approvals"]
    assert first["state"] == alone["state"]
    assert _events(cli, 1) == _events(cli, alone["number"])

    again = cli.json("cases", "import", file, "--as", "ua.liaison")
    assert again["submitted"] == 1
    assert again["existing"] == 12
    assert again["cases"][:12] == list(range(1, 13))
    assert cli.json("audit", "verify")["ok"] is True


def test_a_bad_line_is_named_and_nothing_is_written(cli: Cli) -> None:
    lines = [json.dumps(_request(n)) for n in range(5)]
    lines[3] = json.dumps({**G2, "system": "no-such-system"})
    path = cli.tmp / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")

    bad = cli("cases", "import", str(path), "--as", "ua.liaison", ok=False)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert f"{path}:4:" in bad.stderr
    assert "system" in bad.stderr
    assert cli.json("cases", "list", "--all")["total"] == 0

    path.write_text(json.dumps(_request(1)) + "\n{not json\n")
    bad = cli("cases", "import", str(path), "--as", "ua.liaison", ok=False)
    assert bad.returncode == 2
    assert f"{path}:2:" in bad.stderr
    assert cli.json("cases", "list", "--all")["total"] == 0


def test_a_line_the_database_refuses_is_named_and_the_others_are_written(cli: Cli) -> None:
    cli(
        "cases",
        "submit",
        cli.file("one.json", _request(7)),
        "--as",
        "ua.liaison",
        "--idempotency-key",
        "taken",
    )
    lines = [{"request": _request(n), "idempotency_key": f"k-{n}"} for n in range(3)]
    lines[1] = {"request": _request(8), "idempotency_key": "taken"}  # another request's key
    above = [*lines, {"request": _request(9), "classification": "SECRET"}]  # above the user

    # A line the user may not submit refuses the file whole, before anything is written.
    refused = cli(
        "cases", "import", _lines(cli.tmp / "above.jsonl", above), "--as", "ua.liaison", ok=False
    )
    assert refused.returncode == 2
    assert "above.jsonl:4: " in refused.stderr
    assert cli.json("cases", "list", "--all")["total"] == 1

    # A key taken by another request is known only when its batch is written: it is named,
    # and the other lines are written.
    done = cli(
        "cases",
        "import",
        _lines(cli.tmp / "requests.jsonl", lines),
        "--as",
        "ua.liaison",
        "--json",
        ok=False,
    )
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert answer["submitted"] == 2
    assert answer["cases"] == [2, None, 3]
    assert answer["refused"][0]["line"] == 2
    assert answer["refused"][0]["code"] == "conflict"
    assert cli.json("cases", "list", "--all")["total"] == 3
    assert cli.json("audit", "verify")["ok"] is True
