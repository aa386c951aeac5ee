"""`validate` of many files streams its results (issue 9, class 11): each file's result is
rendered and dropped, so memory does not grow with the number of files."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from helpers import BASE, write

from dynapcnn_dsl.cli import run


def peak(argv: list[str]) -> int:
    tracemalloc.start()
    try:
        run(argv)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_memory_does_not_grow_with_the_number_of_files(fmt, tmp_path, capsys):
    files = [str(write(tmp_path, f"n{i}.yaml", BASE.replace("kernel: 3", "kernel: 17")))
             for i in range(200)]
    run(["validate", "--format", fmt, *files[:2]])  # imports and caches out of the way
    few = peak(["validate", "--format", fmt, *files[:20]])
    many = peak(["validate", "--format", fmt, *files])
    out = capsys.readouterr().out
    if fmt == "json":
        last = out[out.rindex('{\n  "files"'):]
        assert len(json.loads(last)["files"]) == 200
    assert many < few * 1.5, (few, many)  # ten times the files, not ten times the memory
