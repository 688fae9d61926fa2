"""Request bodies the server will not read, and a batch that does not stop the server.

In process: a body over ``CLEARANCE_MAX_BODY_BYTES`` (by its length, or counted
as it arrives) is 413 ``too_large`` and changes nothing; the proposal upload
routes have their own, larger limit; an anonymous body to the API is 401
unread. Against a real ``clearance serve``: a 200 MB unauthenticated body,
announced or chunked, leaves the server's memory as it was, and ``/health``
answers promptly while a batch of 10,000 requests is being screened.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .api_support import ATACMS_JUNE, Api, open_api
from .parallel_support import serving_port
from .test_api import (  # noqa: F401 (the seeded demo world's fixtures)
    assert_error,
    postgresql_template,
    seeded,
    sqlite_template,
)
from .test_cli import cli_env
from .test_proposals import candidate

LIMIT = 20_000
PROPOSAL_LIMIT = 200_000


@pytest.fixture
def api(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811 (test_api's fixture)
    limits = {
        "CLEARANCE_MAX_BODY_BYTES": str(LIMIT),
        "CLEARANCE_MAX_PROPOSAL_BYTES": str(PROPOSAL_LIMIT),
    }
    with open_api(tmp_path / "data", seeded, **limits) as api:
        yield api


def _ledger(api: Api) -> tuple[int, int]:
    return api.server.store.ledger_bounds()


def _padded(size: int) -> dict[str, Any]:
    """A request whose JSON is ``size`` bytes or a little more, most of it one field's padding."""
    return {**ATACMS_JUNE, "padding": "x" * size}


def test_a_body_over_the_limit_is_refused_and_changes_nothing(api: Api) -> None:
    client = api.as_user("ua.liaison")
    before = _ledger(api)
    refused = client.post("/api/v1/cases", json=_padded(LIMIT))
    body = assert_error(refused, 413, "too_large")
    assert f"{LIMIT:,} bytes" in body["message"]
    assert _ledger(api) == before
    # At the limit, the body is read and judged on its merits (here: an unknown field).
    text = json.dumps(ATACMS_JUNE | {"padding": ""})
    exact = json.dumps(_padded(LIMIT - len(text)))
    assert len(exact) == LIMIT
    answered = client.post(
        "/api/v1/cases", content=exact, headers={"Content-Type": "application/json"}
    )
    assert_error(answered, 422, "invalid_request", "padding")


