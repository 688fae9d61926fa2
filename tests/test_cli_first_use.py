"""What a new user trips over first with the installed ``clearance`` command.

Each test runs the console script in a process of its own, as a user would:
with no argument on a terminal, before ``clearance init``, without a terminal
for a passphrase, and with ``serve`` on a port another program holds.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.cli_support import Cli

from .parallel_support import serving_port
from .test_cli import cli_env, scenario_requests

CLI = Path(sys.executable).parent / "clearance"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _run(
    *args: str, env: dict[str, str], stdin: int | None = None, text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed command in a session of its own: no terminal it could fall back to."""
    return subprocess.run(
        [str(CLI), *args],
        env=env,
        stdin=stdin,
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
        check=False,
    )


def test_screen_without_a_request_on_a_terminal_says_what_it_takes() -> None:
    ours, theirs = pty.openpty()
    try:
        done = _run("screen", env=cli_env(200), stdin=theirs)
    finally:
        os.close(ours)
        os.close(theirs)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: request: none given: name a JSON file, or '-' to read JSON lines from"
        " standard input\n"
    )


def test_screen_without_a_request_reads_a_pipe() -> None:
    done = _run("screen", env=cli_env(200), text=json.dumps(scenario_requests()["G2"]) + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("REVIEW REQUIRED")


@pytest.mark.parametrize(
    "args",
    [
        ["cases", "list"],
        ["users", "add", "ua.liaison", "--name", "L", "--party", "UA", "--passphrase", "p"],
        ["policy", "proposals"],
        ["serve", "--port", "0"],
    ],
)
def test_a_command_before_init_refuses_and_creates_nothing(tmp_path: Path, args: list[str]) -> None:
    data = tmp_path / "data"
    env = {**cli_env(200), "CLEARANCE_DATA_DIR": str(data)}
    env.pop("CLEARANCE_DATABASE_URL", None)
    done = _run(*args, env=env)
    assert done.returncode == 2
    assert done.stderr == "error: the database is not initialised; run 'clearance init'\n"
    assert not data.exists()
    assert list(tmp_path.iterdir()) == []


@SQLITE
def test_approving_without_a_terminal_reads_the_passphrase_from_stdin_without_a_warning(
    cli: Cli,
) -> None:
    cli("cases", "submit", cli.file("g2.json", scenario_requests()["G2"]), "--as", "ua.liaison")
    env = {**cli_env(200), **cli.env}
    passphrase = env.pop("CLEARANCE_PASSPHRASE")
    approve = ("cases", "approve", "1", "--as", "secdef", "--reason", "ok", "--json")
    empty = _run(*approve, env=env, stdin=subprocess.DEVNULL)
    assert empty.returncode == 2
    assert empty.stderr.startswith("error: --passphrase: not given")
    assert "Warning" not in empty.stderr
    done = _run(*approve, env=env, text=f"{passphrase}\n")
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr
    assert done.stderr == ""
    assert cli.json("cases", "show", "1")["state"] == "approved"


@SQLITE
def test_serve_on_a_port_in_use_says_so_in_one_line_and_nothing_else(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run("serve", "--port", str(port), env={**cli_env(200), **cli.env})
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"error: --port: {port} is already in use on 127.0.0.1\n"


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@SQLITE
@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("127.0.0.1", "127.0.0.1"),
        pytest.param(
            "::1",
            "[::1]",
            marks=pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here"),
        ),
    ],
)
def test_serve_on_port_0_names_the_free_port_it_took_and_answers_there(
    cli: Cli, tmp_path: Path, host: str, shown: str
) -> None:
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(CLI), "serve", "--host", host, "--port", "0"],
            env={**cli_env(200), **cli.env},
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    try:
        port = serving_port(server, log)
        assert port != 0
        assert log.read_text().startswith(f"serving on http://{shown}:{port} (API docs at /docs)")
        with urllib.request.urlopen(f"http://{shown}:{port}/health", timeout=10) as answer:
            assert json.load(answer)["status"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=30)


@SQLITE
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_with_a_pack_that_does_not_load_says_so_before_serving(
    cli: Cli, tmp_path: Path, workers: str
) -> None:
    env = {**cli_env(200), **cli.env, "CLEARANCE_SCENARIO": str(tmp_path)}
    done = _run("serve", "--port", "0", "--workers", workers, env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"error: {tmp_path}: not a scenario pack: it has no catalog.yaml\n"


@SQLITE
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("capsh") is None,
    reason="needs root and capsh to take the privilege to bind low ports away",
)
def test_serve_on_a_port_that_needs_privileges_blames_the_port(cli: Cli) -> None:
    done = subprocess.run(
        ["capsh", "--drop=cap_net_bind_service", "--", "-c", f"'{CLI}' serve --port 80"],
        env={**cli_env(200), **cli.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "error: --port: 80 needs privileges this process lacks\n"
