"""The rules of private key files on disk (``service.keyfiles``): written once, readable by
their owner only, replaced whole or not at all, and resealed when sealed at lower costs.

``tests/test_key_files.py`` checks the formats and the real costs; here a key is sealed at
the lowest costs, so that only the one reseal at the current costs takes time.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.core.signing import KdfCost, seal_key
from clearance.errors import InputError, SignatureError
from clearance.service import keyfiles
from clearance.service.keyfiles import open_key_file, write_key_file

PASSPHRASE = "correct horse battery"
CHEAP = KdfCost(1, 8 * 1024, 1)


def _refused(error: pytest.ExceptionInfo[InputError]) -> tuple[str, str]:
    return error.value.where, error.value.problem


def test_a_key_file_is_written_readable_by_its_owner_alone(tmp_path: Path) -> None:
    """The file is 0600 and its new folder 0700 (made with the folders above it), holding
    exactly the content."""
    path = tmp_path / "keys" / "us" / "secdef.key"
    write_key_file(path, b"sealed key")
    assert path.read_bytes() == b"sealed key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    """A second key file at the same place is refused, naming the place; the first stays."""
    path = tmp_path / "secdef.key"
    write_key_file(path, b"first")
    with pytest.raises(InputError) as refused:
        write_key_file(path, b"second")
    assert _refused(refused) == (str(path), "a key file already exists there")
    assert path.read_bytes() == b"first"


def test_a_key_file_that_cannot_be_written_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The system's reason, in its words, naming the place."""

    def denied(*_: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    path = tmp_path / "secdef.key"
    with pytest.raises(InputError) as refused:
        write_key_file(path, b"sealed key")
    assert _refused(refused) == (str(path), "cannot be written: Permission denied")


def test_a_key_file_that_cannot_be_written_without_a_reason_says_what_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error with no text of the system's is said as itself."""

    def failed(*_: object) -> int:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "open", failed)
    path = tmp_path / "secdef.key"
    with pytest.raises(InputError) as refused:
        write_key_file(path, b"sealed key")
    assert _refused(refused) == (str(path), "cannot be written: disk gone")


def test_a_replacement_is_whole_owner_only_and_leaves_no_temporary(tmp_path: Path) -> None:
    """The new content in place of the old, 0600, and nothing else in the folder."""
    path = tmp_path / "secdef.key"
    write_key_file(path, b"old")
    keyfiles._replace(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secdef.key"]


def test_a_failed_replacement_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new content goes to a hidden temporary beside the file, named after it, which is
    removed when it cannot be put in place; the old file is untouched."""
    path = tmp_path / "secdef.key"
    write_key_file(path, b"old")
    tried: list[tuple[str, bytes]] = []

    def no_rename(source: str, target: object) -> None:
        tried.append((source, Path(source).read_bytes()))
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError, match="Input/output error"):
        keyfiles._replace(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["secdef.key"]
    [(temporary, content)] = tried
    assert Path(temporary).parent == tmp_path
    assert Path(temporary).name.startswith(".secdef.key.")
    assert Path(temporary).name.endswith(".tmp")
    assert content == b"new"


def test_a_missing_key_file_is_said_in_the_callers_words(tmp_path: Path) -> None:
    """The words given, exactly."""
    with pytest.raises(SignatureError) as refused:
        open_key_file(tmp_path / "secdef.key", PASSPHRASE, missing="no key file for secdef")
    assert refused.value.message == "no key file for secdef"


def test_a_key_file_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    """A folder where the file should be is refused in the system's words."""
    with pytest.raises(InputError) as refused:
        open_key_file(tmp_path, PASSPHRASE, missing="no key")
    assert _refused(refused) == (str(tmp_path), "cannot be read: Is a directory")


def test_a_key_sealed_at_lower_costs_is_resealed_in_place_at_the_current_ones(
    tmp_path: Path, real_key_costs: KdfCost
) -> None:
    """Unlocked with its passphrase, it signs, and the file now holds the same key sealed at
    the current costs, still 0600, with no temporary left."""
    private = Ed25519PrivateKey.generate()
    path = tmp_path / "secdef.key"
    write_key_file(path, seal_key(private, PASSPHRASE, CHEAP))
    sign = open_key_file(path, PASSPHRASE, missing="no key")
    assert sign(b"approve case 17")
    data = json.loads(path.read_bytes())
    assert data["kdf"]["memory_kib"] == real_key_costs.memory_kib
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secdef.key"]
    resealed = path.read_bytes()
    assert open_key_file(path, PASSPHRASE, missing="no key")(b"approve case 17")
    assert path.read_bytes() == resealed, "sealed at the current costs: left as it is"


@pytest.mark.usefixtures("real_key_costs")
def test_a_key_that_cannot_be_resealed_still_signs_and_the_failure_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A read-only folder does not stop the key signing: a warning says why it stays old."""
    private = Ed25519PrivateKey.generate()
    path = tmp_path / "secdef.key"
    old = seal_key(private, PASSPHRASE, CHEAP)
    write_key_file(path, old)

    def read_only(*_: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(keyfiles, "_replace", read_only)
    with caplog.at_level(logging.WARNING, logger="clearance.keys"):
        sign = open_key_file(path, PASSPHRASE, missing="no key")
    assert sign(b"approve case 17")
    assert path.read_bytes() == old
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            "clearance.keys",
            logging.WARNING,
            f"the key file {path} is in an old format and could not be resealed:"
            " [Errno 30] Read-only file system",
        )
    ]


def test_a_replacement_whose_temporary_is_already_gone_fails_with_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A temporary that vanished with the failure is no second error: the failure that
    stopped the replacement is the one raised."""
    path = tmp_path / "secdef.key"
    write_key_file(path, b"old")

    def vanished(source: str, target: object) -> None:
        Path(source).unlink()
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", vanished)
    with pytest.raises(OSError, match="Input/output error") as failed:
        keyfiles._replace(path, b"new")
    assert (failed.value.errno, failed.value.strerror) == (errno.EIO, "Input/output error")
    assert path.read_bytes() == b"old"