def test_a_chunked_body_is_counted_as_it_arrives(api: Api) -> None:
    client = api.as_user("ua.liaison")
    chunk = b" " * 4096

    def body() -> Iterator[bytes]:
        for _ in range(2 * LIMIT // len(chunk)):
            yield chunk
        yield json.dumps(ATACMS_JUNE).encode()

    before = _ledger(api)
    refused = client.post(
        "/api/v1/cases", content=body(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in refused.request.headers
    assert_error(refused, 413, "too_large")
    assert _ledger(api) == before


def test_an_anonymous_body_to_the_api_is_refused_before_it_is_read(api: Api) -> None:
    anonymous = api.client()
    answer = anonymous.post("/api/v1/screen", content=b"[" * (10 * LIMIT))
    assert_error(answer, 401, "unauthenticated")
    # Signing in needs no credential, and keeps the limit.
    too_long = anonymous.post("/api/v1/session", content=b" " * (LIMIT + 1))
    assert_error(too_long, 413, "too_large")


def test_the_upload_of_a_proposal_has_a_limit_of_its_own(api: Api) -> None:
    secdef = api.as_user("us.liaison")
    files = candidate("2099-01-01")
    files["padding.cedar"] = "// " + "x" * (2 * LIMIT)
    accepted = secdef.post("/api/v1/proposals", json={"files": files})
    assert accepted.status_code == 201, accepted.text
    files["padding.cedar"] = "// " + "x" * PROPOSAL_LIMIT
    assert_error(secdef.post("/api/v1/proposals", json={"files": files}), 413, "too_large")
    # Another route keeps the ordinary limit.
    assert_error(secdef.post("/api/v1/screen", json=_padded(2 * LIMIT)), 413, "too_large")


@pytest.fixture
def large_bodies_api(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811 (test_api's fixture)
    with open_api(tmp_path / "data", seeded, CLEARANCE_MAX_BODY_BYTES="5000000") as api:
        yield api


def test_a_batch_over_the_cap_is_refused_naming_the_body(large_bodies_api: Api) -> None:
    client = large_bodies_api.as_user("us.reviewer")
    answer = client.post("/api/v1/screen/batch", json=[ATACMS_JUNE] * 10_001)
    body = assert_error(answer, 422, "invalid_request", "body")
    assert "10000" in body["message"]


# a real server ---------------------------------------------------------------------


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``clearance serve`` over a SQLite database with one reviewer and an API token."""
    folder = tmp_path_factory.mktemp("served")
    env = {
        **cli_env(200),
        "CLEARANCE_DATA_DIR": str(folder / "data"),
        "CLEARANCE_PASSPHRASE": "a key passphrase",
        "CLEARANCE_MAX_BODY_BYTES": "5000000",
    }
    cli = Path(sys.executable).parent / "clearance"

    def run(*args: str) -> str:
        return subprocess.run(
            [str(cli), *args], env=env, capture_output=True, text=True, check=True
        ).stdout

    run("init")
    run("users", "add", "reviewer", "--name", "R", "--party", "US", "--role", "reviewer")
    token = json.loads(run("users", "token", "reviewer", "--name", "tests", "--json"))["token"]
    with (folder / "server.log").open("w") as log:
        process = subprocess.Popen(
            [str(cli), "serve", "--port", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        server = Served(process, serving_port(process, folder / "server.log"), token)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _send_huge(port: int, head: bytes, chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send a request head, then body bytes until the server answers or closes; returns
    the head of the answer and how many body bytes went out before it came."""
    sent, answer, pending = 0, b"", b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        writing = True
        while b"\r\n\r\n" not in answer:
            readable, writable, _ = select.select([sock], [sock] if writing else [], [], 30)
            assert readable or writable, "the server neither answered nor read for 30 s"
            try:
                if readable:
                    data = sock.recv(65536)
                    if not data:
                        break
                    answer += data
                elif writable:
                    pending = pending or next(chunks, b"")
                    writing = bool(pending)
                    count = sock.send(pending)
                    sent, pending = sent + count, pending[count:]
            except ConnectionError:  # the server closed a connection it would read no more of
                writing = False
                if not readable:
                    continue
                break
    return answer, sent


MB = 1 << 20


@pytest.mark.slow
@pytest.mark.parametrize(
    ("framing", "status"),
    [("content-length", b"401"), ("chunked", b"413")],
    ids=["anonymous, its length announced", "with a token, chunked"],
)
def test_a_200_mb_body_leaves_the_servers_memory_as_it_was(
    served: Served, framing: str, status: bytes
) -> None:
    """Announced by an anonymous sender, it is refused before a byte is read (401); sent in
    chunks with a token (not a valid one: the server cannot know before it looks), at most
    the limit (5 MB here) is read before the 413."""
    total = 200 * MB
    piece = b"[" * (MB // 4)
    before = served.rss_kib()
    if framing == "content-length":
        head = (
            "POST /api/v1/screen HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Type: application/json\r\nContent-Length: {total}\r\n\r\n"
        ).encode()
        chunks = iter([piece] * (total // len(piece)))
    else:
        head = (
            b"POST /api/v1/screen HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Authorization: Bearer clr_not-a-token\r\n\r\n"
        )
        framed = b"%x\r\n" % len(piece) + piece + b"\r\n"
        chunks = iter([framed] * (total // len(piece)))
    answer, sent = _send_huge(served.port, head, chunks)
    after = served.rss_kib()
    assert answer.split(b" ", 2)[1] == status, answer[:200]
    assert sent < total // 4, f"the server went on reading: {sent:,} of {total:,} bytes sent"
    assert after - before < 16 * 1024, f"memory grew from {before:,} KiB to {after:,} KiB"


def _batch(size: int) -> bytes:
    return json.dumps([ATACMS_JUNE] * size).encode()


@pytest.mark.slow
def test_health_answers_while_a_large_batch_is_screened(served: Served) -> None:
    body = _batch(10_000)
    headers = {"Authorization": f"Bearer {served.token}", "Content-Type": "application/json"}
    done: list[httpx.Response] = []

    def screen() -> None:
        done.append(
            httpx.post(
                f"{served.url}/api/v1/screen/batch", content=body, headers=headers, timeout=120
            )
        )

    batch = threading.Thread(target=screen)
    started = time.monotonic()
    batch.start()
    waits: list[float] = []
    with httpx.Client(base_url=served.url, timeout=30) as client:
        time.sleep(0.3)  # the batch has arrived and is being screened
        while batch.is_alive():
            t0 = time.perf_counter()
            assert client.get("/health").status_code == 200
            waits.append(time.perf_counter() - t0)
            time.sleep(0.05)
    batch.join()
    elapsed = time.monotonic() - started
    assert done[0].status_code == 200, done[0].text[:500]
    assert len(done[0].json()) == 10_000
    print(
        f"batch of 10,000: {elapsed:.2f} s; /health waited (ms)", [round(w * 1000) for w in waits]
    )
    # Blocked by the batch, /health would wait for most of it; answered beside it, each wait
    # is a small part of it. Measured against the batch, not in milliseconds, so that a
    # loaded machine slows both alike.
    assert max(waits) < elapsed / 4, (
        f"/health waited up to {max(waits) * 1000:.0f} ms of the batch's {elapsed * 1000:.0f}"
    )
    assert len(waits) >= 3, f"the batch took only {elapsed:.2f} s: too quick to watch"
