"""How fast a stolen key file's passphrase can be guessed, on this machine, per core.

A guess is one key derivation with the costs the file names; the attacker
needs nothing else (the authenticated cipher checks the guess in
microseconds). So guesses per second per core is one over the CPU time of one
derivation, measured here with ``time.process_time`` (which counts every
thread of the process: the lanes of argon2id run in threads, so the wall time
is shorter than the CPU time on a machine with several cores, but the work,
and so an attacker's rate per core, is not).

Measured for:

- the costs keys are sealed with now (``core.signing.KDF``), through the same
  function that unlocks them (``open_key``, one derivation and a signature);
- the old key files: PKCS #8 PEM with PBKDF2 (2,048 iterations), as
  ``cryptography``'s ``BestAvailableEncryption`` wrote them;
- argon2id's raw speed, in KiB-passes per CPU-second, which is what
  tests/test_key_files.py checks the costs against.

The fastest round is the one reported: it is the attacker's rate.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.core.signing import KDF, open_key, seal_key
from common import emit, machine, table

PASSPHRASE = "a passphrase of a bench user"


def _cpu_seconds(work: Callable[[], object], rounds: int) -> tuple[list[float], list[float]]:
    """(CPU seconds, wall seconds) of each of ``rounds`` calls of ``work``."""
    cpu, wall = [], []
    for _ in range(rounds):
        c, w = time.process_time(), time.perf_counter()
        work()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return cpu, wall


def run(rounds: int) -> dict[str, Any]:
    private = Ed25519PrivateKey.generate()
    sealed = seal_key(private, PASSPHRASE)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )

    def raw() -> bytes:
        return hash_secret_raw(
            PASSPHRASE.encode(),
            b"sixteen byte salt",
            time_cost=KDF.time_cost,
            memory_cost=KDF.memory_kib,
            parallelism=KDF.parallelism,
            hash_len=32,
            type=Type.ID,
        )

    measures: dict[str, Callable[[], object]] = {
        "sealed (argon2id, current costs)": lambda: open_key(sealed, PASSPHRASE),
        "argon2id derivation alone": raw,
        # What a guess at an old file costs: the PEM load alone (unlocking one through
        # ``open_key`` also reseals it, which is a derivation at the new costs).
        "old PEM (PBKDF2, 2,048 iterations)": lambda: serialization.load_pem_private_key(
            pem, PASSPHRASE.encode()
        ),
    }
    results: dict[str, Any] = {"machine": machine(), "kdf": KDF.as_dict(), "measures": {}}
    for name, work in measures.items():
        cpu, wall = _cpu_seconds(work, rounds)
        best = min(cpu)
        results["measures"][name] = {
            "cpu_seconds": cpu,
            "wall_seconds": wall,
            "best_cpu_seconds": best,
            "guesses_per_second_per_core": 1 / best,
        }
    alone = results["measures"]["argon2id derivation alone"]["best_cpu_seconds"]
    results["kib_passes_per_cpu_second"] = KDF.work / alone
    return results


def report(result: dict[str, Any]) -> str:
    kdf = result["kdf"]
    rows = []
    for name, m in result["measures"].items():
        rows.append(
            [
                name,
                f"{m['best_cpu_seconds'] * 1000:,.1f} ms",
                f"{sorted(m['wall_seconds'])[len(m['wall_seconds']) // 2] * 1000:,.1f} ms",
                f"{m['guesses_per_second_per_core']:,.1f}",
            ]
        )
    lines = [
        f"argon2id costs: time {kdf['time_cost']}, memory {kdf['memory_kib']:,} KiB,"
        f" {kdf['parallelism']} lanes",
        table(["unlocking", "CPU (best)", "wall (median)", "guesses/s per core"], rows),
        f"argon2id: {result['kib_passes_per_cpu_second']:,.0f} KiB-passes per CPU-second at best",
        "machine: " + ", ".join(f"{k} {v}" for k, v in result["machine"].items()),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=20, help="unlocks of each kind (20)")
    parser.add_argument("--json", action="store_true", help="every round's figures as JSON")
    args = parser.parse_args()
    return emit(run(args.rounds), args.json, report)


if __name__ == "__main__":
    sys.exit(main())
