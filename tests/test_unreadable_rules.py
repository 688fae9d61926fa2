"""The words for a file that cannot be read, stated on the pure code (``core.unreadable``).

Readers of request files and of a scenario pack put the file's name before
these words, so each kind of failure has its one wording.
"""

from __future__ import annotations

import errno

import pytest

from clearance.core.unreadable import unreadable_file


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "x"), "file not found"),
        (IsADirectoryError(errno.EISDIR, "Is a directory", "x"), "is a folder, not a file"),
        (
            PermissionError(errno.EACCES, "Permission denied", "x"),
            "cannot be read: permission denied",
        ),
        (OSError(errno.EIO, "Input/output error", "x"), "cannot be read: Input/output error"),
        (OSError("the disk is gone"), "cannot be read: the disk is gone"),
    ],
    ids=["missing", "a-folder", "no-permission", "another-error", "an-error-without-its-text"],
)
def test_each_kind_of_unreadable_file_has_its_words(error: OSError, words: str) -> None:
    assert unreadable_file(error) == words
