"""The language server and `validate` agree on every file of the invalid corpus (issue 22): the
same ids at the same positions, because the server runs the same pipeline. One server for the
module, driven over stdio as an editor drives it (tests/acceptance/lsp_client.py).

An editor sends the text it shows: the file decoded as UTF-8 (a byte-order mark dropped). The
corpus files that are not UTF-8 (file-encoding-*) have no such text and are left out. A
diagnostic about another file (a template's own problem) is shown at the top of the network,
pointing there.
"""

from __future__ import annotations

import pytest

from dynapcnn_dsl.lsp.text import split_lines
from dynapcnn_dsl.pipeline import run_file

from .corpus_cases import Found, cases
from .lsp_client import Client

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra (pygls)")

CASES = cases()


def _text(case) -> str | None:
    try:
        return case.path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


EDITABLE = [c for c in CASES if _text(c) is not None]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    client = Client(tmp_path_factory.mktemp("lsp"))
    yield client
    client.shutdown()


def _code_points(line: str, utf16: int) -> int:
    """A UTF-16 column (the protocol's default unit) as code points (the pipeline's)."""
    units = 0
    for i, c in enumerate(line):
        if units >= utf16:
            return i
        units += 2 if ord(c) > 0xFFFF else 1
    return len(line)


def published(server: Client, case) -> list[tuple[int, int, str, str]]:
    text = _text(case)
    assert text is not None
    uri = server.open(case.path, text)
    lines = split_lines(text)
    out = []
    for d in server.diagnostics(uri):
        start = d["range"]["start"]
        line = lines[start["line"]] if start["line"] < len(lines) else ""
        severity = {1: "error", 2: "warning", 3: "info"}[d["severity"]]
        out.append((start["line"] + 1, _code_points(line, start["character"]) + 1, severity, d["code"]))
    server.close(uri)
    return out


def validated(case) -> list[tuple[int, int, str, str]]:
    result = run_file(case.path)
    return [(d.position.line, d.position.col, str(d.severity), d.code)
            if d.position is not None and d.file == str(case.path) else (1, 1, str(d.severity), d.code)
            for d in result.diagnostics]


def test_only_the_files_that_are_not_utf8_are_left_out():
    assert all(c.codes == {"file-encoding"} for c in CASES if c not in EDITABLE)
    assert len(EDITABLE) >= len(CASES) - 2


@pytest.mark.parametrize("case", EDITABLE, ids=[c.name for c in EDITABLE])
def test_the_server_agrees_with_validate(server, case):
    assert published(server, case) == validated(case)


@pytest.mark.parametrize("case", [c for c in EDITABLE if c.xfail is None],
                         ids=[c.name for c in EDITABLE if c.xfail is None])
def test_every_mistake_is_flagged_on_its_line_with_its_id(server, case):
    found = published(server, case)
    want = [e.key for e in case.expectations]
    got = [Found(f"{line}:{col}", severity, code, "").key for line, col, severity, code in found]
    assert got == [("1:1", s, c) if p == "-" else (p, s, c) for p, s, c in want]
