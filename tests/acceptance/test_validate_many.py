"""`validate` of many files streams its results (issue 9, class 11): each file's result is
rendered and dropped, so memory does not grow with the number of files."""

from __future__ import annotations

import sys
import tracemalloc

import pytest
from helpers import BASE, write

from dynapcnn_dsl.cli import run


class Sink:
    """Standard output that keeps nothing (captured output would grow with the files)."""

    def __init__(self) -> None:
        self.verdicts = 0

    def write(self, text: str) -> int:
        self.verdicts += text.count(": invalid (") + text.count('"valid": false')
        return len(text)

    def flush(self) -> None:
        pass


def peak(argv: list[str], monkeypatch) -> tuple[int, int]:
    """Peak traced memory of one run, and how many verdicts it printed."""
    sink = Sink()
    monkeypatch.setattr(sys, "stdout", sink)
    tracemalloc.start()
    try:
        run(argv)
        return tracemalloc.get_traced_memory()[1], sink.verdicts
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_memory_does_not_grow_with_the_number_of_files(fmt, tmp_path, monkeypatch):
    files = [str(write(tmp_path, f"n{i}.yaml", BASE.replace("kernel: 3", "kernel: 17")))
             for i in range(200)]
    peak(["validate", "--format", fmt, *files[:2]], monkeypatch)  # imports and caches first
    few, seen_few = peak(["validate", "--format", fmt, *files[:20]], monkeypatch)
    many, seen_many = peak(["validate", "--format", fmt, *files], monkeypatch)
    assert (seen_few, seen_many) == (20, 200)
    assert many < few * 1.5, (few, many)  # ten times the files, not ten times the memory
