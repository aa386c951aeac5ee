"""File output: a reader sees the old file or the new one, never half of either; and an output
never replaces what it should not (an input, a device, a pipe)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any


def write_atomic(path: str | Path, text: str | bytes) -> None:
    """Write `text` (UTF-8, newlines as given) or bytes to `path`.

    A regular file (or a new one) is written to a temporary file beside it, flushed to disk and
    renamed over it, so it is replaced whole or not at all; through a symbolic link, the file
    it points to is replaced and the link kept. Anything else that exists (a device such as
    /dev/null or /dev/stdout, a FIFO) is written into, never replaced by a regular file.
    """
    target = Path(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", str(target))
        with _open(target, text) as fh:
            fh.write(text)
        return
    if mode is not None and target.is_symlink():
        target = Path(os.path.realpath(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with _open(fd, text) as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode & 0o777 if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def names_an_input(output: str | Path, inputs: Iterable[str | Path]) -> str | None:
    """The input that `output` would overwrite (the same file by device and inode, whatever
    path leads to it), or None. Compilers refuse `-o` that names a source; so do we."""
    try:
        out = os.stat(output)
    except OSError:
        return None  # a new file replaces nothing
    for given in inputs:
        with contextlib.suppress(OSError):
            if os.path.samestat(out, os.stat(given)):
                return str(given)
    return None


def _open(file: int | Path, text: str | bytes) -> IO[Any]:
    """The file (a path, or the descriptor of the temporary file) opened for `text`'s type."""
    opener = os.fdopen if isinstance(file, int) else open
    if isinstance(text, bytes):
        return opener(file, "wb")
    return opener(file, "w", encoding="utf-8", newline="\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
