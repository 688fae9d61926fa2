"""What lets the tests run in parallel (pytest-xdist): each worker is a pytest session of
its own, in a process of its own, so anything a session makes once must not collide with
another worker's: ports, folders, files outside tmp_path.

- ``worker()`` names the worker (``gw0``, ``gw1``, …; ``main`` when not under xdist), for
  names that must differ between workers;
- ``free_port()`` is a loopback port nothing listens on, asked of the kernel;
- ``locked(path)`` holds an exclusive lock on a folder, for work that only one process may
  do at a time (installing the OpenID provider's packages, say), whichever worker asks first.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["free_port", "locked", "worker"]


def worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def free_port() -> int:
    """A port nothing listens on at the moment, on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
