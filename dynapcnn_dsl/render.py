"""Render diagnostics: the one place that decides how problems look.

Formats: `text` (for people: `file:line:col: severity[id]: message`, the source line with a caret,
and a hint), `json` (for scripts) and `github` (workflow annotations).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

from dynapcnn_dsl.diagnostics import Diagnostic, Severity

FORMATS = ("text", "json", "github")

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def visible(text: str, keep: str = "\t") -> str:
    """Text from a file made safe to print: every character that is not printable (control
    characters such as ESC or CR, line and paragraph separators, bidi overrides) is shown as its
    Python escape (`\\x1b`, `\\u202e`), so a key cannot clear the screen, rewrite a line or
    print a fake verdict. The characters in `keep` stay (tabs: the excerpt expands them)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _location(d: Diagnostic) -> str:
    return visible(f"{d.file}:{d.position}" if d.position else d.file)


def _excerpt(d: Diagnostic, lines: Sequence[str] | None, color: bool) -> list[str]:
    if not lines or d.position is None or not 1 <= d.position.line <= len(lines):
        return []
    number = str(d.position.line)
    gutter = " " * len(number)
    line = lines[d.position.line - 1].expandtabs(1)
    text = visible(line)
    caret = " " * len(visible(line[:d.position.col - 1])) + _paint("^", _COLORS[d.severity], color)
    return [f"  {number} | {text}", f"  {gutter} | {caret}"]


def format_text(d: Diagnostic, lines: Sequence[str] | None = None, *, color: bool = False) -> str:
    """One diagnostic as text: header, optional source excerpt, hint and related places."""
    head = _paint(f"{d.severity}[{d.code}]", "1;" + _COLORS[d.severity], color)
    out = [f"{_location(d)}: {head}: {visible(d.message)}", *_excerpt(d, lines, color)]
    if d.hint:
        out.append(f"  hint: {visible(d.hint)}")
    for r in d.related:
        where = f"{r.file}:{r.position}" if r.position else r.file
        out.append(f"  note: {visible(where)}: {visible(r.message)}")
    return "\n".join(out)


def count(diagnostics: Iterable[Diagnostic]) -> dict[str, int]:
    totals = {s.value: 0 for s in Severity}
    for d in diagnostics:
        totals[d.severity.value] += 1
    return totals


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(file: str, diagnostics: Sequence[Diagnostic], valid: bool) -> str:
    """The file's one-line verdict; `valid` is the pipeline's (`Result.ok`), never recomputed."""
    totals = count(diagnostics)
    parts = [plural(totals[kind], kind) for kind in ("error", "warning") if totals[kind]]
    return f"{visible(file)}: {'valid' if valid else 'invalid'}" + (f" ({', '.join(parts)})" if parts else "")


def to_dict(d: Diagnostic) -> dict[str, object]:
    return {
        "file": d.file,
        "line": d.position.line if d.position else None,
        "col": d.position.col if d.position else None,
        "severity": d.severity.value,
        "code": d.code,
        "message": d.message,
        "hint": d.hint,
        "related": [
            {"file": r.file, "line": r.position.line if r.position else None,
             "col": r.position.col if r.position else None, "message": r.message}
            for r in d.related
        ],
    }


def entry(file: str, valid: bool, diagnostics: Iterable[Diagnostic],
          **payload: object) -> dict[str, object]:
    """One file's part of the JSON envelope: its verdict, its diagnostics and what the command
    produced for it (`network` for inspect, `quantization` for check, ...)."""
    return {"file": file, "valid": valid, "diagnostics": [to_dict(d) for d in diagnostics],
            **payload}


def write_envelope(out: TextIO, entries: Iterable[dict[str, object]]) -> None:
    """The one JSON envelope of every command: `{"files": [entry...], "summary": {severity:
    count}}`, laid out as `json.dumps(..., indent=2)` would, but written entry by entry so
    that checking many files never holds all their results."""
    import json

    totals = {s.value: 0 for s in Severity}
    opening = '{\n  "files": ['
    for e in entries:
        for d in e["diagnostics"]:  # type: ignore[attr-defined]
            totals[d["severity"]] += 1
        out.write(opening + "\n    " + json.dumps(e, indent=2).replace("\n", "\n    "))
        opening = ","
    out.write("\n  ]" if opening == "," else opening + "]")
    out.write(',\n  "summary": ' + json.dumps(totals, indent=2).replace("\n", "\n  ") + "\n}\n")


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command that annotates the offending line."""
    level = {"error": "error", "warning": "warning", "info": "notice"}[d.severity.value]
    props = [f"file={_gh_escape(visible(d.file), prop=True)}"]
    if d.position:
        props += [f"line={d.position.line}", f"col={d.position.col}"]
    props.append(f"title={_gh_escape(d.code, prop=True)}")
    # line breaks are encoded by _gh_escape below; anything else unprintable is escaped here
    message, hint = visible(d.message, "\t\r\n"), visible(d.hint or "", "\t\r\n")
    body = message + (f"\nhint: {hint}" if hint else "")
    return f"::{level} {','.join(props)}::{_gh_escape(body)}"
