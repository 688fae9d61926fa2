"""Personal signatures: Ed25519 keys, the private half encrypted with its owner's passphrase.

The public key (raw 32 bytes, base64) is registered with the user; the private
key never leaves the user's key file in clear. A signature is over the
canonical JSON of a statement, so anyone holding the public keys can check a
decision offline.

A key file (docs/formats.md#key-files) is a small JSON document: the raw
private key sealed with ChaCha20-Poly1305 under a key derived from the
passphrase by argon2id, whose memory and time costs make each guess of a
stolen file's passphrase expensive (``KDF``: measured in docs/benchmarks.md).
Everything in the file besides the sealed key is authenticated with it, so a
changed parameter, salt or public key is refused like a wrong passphrase.

Key files written before this format are PKCS #8 PEM, encrypted with PBKDF2
at 2,048 iterations: cheap to guess at. They still unlock, and ``open_key``
then gives their content in the new format, for the caller to write back.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from clearance.core.digest import canonical_json
from clearance.core.json_input import JsonProblem, decode_json
from clearance.errors import SignatureError

__all__ = [
    "KDF",
    "KEY_FILE_FORMAT",
    "KEY_FILE_VERSION",
    "KdfCost",
    "OpenedKey",
    "Signer",
    "new_key_pair",
    "open_key",
    "seal_key",
    "signed_bytes",
    "unlock",
    "verify",
]

Signer = Callable[[bytes], str]
"""Signs bytes, returning the signature as base64."""

KEY_FILE_FORMAT = "clearance-signing-key"
KEY_FILE_VERSION = 1
_CIPHER = "chacha20-poly1305"
_SALT_BYTES = 16
_NONCE_BYTES = 12
_CANNOT_UNLOCK = "the key cannot be unlocked: wrong passphrase or damaged key file"


@dataclass(frozen=True, slots=True)
class KdfCost:
    """argon2id's costs: passes over ``memory_kib`` KiB, in ``parallelism`` lanes.

    The work of one guess is about ``time_cost × memory_kib`` (the lanes share
    the memory, so they divide the wall time, not the work).
    """

    time_cost: int
    memory_kib: int
    parallelism: int

    @property
    def work(self) -> int:
        """KiB-passes per derivation: what a guess costs whoever makes it."""
        return self.time_cost * self.memory_kib

    def as_dict(self) -> dict[str, int]:
        return {
            "time_cost": self.time_cost,
            "memory_kib": self.memory_kib,
            "parallelism": self.parallelism,
        }


KDF = KdfCost(time_cost=4, memory_kib=64 * 1024, parallelism=4)
"""The costs of every key sealed now: about 0.2 CPU-seconds a guess (docs/benchmarks.md)."""

# Bounds on the costs a key file may ask for: a file cannot make unlocking take
# gigabytes or minutes, whatever it says.
_MAX_TIME_COST = 64
_MAX_MEMORY_KIB = 4 * 1024 * 1024
_MAX_PARALLELISM = 64


def _derive(passphrase: str, salt: bytes, cost: KdfCost) -> bytes:
    return hash_secret_raw(
        passphrase.encode(),
        salt,
        time_cost=cost.time_cost,
        memory_cost=cost.memory_kib,
        parallelism=cost.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _public_b64(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return _b64(raw)


def seal_key(private: Ed25519PrivateKey, passphrase: str, cost: KdfCost | None = None) -> bytes:
    """A key file's content: ``private`` sealed under ``passphrase`` (docs/formats.md#key-files),
    at ``cost``, by default the costs of ``KDF`` as it is at the call."""
    cost = KDF if cost is None else cost
    if len(passphrase) < 8:
        raise SignatureError("a passphrase needs at least 8 characters")
    salt, nonce = os.urandom(_SALT_BYTES), os.urandom(_NONCE_BYTES)
    header: dict[str, Any] = {
        "format": KEY_FILE_FORMAT,
        "version": KEY_FILE_VERSION,
        "algorithm": "ed25519",
        "public_key": _public_b64(private),
        "kdf": {"name": "argon2id", **cost.as_dict(), "salt": _b64(salt)},
        "cipher": {"name": _CIPHER, "nonce": _b64(nonce)},
    }
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    sealed = ChaCha20Poly1305(_derive(passphrase, salt, cost)).encrypt(
        nonce, raw, canonical_json(header)
    )
    return json.dumps({**header, "sealed_key": _b64(sealed)}, indent=2).encode() + b"\n"


def new_key_pair(passphrase: str) -> tuple[str, bytes]:
    """A fresh key pair: (public key as base64, key file content sealed with ``passphrase``)."""
    private = Ed25519PrivateKey.generate()
    return _public_b64(private), seal_key(private, passphrase)


@dataclass(frozen=True, slots=True)
class OpenedKey:
    """An unlocked key, and the key file's content to write back when it should be resealed.

    ``resealed`` is None when the file is already in the current format at the
    current costs; otherwise it is the same key, sealed now with the same passphrase.
    """

    sign: Signer
    public_key: str
    resealed: bytes | None


def _field(data: dict[str, Any], *path: str) -> Any:
    value: Any = data
    for name in path:
        if not isinstance(value, dict) or name not in value:
            raise SignatureError(f"{_CANNOT_UNLOCK} (it has no '{'.'.join(path)}')")
        value = value[name]
    return value


def _whole(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SignatureError(_CANNOT_UNLOCK)
    return value


def _bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise SignatureError(_CANNOT_UNLOCK)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(_CANNOT_UNLOCK) from None


def _open_sealed(content: bytes, passphrase: str) -> tuple[Ed25519PrivateKey, KdfCost]:
    try:
        data = decode_json(content)
    except JsonProblem:
        raise SignatureError(_CANNOT_UNLOCK) from None
    if not isinstance(data, dict) or data.get("format") != KEY_FILE_FORMAT:
        raise SignatureError(_CANNOT_UNLOCK)
    version = data.get("version")
    if version != KEY_FILE_VERSION:
        raise SignatureError(
            f"the key file is of format version {version!r}; this clearance reads version"
            f" {KEY_FILE_VERSION}: upgrade clearance"
        )
    if _field(data, "kdf", "name") != "argon2id" or _field(data, "cipher", "name") != _CIPHER:
        raise SignatureError(_CANNOT_UNLOCK)
    parallelism = _whole(_field(data, "kdf", "parallelism"), 1, _MAX_PARALLELISM)
    cost = KdfCost(
        time_cost=_whole(_field(data, "kdf", "time_cost"), 1, _MAX_TIME_COST),
        memory_kib=_whole(_field(data, "kdf", "memory_kib"), 8 * parallelism, _MAX_MEMORY_KIB),
        parallelism=parallelism,
    )
    salt, nonce = _bytes(_field(data, "kdf", "salt")), _bytes(_field(data, "cipher", "nonce"))
    if len(salt) < 8 or len(nonce) != _NONCE_BYTES:
        raise SignatureError(_CANNOT_UNLOCK)
    sealed = _bytes(_field(data, "sealed_key"))
    header = {k: v for k, v in data.items() if k != "sealed_key"}
    try:
        raw = ChaCha20Poly1305(_derive(passphrase, salt, cost)).decrypt(
            nonce, sealed, canonical_json(header)
        )
        private = Ed25519PrivateKey.from_private_bytes(raw)
    except (InvalidTag, ValueError):
        raise SignatureError(_CANNOT_UNLOCK) from None
    if _public_b64(private) != header.get("public_key"):
        raise SignatureError(_CANNOT_UNLOCK)
    return private, cost


def _open_pem(content: bytes, passphrase: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(content, password=passphrase.encode())
    except (ValueError, TypeError):
        raise SignatureError(_CANNOT_UNLOCK) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the key file does not hold an Ed25519 key")
    return key


def open_key(content: bytes, passphrase: str) -> OpenedKey:
    """Unlock a key file's content; a wrong passphrase or a changed file is refused.

    A PEM file (the format before version 1), or one sealed at lower costs than
    ``KDF``, comes back ``resealed`` in the current format at the current costs.
    """
    if content.lstrip().startswith(b"-----BEGIN"):
        private, cost = _open_pem(content, passphrase), None
    else:
        private, cost = _open_sealed(content, passphrase)
    stale = cost is None or cost.work < KDF.work or cost.memory_kib < KDF.memory_kib
    resealed = seal_key(private, passphrase) if stale else None

    def sign(message: bytes) -> str:
        return _b64(private.sign(message))

    return OpenedKey(sign, _public_b64(private), resealed)


def unlock(content: bytes, passphrase: str) -> Signer:
    """A signer from a key file's content; a wrong passphrase is refused."""
    return open_key(content, passphrase).sign


def signed_bytes(statement: dict[str, Any]) -> bytes:
    """The exact bytes a statement's signature covers."""
    return canonical_json(statement)


def sign_statement(
    statement: dict[str, Any], signer: Signer, *, public_key: str, actor: str
) -> tuple[bytes, str]:
    """Sign ``statement`` and check it against the actor's registered key: (bytes, signature).

    A key file that is not the registered one is refused before anything is
    recorded, so the record never holds a signature its own key cannot check.
    """
    message = signed_bytes(statement)
    signature = signer(message)
    if not verify(public_key, message, signature):
        raise SignatureError(f"the signature does not match {actor}'s registered key")
    return message, signature


def verify(public_key: str, message: bytes, signature: str) -> bool:
    """True when ``signature`` (base64) is ``public_key``'s signature of ``message``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
