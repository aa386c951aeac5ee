"""File output: a reader sees the old file or the new one, never half of either; and an output
never replaces what it should not (an input, a device, a pipe)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
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


def write_group(folder: str | Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write several files into `folder` as one unit: a reader (or an interrupted run) finds all
    the old files or all the new ones, never a mix (a network beside another network's weights).

    Every file is first written in full to a temporary file in `folder` and flushed to disk;
    then each is renamed over its name with SIGINT, SIGTERM and SIGHUP held back (they are
    raised once the renames are done), and if one rename fails the ones already done are
    undone from hard links of the old files. A name that is a symbolic link is replaced by the
    new file, never written through (nothing outside `folder` changes). Returns the paths.
    """
    out = Path(folder)
    staged: dict[Path, str] = {}
    backups: dict[Path, str | None] = {}
    try:
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
            staged[out / name] = tmp
            with _open(fd, text) as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
        with _signals_held():
            try:
                for target, tmp in staged.items():
                    backups[target] = _hard_link_of(target)
                    os.replace(tmp, target)
            except BaseException:
                for target, old in backups.items():   # undo: the old file back, or no file
                    with contextlib.suppress(OSError):
                        if old is not None:
                            os.replace(old, target)   # a no-op when not yet replaced (one inode)
                        else:
                            os.unlink(target)
                raise
    finally:
        for tmp in [*staged.values(), *(b for b in backups.values() if b is not None)]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return list(staged)


def _hard_link_of(target: Path) -> str | None:
    """A hidden hard link to the file at `target` (the link itself for a symbolic link), to
    put it back if the group's commit fails; None when there is nothing there."""
    if not os.path.lexists(target):
        return None
    while True:
        backup = str(target.parent / f".{target.name}.{secrets.token_hex(6)}.old")
        try:
            os.link(target, backup, follow_symlinks=False)
            return backup
        except FileExistsError:
            continue


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back the signals that end a run while a few renames happen: each one received is
    recorded and raised again, to the handler it had, once they are done. (Python's handlers,
    not the thread's signal mask: a process-directed signal may be taken by any thread, and
    numpy's or torch's threads do not block it. Only the main thread has signal handlers.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {signum: signal.signal(signum, lambda signum, _frame: pending.append(signum))
              for signum in held}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        for signum in pending:
            signal.raise_signal(signum)


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
