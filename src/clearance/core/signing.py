"""Personal signatures: Ed25519 keys, the private half encrypted with its owner's passphrase.

The public key (raw 32 bytes, base64) is registered with the user; the private
key never leaves the user's key file in clear. A signature is over the
canonical JSON of a statement, so anyone holding the public keys can check a
decision offline.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clearance.core.digest import canonical_json
from clearance.errors import SignatureError

__all__ = ["Signer", "new_key_pair", "signed_bytes", "unlock", "verify"]

Signer = Callable[[bytes], str]
"""Signs bytes, returning the signature as base64."""


def new_key_pair(passphrase: str) -> tuple[str, bytes]:
    """A fresh key pair: (public key as base64, private key as passphrase-encrypted PEM)."""
    if len(passphrase) < 8:
        raise SignatureError("a passphrase needs at least 8 characters")
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    return base64.b64encode(public).decode("ascii"), pem


def unlock(pem: bytes, passphrase: str) -> Signer:
    """A signer from an encrypted key file's content; a wrong passphrase is refused."""
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        raise SignatureError(
            "the key cannot be unlocked: wrong passphrase or damaged key file"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the key file does not hold an Ed25519 key")

    def sign(message: bytes) -> str:
        return base64.b64encode(key.sign(message)).decode("ascii")

    return sign


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
