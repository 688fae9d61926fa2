"""The rules of personal signatures and key files, stated on the pure code (``core.signing``).

tests/test_key_files.py unlocks real files on disk at the real costs; these state
each rule of the format (docs/formats.md#key-files) on its own: what a key file
holds, which files and fields are refused and in what words, which costs a file
may ask for, when a file is resealed, and what a signature accepts.

Deriving a key at the real costs takes a few tenths of a second, so most files
here are sealed at tiny costs, with ``KDF`` (the costs keys are sealed at now)
lowered for the test to match (``current``), and a file is resealed at ``KDF``
as it is when the file is opened; only the test of a new key pair pays the real
costs (``real_key_costs``, tests/key_costs.py).
"""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest
import rfc8785
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from clearance.core import signing
from clearance.core.signing import (
    KEY_FILE_FORMAT,
    KEY_FILE_VERSION,
    KdfCost,
    new_key_pair,
    open_key,
    seal_key,
    sign_statement,
    signed_bytes,
    unlock,
    verify,
)
from clearance.errors import SignatureError

from . import key_costs

PASSPHRASE = "correct horse battery"
MESSAGE = b"approve case 17"
CANNOT = "the key cannot be unlocked: wrong passphrase or damaged key file"

# Keys from fixed seeds: Ed25519 signatures are deterministic, so they can be written out.
PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
PUBLIC = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
OTHER_PUBLIC = "ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ="

# The costs of the files sealed here, made the current costs by ``current`` (below).
CHEAP = KdfCost(time_cost=2, memory_kib=64, parallelism=2)
REAL_KDF = key_costs.REAL
SALT = bytes(range(100, 116))
NONCE = bytes(range(200, 212))


