"""The invalid-file corpus (tests/corpus/invalid/) and what each file expects.

Every `.yaml` file starts with comment lines; a `.json` file (JSON has no comments) has a sidecar
`NAME.json.expect` holding the same lines without the `# `:

    # expect: 11:37 error[conv-kernel]
    # expect: 12:5 error[dest-max] ~ 3 destinations
    # expect: 9:3 error[wrong-type] !~ '2' must
    # xfail: why this case documents behaviour the tool does not have yet (a reported bug)
    # free text: what the file gets wrong

`expect:` lines list every diagnostic, in report order, as `line:col severity[code]`; an
optional `~ text` requires `text` in the diagnostic's message or hint, `!~ text` forbids it.
Adding a case is adding a file: the tests pick up every file in the folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dynapcnn_dsl.load import MAX_BYTES

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus" / "invalid"
EXTENSIONS = (".yaml", ".yml", ".json")

_EXPECT = re.compile(
    r"^expect:\s+(?P<pos>\d+:\d+|-)\s+(?P<sev>error|warning|info)\[(?P<code>[a-z0-9-]+)\]"
    r"(?:\s+(?P<neg>!)?~\s+(?P<text>\S.*))?$"
)

LOADER_AND_MODEL_CODES = (
    "yaml-syntax", "json-syntax", "yaml-tag", "yaml-alias", "yaml-duplicate-key",
    "yaml-complex-key", "yaml-depth", "yaml-multiple-documents", "empty-document",
    "file-encoding", "unknown-key", "missing-key", "wrong-type", "invalid-choice",
    "unknown-chip", "dsl-version",
)
"""Codes of the load and model phases that the corpus must exercise (file-too-large is
generated at test time, file-unreadable cannot be a committed file)."""


@dataclass(frozen=True)
class Expectation:
    """One expected diagnostic."""

    position: str  # "line:col", or "-" for none
    severity: str
    code: str
    contains: str | None = None
    lacks: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.position, self.severity, self.code)


@dataclass(frozen=True)
class Found:
    """One diagnostic the tool reported, reduced to what the corpus compares."""

    position: str
    severity: str
    code: str
    text: str  # message and hint

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.position, self.severity, self.code)

    @classmethod
    def from_diagnostic(cls, d: Any) -> Found:
        pos = str(d.position) if d.position is not None else "-"
        return cls(pos, str(d.severity), d.code, f"{d.message}\n{d.hint or ''}")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Found:
        pos = f"{d['line']}:{d['col']}" if d["line"] is not None else "-"
        return cls(pos, d["severity"], d["code"], f"{d['message']}\n{d['hint'] or ''}")


@dataclass(frozen=True)
class Case:
    """One corpus file and its expectations."""

    path: Path
    expectations: tuple[Expectation, ...]
    xfail: str | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def relative(self) -> str:
        """The path from the repository root, as the CLI is given it."""
        return self.path.relative_to(CORPUS_DIR.parent.parent.parent).as_posix()

    @property
    def warning_only(self) -> bool:
        return bool(self.expectations) and all(e.severity != "error" for e in self.expectations)

    @property
    def codes(self) -> set[str]:
        return {e.code for e in self.expectations}


def _header(path: Path) -> list[str]:
    """The expectation lines of a corpus file, without their comment markers."""
    if path.suffix == ".json":
        sidecar = path.with_name(path.name + ".expect")
        return sidecar.read_text(encoding="utf-8").splitlines()
    lines = []
    # Read bytes: some files are deliberately not valid UTF-8 further down.
    for raw in path.read_bytes().splitlines():
        if not raw.startswith(b"#"):
            break
        lines.append(raw.decode("utf-8", errors="replace")[1:].strip())
    return lines


def load_case(path: Path) -> Case:
    expectations: list[Expectation] = []
    xfail = None
    for line in _header(path):
        if line.startswith("expect:"):
            m = _EXPECT.match(line)
            if m is None:
                raise ValueError(f"{path.name}: malformed expectation {line!r}")
            text = m["text"]
            expectations.append(Expectation(
                m["pos"], m["sev"], m["code"],
                contains=None if m["neg"] else text, lacks=text if m["neg"] else None,
            ))
        elif line.startswith("xfail:"):
            xfail = line.removeprefix("xfail:").strip()
    return Case(path, tuple(expectations), xfail)


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS_DIR.iterdir() if p.is_file() and p.suffix in EXTENSIONS)


def cases() -> list[Case]:
    return [load_case(p) for p in corpus_files()]


def params(all_cases: list[Case]) -> list[Any]:
    """pytest params, one per file; a case documenting a reported bug is a strict xfail."""
    out = []
    for case in all_cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


def mismatch(case: Case, found: list[Found]) -> str | None:
    """None when `found` is exactly what the case expects; otherwise a readable account."""
    problems = []
    if [f.key for f in found] != [e.key for e in case.expectations]:
        problems.append("the (position, severity, code) list differs")
    else:
        for e, f in zip(case.expectations, found, strict=True):
            if e.contains is not None and e.contains not in f.text:
                problems.append(f"{e.position} {e.code}: expected {e.contains!r} in {f.text!r}")
            if e.lacks is not None and e.lacks in f.text:
                problems.append(f"{e.position} {e.code}: did not expect {e.lacks!r} in {f.text!r}")
    if not problems:
        return None
    want = "\n".join(f"  {e.position} {e.severity}[{e.code}]" for e in case.expectations)
    got = "\n".join(f"  {f.position} {f.severity}[{f.code}] {f.text.splitlines()[0]}" for f in found)
    return f"{case.name}: " + "; ".join(problems) + f"\nexpected:\n{want}\nfound:\n{got}"


def big_file(directory: Path) -> Path:
    """A network file just over the 1 MiB limit (valid YAML: a network plus comment lines)."""
    path = directory / "file-too-large.yaml"
    network = (CORPUS_DIR / "warn-dest-duplicate.yaml").read_text(encoding="utf-8")
    filler = "# " + "x" * 1021 + "\n"  # 1 KiB per line
    path.write_text(network + filler * (MAX_BYTES // len(filler) + 1), encoding="utf-8")
    assert path.stat().st_size > MAX_BYTES
    return path
