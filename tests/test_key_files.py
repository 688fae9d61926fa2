"""Private key files: sealed with a memory-hard derivation; old PEM files resealed on first use.

Every test here unlocks real files with the real costs: a few tenths of a
second each, on purpose. How fast a guess is, measured, is in
docs/benchmarks.md (``bench/keys.py``); here only the costs are checked.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.core.signing import (
    KEY_FILE_FORMAT,
    KEY_FILE_VERSION,
    KdfCost,
    new_key_pair,
    open_key,
    seal_key,
    unlock,
    verify,
)
from clearance.errors import SignatureError
from clearance.policy.pack import load_pack
from clearance.service.anchoring import sealed_store
from clearance.service.keyfiles import open_key_file, write_key_file
from clearance.service.people import People
from clearance.store.db import open_database

from .cli_support import Cli
from .key_costs import REAL as REAL_KDF
from .test_cases_cli import G2

pytestmark = pytest.mark.usefixtures("real_key_costs")

PASSPHRASE = "correct horse battery"
MESSAGE = b"approve case 17"

# bench/keys.py measured argon2id on the reference machine at 1.41 million KiB-passes per
# CPU-second at best (docs/benchmarks.md). At most 10 guesses a second per core therefore
# needs at least a tenth of that per guess.
BEST_KIB_PASSES_PER_CPU_SECOND = 1_410_000
MAX_GUESSES_PER_SECOND = 10


def _old_pem(private: Ed25519PrivateKey, passphrase: str = PASSPHRASE) -> bytes:
    """A key file as clearance wrote it before format version 1: PKCS #8, PBKDF2."""
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )


