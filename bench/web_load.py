"""The HTTP API under load, with the load generator in the same run, on loopback.

    .venv/bin/python bench/web_load.py                       # 2 workers, SQLite, 20 s of screening
    .venv/bin/python bench/web_load.py --workers 1 --seconds 10 --json
    .venv/bin/python bench/web_load.py --database postgresql

It starts ``clearance serve`` (uvicorn, ``--workers N``) on a free loopback
port against a fresh database (a SQLite file, or a throwaway PostgreSQL
cluster as the tests use), issues an API token, and measures:

(a) ``POST /api/v1/screen`` with the generated request mix: requests/s and
    latency percentiles at a fixed number of connections; every request is
    authenticated with the token (looked up in the database each time, so a
    revoked token is refused at once);
(b) the reference in the same run: ``Screener.decide`` on the same requests in
    this process, without HTTP (what the server's work costs without the web);
(c) ``POST /api/v1/cases`` (submission: screen, store, two ledger events):
    cases/s, every one a new case (no key is sent twice).

The load generator is a small asyncio HTTP/1.1 client over keep-alive
connections with pre-encoded requests, so that it takes as little of the two
cores as it can; it runs in this process while the server runs in others.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.databases import postgres_cluster

from clearance.core.request import parse_request
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from common import emit, machine, percentile, request_mix, table

# Submissions prepared for (c), each with a key of its own: more than 10 s at
# the goal of 300 cases/s can send.
SUBMISSIONS = 10_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _database(kind: str, folder: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder}/bench.db"
        return
    with postgres_cluster() as cluster:
        yield cluster.fresh_database()


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "clearance", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"clearance {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@contextmanager
def server(kind: str, workers: int) -> Iterator[tuple[int, str]]:
    """A running server and an API token of a requester cleared TOP SECRET."""
    with (
        tempfile.TemporaryDirectory(prefix="clearance-http-") as folder,
        _database(kind, folder) as url,
    ):
        env = {
            **os.environ,
            "CLEARANCE_DATA_DIR": folder,
            "CLEARANCE_DATABASE_URL": url,
            "CLEARANCE_PASSPHRASE": "bench passphrase",
        }
        _cli(env, "init")
        for party in ("UA", "GB", "US"):
            user = f"{party.lower()}.liaison"
            _cli(env, "users", "add", user, "--name", user, "--party", party)
        tokens = {
            party: json.loads(
                _cli(env, "users", "token", f"{party.lower()}.liaison", "--name", "bench", "--json")
            )["token"]
            for party in ("UA", "GB", "US")
        }
        port = _free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clearance",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    time.sleep(0.2)
            time.sleep(1.0 * workers)  # every worker up
            yield port, json.dumps(tokens)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _encode(port: int, path: str, token: str, body: dict[str, Any], extra: str = "") -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{extra}\r\n"
    )
    return head.encode() + payload


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def _load(
    port: int, requests: list[bytes], connections: int, seconds: float
) -> tuple[list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop = time.perf_counter() + seconds

    async def one(offset: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        index = offset
        while time.perf_counter() < stop:
            start = time.perf_counter()
            status = await _exchange(reader, writer, requests[index % len(requests)])
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
            index += connections
        writer.close()

    await asyncio.gather(*(one(i) for i in range(connections)))
    return latencies, statuses


def _summary(latencies: list[float], statuses: dict[int, int], seconds: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "per_s": len(ordered) / seconds,
        "p50_ms": percentile(ordered, 0.5) * 1e3,
        "p95_ms": percentile(ordered, 0.95) * 1e3,
        "p99_ms": percentile(ordered, 0.99) * 1e3,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    pack = load_pack()
    mix = request_mix([s.id for s in pack.catalog.systems], 2_000)
    screener = Screener(pack)
    parsed = [parse_request(r) for r in mix]
    start = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    for request in parsed:
        screener.decide(request, decision_id=str(uuid.uuid4()), now=now)
    reference = len(parsed) / (time.perf_counter() - start)

    with server(args.database, args.workers) as (port, token_json):
        tokens = json.loads(token_json)
        screens = [_encode(port, "/api/v1/screen", tokens[r["requester"]], r) for r in mix]
        asyncio.run(_load(port, screens, args.connections, 2.0))  # warm up
        latencies, statuses = asyncio.run(_load(port, screens, args.connections, args.seconds))
        screening = _summary(latencies, statuses, args.seconds)
        # A key of its own for every submission the run can send, so that no
        # answer is an idempotent replay (200) counted as a new case (201).
        submits = [
            _encode(
                port,
                "/api/v1/cases",
                tokens[mix[i % len(mix)]["requester"]],
                mix[i % len(mix)],
                f"Idempotency-Key: bench-{i}\r\n",
            )
            for i in range(SUBMISSIONS)
        ]
        latencies, statuses = asyncio.run(
            _load(port, submits, args.connections, min(args.seconds, 10.0))
        )
        submitting = _summary(latencies, statuses, min(args.seconds, 10.0))
    return {
        "machine": machine(),
        "database": args.database,
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "screen": screening,
        "decide_in_process_per_s": reference,
        "submit": submitting,
    }


def report(result: dict[str, Any]) -> str:
    rows = []
    for name in ("screen", "submit"):
        r = result[name]
        rows.append(
            [
                f"POST /api/v1/{'screen' if name == 'screen' else 'cases'}",
                f"{r['per_s']:,.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p95_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                ", ".join(f"{k}: {v}" for k, v in r["statuses"].items()),
            ]
        )
    return "\n".join(
        [
            f"{result['workers']} worker(s), {result['connections']} connections,"
            f" {result['database']}; Screener.decide in process:"
            f" {result['decide_in_process_per_s']:,.0f}/s",
            table(["endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "statuses"], rows),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    return emit(run(args), args.json, report)


if __name__ == "__main__":
    sys.exit(main())
