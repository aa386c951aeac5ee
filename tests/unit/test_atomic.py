"""`write_atomic`: a reader sees the old file or the new one, and no temporary file survives."""

from __future__ import annotations

import os
import stat

import pytest

import dynapcnn_dsl.atomic as atomic
from dynapcnn_dsl.atomic import write_atomic


def entries(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_creates_a_file(tmp_path):
    target = tmp_path / "schema.json"
    write_atomic(target, "hello\n")
    assert target.read_text(encoding="utf-8") == "hello\n"
    assert entries(tmp_path) == ["schema.json"]


def test_accepts_a_string_path(tmp_path):
    write_atomic(str(tmp_path / "a.txt"), "x")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "x"


def test_a_relative_path_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_atomic("rel.txt", "x")
    assert (tmp_path / "rel.txt").read_text(encoding="utf-8") == "x"
    assert entries(tmp_path) == ["rel.txt"]


def test_replaces_a_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert entries(tmp_path) == ["out.txt"]


def test_writes_utf8_and_keeps_newlines_as_given(tmp_path):
    target = tmp_path / "out.txt"
    write_atomic(target, "é\na\r\nb")
    assert target.read_bytes() == "é\na\r\nb".encode()


def test_an_empty_text(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    write_atomic(target, "")
    assert target.read_bytes() == b""


def test_a_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644


def test_a_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


# -- failures ------------------------------------------------------------------------------------

def test_text_that_cannot_be_encoded_keeps_the_old_content(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "half written \ud800 then broken")
    assert target.read_text(encoding="utf-8") == "old"
    assert entries(tmp_path) == ["out.txt"]


def test_a_non_string_keeps_the_old_content(tmp_path):
    class Broken:
        def __str__(self):
            raise RuntimeError("no text")

    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises((TypeError, RuntimeError)):
        write_atomic(target, Broken())  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "old"
    assert entries(tmp_path) == ["out.txt"]


def test_a_failing_rename_keeps_the_old_content(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert entries(tmp_path) == ["out.txt"]


def test_a_failing_fsync_keeps_the_old_content(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")

    def fail(fd):
        raise OSError("io error")

    monkeypatch.setattr(atomic.os, "fsync", fail)
    with pytest.raises(OSError, match="io error"):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert entries(tmp_path) == ["out.txt"]


def test_an_interrupt_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")

    def interrupt(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert entries(tmp_path) == ["out.txt"]


def test_a_failed_first_write_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError("no")))
    with pytest.raises(OSError):
        write_atomic(tmp_path / "new.txt", "x")
    assert entries(tmp_path) == []


def test_a_missing_directory_raises_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "nope" / "out.txt", "x")
    assert entries(tmp_path) == []


def test_the_temporary_file_is_beside_the_target(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((src, dst))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    write_atomic(tmp_path / "out.txt", "x")
    ((src, dst),) = seen
    assert os.path.dirname(src) == str(tmp_path)
    assert os.path.basename(src).startswith(".out.txt.")
    assert str(dst) == str(tmp_path / "out.txt")