def _public(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def test_the_costs_allow_at_most_ten_guesses_a_second_per_core() -> None:
    assert REAL_KDF.work * MAX_GUESSES_PER_SECOND >= BEST_KIB_PASSES_PER_CPU_SECOND
    assert REAL_KDF.memory_kib >= 64 * 1024  # memory-hard: a guess needs 64 MiB of its own
    content = json.loads(new_key_pair(PASSPHRASE)[1])
    assert content["kdf"] == {
        "name": "argon2id",
        **REAL_KDF.as_dict(),
        "salt": content["kdf"]["salt"],
    }


def test_a_new_key_file_is_the_documented_format_and_signs_for_its_public_key() -> None:
    public, content = new_key_pair(PASSPHRASE)
    data = json.loads(content)
    assert data["format"] == KEY_FILE_FORMAT
    assert data["version"] == KEY_FILE_VERSION
    assert data["public_key"] == public
    assert data["cipher"]["name"] == "chacha20-poly1305"
    assert len(base64.b64decode(data["sealed_key"])) == 32 + 16  # the raw key and the tag
    opened = open_key(content, PASSPHRASE)
    assert opened.resealed is None, "a file in the current format at current costs stays"
    assert verify(public, MESSAGE, opened.sign(MESSAGE))


def test_the_new_format_refuses_a_wrong_passphrase() -> None:
    _, content = new_key_pair(PASSPHRASE)
    with pytest.raises(SignatureError, match="wrong passphrase or damaged key file"):
        unlock(content, "correct horse battery!")


def _changed(content: bytes, *path: str, to: object) -> bytes:
    data = json.loads(content)
    place = data
    for name in path[:-1]:
        place = place[name]
    place[path[-1]] = to
    return json.dumps(data).encode()


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "change",
    [
        "sealed key",
        "salt",
        "nonce",
        "time cost",
        "public key",
        "truncated",
    ],
)
def test_the_new_format_refuses_a_changed_file(change: str) -> None:
    _, content = new_key_pair(PASSPHRASE)
    data = json.loads(content)
    other, _ = new_key_pair(PASSPHRASE)
    tampered = {
        "sealed key": lambda: _changed(content, "sealed_key", to=_flip(data["sealed_key"])),
        "salt": lambda: _changed(content, "kdf", "salt", to=_flip(data["kdf"]["salt"])),
        "nonce": lambda: _changed(content, "cipher", "nonce", to=_flip(data["cipher"]["nonce"])),
        "time cost": lambda: _changed(content, "kdf", "time_cost", to=REAL_KDF.time_cost + 1),
        "public key": lambda: _changed(content, "public_key", to=other),
        "truncated": lambda: content[: len(content) // 2],
    }[change]()
    with pytest.raises(SignatureError, match="wrong passphrase or damaged key file"):
        unlock(tampered, PASSPHRASE)


def test_a_file_cannot_ask_for_unbounded_costs() -> None:
    _, content = new_key_pair(PASSPHRASE)
    huge = _changed(content, "kdf", "memory_kib", to=1 << 40)
    with pytest.raises(SignatureError, match="wrong passphrase or damaged key file"):
        unlock(huge, PASSPHRASE)


def test_a_later_format_version_says_so() -> None:
    _, content = new_key_pair(PASSPHRASE)
    with pytest.raises(SignatureError, match="format version 2; this clearance reads version 1"):
        unlock(_changed(content, "version", to=2), PASSPHRASE)


def test_an_old_pem_key_file_unlocks_and_is_resealed_in_place(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    path = tmp_path / "keys" / "secdef.key"
    write_key_file(path, _old_pem(private))
    sign = open_key_file(path, PASSPHRASE, missing="no key")
    assert verify(_public(private), MESSAGE, sign(MESSAGE))
    content = path.read_bytes()
    data = json.loads(content)
    assert (data["format"], data["version"]) == (KEY_FILE_FORMAT, KEY_FILE_VERSION)
    assert data["public_key"] == _public(private)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["secdef.key"], "no temporary left"
    # Resealed once: the next use reads the new format and leaves the file as it is.
    again = open_key_file(path, PASSPHRASE, missing="no key")
    assert verify(_public(private), MESSAGE, again(MESSAGE))
    assert path.read_bytes() == content


def test_an_old_pem_key_file_with_a_wrong_passphrase_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "secdef.key"
    old = _old_pem(Ed25519PrivateKey.generate())
    write_key_file(path, old)
    with pytest.raises(SignatureError, match="wrong passphrase or damaged key file"):
        open_key_file(path, "not the passphrase", missing="no key")
    assert path.read_bytes() == old


def test_a_file_sealed_at_lower_costs_is_resealed_at_the_current_ones(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    path = tmp_path / "secdef.key"
    write_key_file(path, seal_key(private, PASSPHRASE, KdfCost(1, 8 * 1024, 1)))
    open_key_file(path, PASSPHRASE, missing="no key")
    assert json.loads(path.read_bytes())["kdf"]["memory_kib"] == REAL_KDF.memory_kib


def test_a_missing_key_file_is_said_in_the_callers_words(tmp_path: Path) -> None:
    with pytest.raises(SignatureError, match=r"^no key file for secdef$"):
        open_key_file(tmp_path / "secdef.key", PASSPHRASE, missing="no key file for secdef")


def test_approving_with_an_old_key_file_reseals_it(cli: Cli) -> None:
    """End to end: a holder whose key file predates the format signs with it at the command
    line; the approval is recorded and checks, and the file is now in the new format."""
    private = Ed25519PrivateKey.generate()
    path = cli.tmp / "data" / "keys" / "austin.key"
    write_key_file(path, _old_pem(private, cli.env["CLEARANCE_PASSPHRASE"]))
    database = open_database(cli.database_url)
    try:
        data = cli.tmp / "data"
        store = sealed_store(database, key_path=data / "keys" / "system.key", data_dir=data)
        People(store, load_pack().catalog).add_user(
            user_id="austin",
            name="Austin",
            party="US",
            public_key=_public(private),
            actor="admin",
            now=dt.datetime.now(dt.UTC),
        )
    finally:
        database.dispose()
    cli("users", "grant", "austin", "us.secdef", "--from", "2025-01-26")
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    case = cli.json("cases", "approve", "1", "--as", "austin", "--reason", "Proportionate")
    assert case["state"] == "approved"
    answer = case["approvals"][0]
    assert verify(_public(private), answer["statement"].encode(), answer["signature"])
    data = json.loads(path.read_bytes())
    assert (data["format"], data["public_key"]) == (KEY_FILE_FORMAT, _public(private))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
