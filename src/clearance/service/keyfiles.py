"""Private key files on disk: written once, readable by their owner only, resealed when old.

The command line and the server both unlock a user's key file to sign with
it; both go through ``open_key_file``, so a key file still in the old PEM
format (``core.signing``) is resealed in the current format the first time
it is unlocked, wherever that happens. The new content replaces the old
atomically (a temporary file beside it, synced, then renamed over it), so a
crash leaves the old file or the new one, never half of either; the
temporary file is created ``0600``, so the key is never readable by others.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

from clearance.core.signing import Signer, open_key
from clearance.errors import InputError, SignatureError

__all__ = ["open_key_file", "write_key_file"]

log = logging.getLogger("clearance.keys")


def write_key_file(path: Path, content: bytes) -> None:
    """Create a private key file readable by its owner only; never overwrite one."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(str(path), "a key file already exists there") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot be written: {exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(content)


def _replace(path: Path, content: bytes) -> None:
    """Put ``content`` in place of the file at ``path``, whole or not at all."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:  # mkstemp creates it 0600
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a power failure
    finally:
        os.close(folder)


def open_key_file(path: Path, passphrase: str, *, missing: str) -> Signer:
    """Unlock the key file at ``path``; ``missing`` is the error's words when there is none.

    A file in an old format, or sealed at lower costs than now, is resealed
    in place with the same passphrase. If that cannot be written (a read-only
    folder), the key still signs, and the failure is logged as a warning.
    """
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise SignatureError(missing) from None
    except OSError as exc:
        raise InputError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    opened = open_key(content, passphrase)
    if opened.resealed is not None:
        try:
            _replace(path, opened.resealed)
        except OSError as exc:
            log.warning(
                "the key file %s is in an old format and could not be resealed: %s", path, exc
            )
    return opened.sign