@pytest.fixture
def current(monkeypatch: pytest.MonkeyPatch) -> KdfCost:
    """``CHEAP`` as the costs keys are sealed at now (a file sealed at them is not stale)."""
    monkeypatch.setattr(signing, "KDF", CHEAP)
    return CHEAP


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _raw(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _header(
    public_key: str = PUBLIC, cost: KdfCost = CHEAP, salt: bytes = SALT, nonce: bytes = NONCE
) -> dict[str, Any]:
    return {
        "format": "clearance-signing-key",
        "version": 1,
        "algorithm": "ed25519",
        "public_key": public_key,
        "kdf": {
            "name": "argon2id",
            "time_cost": cost.time_cost,
            "memory_kib": cost.memory_kib,
            "parallelism": cost.parallelism,
            "salt": _b64(salt),
        },
        "cipher": {"name": "chacha20-poly1305", "nonce": _b64(nonce)},
    }


def _written(header: dict[str, Any], raw: bytes, passphrase: str = PASSPHRASE) -> bytes:
    """A key file written from docs/formats.md alone: argon2id (RFC 9106, version 1.3) of
    the passphrase's UTF-8 bytes to 32 bytes, ChaCha20-Poly1305 over the raw key with the
    canonical JSON of the rest of the file as associated data."""
    kdf, cipher = header["kdf"], header["cipher"]
    key = hash_secret_raw(
        passphrase.encode("utf-8"),
        base64.b64decode(kdf["salt"]),
        time_cost=kdf["time_cost"],
        memory_cost=kdf["memory_kib"],
        parallelism=kdf["parallelism"],
        hash_len=32,
        type=Type.ID,
        version=19,
    )
    sealed = ChaCha20Poly1305(key).encrypt(
        base64.b64decode(cipher["nonce"]), raw, rfc8785.dumps(header)
    )
    return json.dumps({**header, "sealed_key": _b64(sealed)}).encode("utf-8")


_GONE = object()


def _file(**changes: Any) -> dict[str, Any]:
    """The parsed key file of ``PRIVATE`` at ``CHEAP``, with ``changes`` ("kdf.salt": ...)."""
    data: dict[str, Any] = json.loads(_written(_header(), _raw(PRIVATE)))
    for path, value in changes.items():
        *outer, last = path.split(".")
        place = data
        for name in outer:
            place = place[name]
        if value is _GONE:
            del place[last]
        else:
            place[last] = value
    return data


def _refusal(content: bytes | dict[str, Any], passphrase: str = PASSPHRASE) -> str:
    if isinstance(content, dict):
        content = json.dumps(content).encode("utf-8")
    with pytest.raises(SignatureError) as refused:
        open_key(content, passphrase)
    return str(refused.value)


# The costs.


def test_the_work_of_a_guess_is_passes_times_memory_and_the_lanes_do_not_divide_it() -> None:
    assert KdfCost(time_cost=3, memory_kib=64, parallelism=2).work == 192
    assert KdfCost(time_cost=3, memory_kib=64, parallelism=8).work == 192


def test_the_costs_are_written_as_passes_memory_and_lanes() -> None:
    assert KdfCost(time_cost=3, memory_kib=64, parallelism=2).as_dict() == {
        "time_cost": 3,
        "memory_kib": 64,
        "parallelism": 2,
    }


# Sealing.


def test_a_sealed_key_file_is_the_documented_json_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the random salt and nonce fixed, sealing gives exactly the file an outside
    writer of the format gives, indented by two and ending in a newline."""
    fixed = {16: SALT, 12: NONCE}
    monkeypatch.setattr(signing, "os", SimpleNamespace(urandom=lambda n: fixed[n]))
    content = seal_key(PRIVATE, PASSPHRASE, CHEAP)
    expected = json.loads(_written(_header(), _raw(PRIVATE)))
    assert content == json.dumps(expected, indent=2).encode("utf-8") + b"\n"
    assert list(expected) == [
        "format",
        "version",
        "algorithm",
        "public_key",
        "kdf",
        "cipher",
        "sealed_key",
    ]


def test_a_sealed_key_file_draws_a_16_byte_salt_and_a_12_byte_nonce_each_time() -> None:
    first = json.loads(seal_key(PRIVATE, PASSPHRASE, CHEAP))
    second = json.loads(seal_key(PRIVATE, PASSPHRASE, CHEAP))
    assert len(base64.b64decode(first["kdf"]["salt"])) == 16
    assert len(base64.b64decode(first["cipher"]["nonce"])) == 12
    assert first["kdf"]["salt"] != second["kdf"]["salt"]
    assert first["cipher"]["nonce"] != second["cipher"]["nonce"]


def test_a_passphrase_of_fewer_than_8_characters_is_refused_in_words() -> None:
    with pytest.raises(SignatureError) as refused:
        seal_key(PRIVATE, "1234567", CHEAP)
    assert str(refused.value) == "a passphrase needs at least 8 characters"


def test_a_passphrase_of_8_characters_seals_and_unlocks(current: KdfCost) -> None:
    opened = open_key(seal_key(PRIVATE, "12345678", CHEAP), "12345678")
    assert opened.public_key == PUBLIC


@pytest.mark.usefixtures("real_key_costs")
def test_a_new_key_pair_is_sealed_at_the_current_costs_for_its_public_key() -> None:
    public, content = new_key_pair(PASSPHRASE)
    data = json.loads(content)
    assert data["public_key"] == public
    assert len(base64.b64decode(public, validate=True)) == 32
    assert {k: v for k, v in data["kdf"].items() if k != "salt"} == {
        "name": "argon2id",
        **REAL_KDF.as_dict(),
    }


# Opening a key file in the current format.


def test_a_file_written_from_the_format_alone_opens_and_signs_for_its_key(
    current: KdfCost,
) -> None:
    opened = open_key(_written(_header(), _raw(PRIVATE)), PASSPHRASE)
    assert opened.public_key == PUBLIC
    assert opened.resealed is None
    signature = opened.sign(MESSAGE)
    assert signature == _b64(PRIVATE.sign(MESSAGE))
    assert unlock(_written(_header(), _raw(PRIVATE)), PASSPHRASE)(MESSAGE) == signature


def test_a_passphrase_is_taken_as_its_utf8_bytes(current: KdfCost) -> None:
    passphrase = "grüße aus Kyjiw ✓"
    opened = open_key(_written(_header(), _raw(PRIVATE), passphrase), passphrase)
    assert opened.public_key == PUBLIC


def test_a_wrong_passphrase_is_refused_in_the_words_of_a_damaged_file(current: KdfCost) -> None:
    assert _refusal(_written(_header(), _raw(PRIVATE)), PASSPHRASE + "!") == CANNOT


@pytest.mark.parametrize(
    "content",
    [b"{", b"\xff", b"[]", b'"a key"', b"{}"],
    ids=["not-json", "not-utf8", "a-list", "a-string", "no-format"],
)
def test_a_file_that_is_not_a_key_file_object_is_refused(content: bytes) -> None:
    assert _refusal(content) == CANNOT


def test_a_file_of_another_format_is_refused() -> None:
    assert _refusal(_file(format="clearance-signing-keys")) == CANNOT


@pytest.mark.parametrize(("version", "shown"), [(2, "2"), ("1", "'1'"), (_GONE, "None")])
def test_a_file_of_another_version_names_it_and_says_to_upgrade(
    version: object, shown: str
) -> None:
    assert _refusal(_file(version=version)) == (
        f"the key file is of format version {shown}; this clearance reads version 1:"
        " upgrade clearance"
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [("kdf.name", "argon2i"), ("kdf.name", "argon2d"), ("cipher.name", "aes-256-gcm")],
)
def test_a_file_of_another_derivation_or_cipher_is_refused(path: str, value: str) -> None:
    assert _refusal(_file(**{path: value})) == CANNOT


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("kdf", "kdf.name"),
        ("kdf.name", "kdf.name"),
        ("cipher", "cipher.name"),
        ("cipher.name", "cipher.name"),
        ("kdf.parallelism", "kdf.parallelism"),
        ("kdf.time_cost", "kdf.time_cost"),
        ("kdf.memory_kib", "kdf.memory_kib"),
        ("kdf.salt", "kdf.salt"),
        ("cipher.nonce", "cipher.nonce"),
        ("sealed_key", "sealed_key"),
    ],
)
def test_a_file_without_a_field_names_it(path: str, named: str) -> None:
    assert _refusal(_file(**{path: _GONE})) == f"{CANNOT} (it has no '{named}')"


def test_a_field_under_a_value_that_is_not_an_object_is_named_as_missing() -> None:
    assert _refusal(_file(kdf="argon2id")) == f"{CANNOT} (it has no 'kdf.name')"


# The costs a file may ask for. A file with no sealed key is refused only once its costs,
# salt and nonce have been read: "it has no 'sealed_key'" shows those were accepted, without
# deriving a key at them.

ACCEPTED = f"{CANNOT} (it has no 'sealed_key')"


def _asking(**changes: Any) -> dict[str, Any]:
    return _file(sealed_key=_GONE, **changes)


@pytest.mark.parametrize(
    "kdf",
    [
        {"time_cost": 1},
        {"time_cost": 64},
        {"parallelism": 1, "memory_kib": 8},
        {"parallelism": 64, "memory_kib": 512},
        {"parallelism": 2, "memory_kib": 16},
        {"memory_kib": 4 * 1024 * 1024},
    ],
    ids=["1-pass", "64-passes", "1-lane-8-kib", "64-lanes", "8-kib-a-lane", "4-gib"],
)
def test_costs_within_the_bounds_are_accepted(kdf: dict[str, int]) -> None:
    assert _refusal(_asking(**{f"kdf.{k}": v for k, v in kdf.items()})) == ACCEPTED


@pytest.mark.parametrize(
    "kdf",
    [
        {"time_cost": 0},
        {"time_cost": 65},
        {"parallelism": 0},
        {"parallelism": 65, "memory_kib": 8 * 65},
        {"parallelism": 2, "memory_kib": 15},
        {"memory_kib": 4 * 1024 * 1024 + 1},
        {"time_cost": True},
        {"parallelism": True},
        {"time_cost": 2.0},
        {"memory_kib": "64"},
        {"parallelism": None},
    ],
    ids=[
        "0-passes",
        "65-passes",
        "0-lanes",
        "65-lanes",
        "under-8-kib-a-lane",
        "over-4-gib",
        "true-passes",
        "true-lanes",
        "a-fraction",
        "a-string",
        "null",
    ],
)
def test_costs_beyond_the_bounds_or_not_whole_numbers_are_refused(kdf: dict[str, Any]) -> None:
    assert _refusal(_asking(**{f"kdf.{k}": v for k, v in kdf.items()})) == CANNOT


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("kdf.salt", _b64(bytes(8))),
        ("cipher.nonce", _b64(bytes(12))),
    ],
    ids=["8-byte-salt", "12-byte-nonce"],
)
def test_a_salt_of_8_bytes_or_more_and_a_nonce_of_12_are_accepted(path: str, value: str) -> None:
    assert _refusal(_asking(**{path: value})) == ACCEPTED


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("kdf.salt", _b64(bytes(7))),
        ("cipher.nonce", _b64(bytes(11))),
        ("cipher.nonce", _b64(bytes(13))),
        ("kdf.salt", 12345678),
        ("cipher.nonce", None),
        ("kdf.salt", "not base64!"),
        ("cipher.nonce", "AAAAAAAA" + "!" + "AAAAAAAA"),
    ],
    ids=[
        "7-byte-salt",
        "11-byte-nonce",
        "13-byte-nonce",
        "salt-a-number",
        "nonce-null",
        "salt-not-base64",
        "nonce-with-a-stray-character",
    ],
)
def test_a_short_salt_a_nonce_not_of_12_bytes_or_one_not_base64_is_refused(
    path: str, value: object
) -> None:
    assert _refusal(_asking(**{path: value})) == CANNOT


@pytest.mark.parametrize("sealed_key", [12345, "not base64!", "!" + _file()["sealed_key"]], ids=str)
def test_a_sealed_key_that_is_not_base64_text_is_refused(sealed_key: object) -> None:
    assert _refusal(_file(sealed_key=sealed_key)) == CANNOT


@pytest.mark.parametrize(
    "changes",
    [
        {"algorithm": "ed448"},
        {"public_key": OTHER_PUBLIC},
        {"kdf.time_cost": 3},
        {"kdf.salt": _b64(bytes(16))},
        {"cipher.nonce": _b64(bytes(12))},
        {"comment": "added"},
    ],
    ids=["algorithm", "public-key", "cost", "salt", "nonce", "a-field-added"],
)
def test_any_change_to_the_rest_of_the_file_is_refused_like_a_wrong_passphrase(
    changes: dict[str, Any],
) -> None:
    assert _refusal(_file(**changes)) == CANNOT


def test_a_sealed_key_that_is_not_32_bytes_is_refused() -> None:
    assert _refusal(_written(_header(), _raw(PRIVATE)[:31])) == CANNOT


def test_a_file_whose_public_key_is_not_its_private_keys_is_refused() -> None:
    """Sealed consistently, but naming another key: it would sign for a key it does not hold."""
    assert _refusal(_written(_header(public_key=OTHER_PUBLIC), _raw(PRIVATE))) == CANNOT


def test_a_file_without_its_public_key_is_refused() -> None:
    header = _header()
    del header["public_key"]
    assert _refusal(_written(header, _raw(PRIVATE))) == CANNOT


# Resealing.


@pytest.mark.parametrize(
    "cost",
    [CHEAP, KdfCost(3, 64, 2), KdfCost(2, 128, 1)],
    ids=["the-current-costs", "more-passes", "more-memory"],
)
def test_a_file_at_the_current_costs_or_above_is_not_resealed(
    current: KdfCost, cost: KdfCost
) -> None:
    opened = open_key(_written(_header(cost=cost), _raw(PRIVATE)), PASSPHRASE)
    assert opened.resealed is None
    assert opened.public_key == PUBLIC


def _resealed_at(resealed: bytes | None, costs: KdfCost) -> None:
    assert resealed is not None
    data = json.loads(resealed)
    assert data["public_key"] == PUBLIC
    assert (data["format"], data["version"]) == (KEY_FILE_FORMAT, KEY_FILE_VERSION)
    assert {k: v for k, v in data["kdf"].items() if k != "salt"} == {
        "name": "argon2id",
        **costs.as_dict(),
    }


@pytest.mark.parametrize(
    "cost",
    [KdfCost(1, 64, 2), KdfCost(4, 32, 2)],
    ids=["less-work", "less-memory-for-the-same-work"],
)
def test_a_file_at_less_work_or_less_memory_is_resealed_at_the_current_costs(
    current: KdfCost, cost: KdfCost
) -> None:
    opened = open_key(_written(_header(cost=cost), _raw(PRIVATE)), PASSPHRASE)
    _resealed_at(opened.resealed, current)
    assert opened.public_key == PUBLIC
    assert opened.sign(MESSAGE) == _b64(PRIVATE.sign(MESSAGE))


# Key files from before format version 1: PKCS #8 PEM.


def _pem(key: Any, passphrase: str | None = PASSPHRASE) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.NoEncryption()
        if passphrase is None
        else serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
    )
    content: bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    return content


def test_an_old_pem_file_opens_even_after_blank_space_and_is_resealed(current: KdfCost) -> None:
    opened = open_key(b"\n  " + _pem(PRIVATE), PASSPHRASE)
    assert opened.public_key == PUBLIC
    assert opened.sign(MESSAGE) == _b64(PRIVATE.sign(MESSAGE))
    _resealed_at(opened.resealed, current)


@pytest.mark.parametrize(
    ("content", "passphrase"),
    [
        (_pem(PRIVATE), PASSPHRASE + "!"),
        (_pem(PRIVATE, None), PASSPHRASE),
        (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n", PASSPHRASE),
    ],
    ids=["wrong-passphrase", "not-encrypted", "damaged"],
)
def test_an_old_pem_file_that_cannot_be_opened_is_refused(content: bytes, passphrase: str) -> None:
    assert _refusal(content, passphrase) == CANNOT


def test_an_old_pem_file_of_another_kind_of_key_says_so() -> None:
    content = _pem(ec.generate_private_key(ec.SECP256R1()))
    assert _refusal(content) == "the key file does not hold an Ed25519 key"


# Signatures.


def test_a_statement_is_signed_over_its_canonical_json() -> None:
    assert signed_bytes({"b": [1, "é"], "a": None}) == b'{"a":null,"b":[1,"\xc3\xa9"]}'


def test_signing_a_statement_gives_its_bytes_and_a_signature_the_registered_key_checks() -> None:
    def signer(message: bytes) -> str:
        return _b64(PRIVATE.sign(message))

    statement = {"case": 17, "verdict": "approve"}
    message, signature = sign_statement(statement, signer, public_key=PUBLIC, actor="austin")
    assert message == b'{"case":17,"verdict":"approve"}'
    assert signature == _b64(PRIVATE.sign(message))


def test_signing_with_a_key_that_is_not_the_registered_one_is_refused_naming_the_actor() -> None:
    def signer(message: bytes) -> str:
        return _b64(OTHER.sign(message))

    with pytest.raises(SignatureError) as refused:
        sign_statement({"case": 17}, signer, public_key=PUBLIC, actor="austin")
    assert str(refused.value) == "the signature does not match austin's registered key"


def test_a_signature_verifies_against_its_key_and_message_only() -> None:
    signature = _b64(PRIVATE.sign(MESSAGE))
    assert verify(PUBLIC, MESSAGE, signature) is True
    assert verify(PUBLIC, MESSAGE + b".", signature) is False
    assert verify(OTHER_PUBLIC, MESSAGE, signature) is False


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [
        ("!" + PUBLIC, None),
        (PUBLIC[:-4], None),
        ("not base64", None),
        (PUBLIC, "!"),
        (PUBLIC, "not base64"),
        (PUBLIC, "AAAA"),
    ],
    ids=[
        "key-with-a-stray-character",
        "key-too-short",
        "key-not-base64",
        "signature-with-a-stray-character",
        "signature-not-base64",
        "signature-too-short",
    ],
)
def test_a_malformed_key_or_signature_does_not_verify(
    public_key: str, signature: str | None
) -> None:
    good = _b64(PRIVATE.sign(MESSAGE))
    given = good if signature is None else (signature + good if signature == "!" else signature)
    assert verify(public_key, MESSAGE, given) is False
