"""What lets the tests run in parallel (pytest-xdist): each worker is a pytest session of
its own, in a process of its own, so anything a session makes once must not collide with
another worker's: ports, folders, files outside tmp_path.

- ``worker()`` names the worker (``gw0``, ``gw1``, …; ``main`` when not under xdist), for
  names that must differ between workers;
- ``free_port()`` is a loopback port nothing listens on, asked of the kernel, for a test
  server of the tests' own; ``clearance serve`` is started with ``--port 0`` instead and
  ``serving_port()`` reads the port it bound, so no other process can take it between;
- ``locked(path)`` holds an exclusive lock on a folder, for work that only one process may
  do at a time (installing the OpenID provider's packages, say), whichever worker asks first.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["free_port", "locked", "serving_port", "worker"]

_SERVING = re.compile(r"serving on http://\[?([^\]/]+?)\]?:(\d+) ")


def worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def free_port() -> int:
    """A port nothing listens on at the moment, on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serving_port(server: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> int:
    """The port a ``clearance serve --port 0`` bound, as it printed it to ``log`` (its
    standard error), once ``/health`` answers there. The port listens before the line is
    printed, so the first request after it waits for the server rather than being refused;
    fails with the log if it is refused, or if the server stops or prints nothing within
    ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        found = _SERVING.search(log.read_text())
        if found is not None:
            host, port = found[1], int(found[2])
            shown = f"[{host}]" if ":" in host else host
            try:
                with urllib.request.urlopen(f"http://{shown}:{port}/health", timeout=seconds):
                    return port
            except OSError as exc:
                raise AssertionError(f"{exc} just after:\n{log.read_text()}") from None
        time.sleep(0.1)
    raise AssertionError("clearance serve did not answer:\n" + log.read_text())


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (an advisory ``flock``, released when the block
    ends or the process dies); other processes wait for it at the same call."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing the descriptor releases the lock
