"""The documentation is true: every code block in docs/*.md is checked.

Code block conventions (the info string after the opening fence):

- ```yaml             a whole network (its first line that is not a comment is `dsl:`): it must
                      validate, exit 0 (warnings allowed).
- ```yaml bad:CODE    a network that must produce CODE, as an error or a warning, among its
                      diagnostics.
- ```yaml fixed       a network that must validate (exit 0) and must not produce the CODE of the
                      closest `bad:` block above it.
- ```yaml fragment    part of a file, or a template file: not checked on its own (a fragment that
                      is saved to a file, see below, is checked by the commands that use it).
- ```json bad:CODE / ```json fixed    the same for JSON network files.
- ```python           run in order, per page, in the page's working directory, in this process
                      (so torch is imported once); a block that raises fails.
- ```python needs-samna    needs samna and a device: collected as a test and skipped.
- ```python needs-sinabs   sinabs code shown for comparison (sinabs is no dependency): collected
                           as a test and skipped.
- ```sh               one command per line (blank lines and `#` comment lines skipped); each must
                      exit 0, or N when the line ends with the comment `# exits N`.
- ```console          lines starting with `$ ` are commands, as in sh; the other lines are the
                      expected output: each must appear, in order, within a line of the output
                      (trailing spaces ignored; `...` in an expected line matches anything).
- ```text             not run (formats, output shown only for reading, file trees); but a text
                      block right after a python block, with no prose between them, is that
                      block's output, checked as console output is.
- Any other info string fails the test: a block cannot silently escape checking.

Files: when the prose before a block ends with "as `FILE`:" (for instance "Save it as
`network.yaml`:"), the block is first written to FILE in the page's working directory, so the
commands and programs after it find it (a tutorial's model.py, network.yaml, a template).

Working directory: one fresh temporary directory per page. `dynapcnn-dsl ...` commands run
in-process through `dynapcnn_dsl.cli.run` (stdout and stderr captured together); any other
command, or one with shell syntax (pipes, redirections, `&&`), runs in bash with the
virtualenv's bin first on PATH.

docs/diagnostics.md: every `### `CODE`` heading introduces one diagnostic id; its section holds a
`bad:CODE` block and a `fixed` block, or the marker `<!-- shown-by-command -->` (the id needs a
weights file, samna, or bytes a Markdown block cannot hold) and a console or text block that
shows `[CODE]`.

Also checked: docs/reference.md is what `make docs` generates now; every diagnostic id the tool
can emit has its section in docs/diagnostics.md; every relative link in docs/*.md and README.md
points at an existing file.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from dynapcnn_dsl.cli import run as cli_run
from dynapcnn_dsl.diagnostics import has_errors
from dynapcnn_dsl.pipeline import run_file
from dynapcnn_dsl.rules import catalogue

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p.name for p in DOCS.glob("*.md") if p.name != "reference.md")
VENV_BIN = Path(sys.executable).parent

SHOWN_BY_COMMAND = "<!-- shown-by-command -->"


# ------------------------------------------------------------------------------ reading pages
@dataclass(frozen=True)
class Block:
    page: str
    line: int          # line of the opening fence (1-based)
    lang: str
    tag: str           # the rest of the info string: "", "bad:CODE", "fixed", "fragment", ...
    text: str
    save_as: str | None
    follows_prose: bool  # prose between the previous block and this one

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


FENCE = re.compile(r"^```(\S*)[ \t]*(.*)$")
SAVE_AS = re.compile(r"as `([^`\s]+)`:\s*$")


def blocks(page: str) -> list[Block]:
    """The fenced blocks of a page, in order, with the file each is saved as (if any)."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    prose: list[str] = []
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(1):
            if lines[i].strip():
                prose.append(lines[i])
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        saved = SAVE_AS.search(" ".join(line.strip() for line in prose))
        out.append(Block(page, start + 1, m.group(1), m.group(2).strip(), "\n".join(body) + "\n",
                         saved.group(1) if saved else None, bool(prose)))
        prose = []
        i += 1
    return out


def is_whole_network(text: str) -> bool:
    """A network file: its first line that is not a comment says `dsl:`."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return bool(lines) and lines[0].startswith("dsl:")


# ------------------------------------------------------------------------------ running blocks
class Page:
    """One page's working directory and the blocks run in it."""

    def __init__(self, page: str, workdir: Path) -> None:
        self.page = page
        self.workdir = workdir
        self.failures: list[str] = []
        self.last_bad: str | None = None
        self.counter = 0
        self.python_output: str | None = None  # of the block just run, for a ```text after it

    def fail(self, block: Block, message: str) -> None:
        self.failures.append(f"{block.where}: {message}")

    # -- networks ---------------------------------------------------------------------------
    def check_network(self, block: Block) -> None:
        self.counter += 1
        suffix = ".json" if block.lang == "json" else ".yaml"
        path = self.workdir / (block.save_as or f"_block{self.counter}{suffix}")
        if not block.save_as:
            path.write_text(block.text, encoding="utf-8")
        result = run_file(path, display_name=str(path.relative_to(self.workdir)))
        codes = [d.code for d in result.diagnostics]
        shown = "; ".join(f"{d.severity}[{d.code}] {d.message}" for d in result.diagnostics)
        if block.tag.startswith("bad:"):
            want = block.tag[4:]
            self.last_bad = want
            if want not in codes:
                self.fail(block, f"expected [{want}], got: {shown or 'no diagnostics'}")
            return
        if not result.ok or has_errors(result.diagnostics):
            self.fail(block, f"expected a valid network, got: {shown or 'not linked'}")
        if block.tag == "fixed":
            if self.last_bad is None:
                self.fail(block, "a `fixed` block without a `bad:` block before it")
            elif self.last_bad in codes:
                self.fail(block, f"the fixed network still produces [{self.last_bad}]")

    # -- commands ---------------------------------------------------------------------------
    def command(self, block: Block, line: str) -> tuple[int, str]:
        expected = 0
        m = re.search(r"\s#\s*exits (\d+)\s*$", line)
        if m:
            expected = int(m.group(1))
        command = re.sub(r"\s+#\s*exits \d+\s*$", "", line).strip()
        status, output = self.execute(command)
        if status != expected:
            self.fail(block, f"`{command}` exited {status}, not {expected}:\n{output}")
        return status, output

    def execute(self, command: str) -> tuple[int, str]:
        shell_syntax = any(c in command for c in "|<>;&$`*")
        words = shlex.split(command, comments=True)
        if words and words[0] == "dynapcnn-dsl" and not shell_syntax:
            return self.in_process(words[1:])
        env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "DYNAPCNN_DSL_DEBUG")}
        env["NO_COLOR"] = "1"
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        proc = subprocess.run(["bash", "-c", command], cwd=self.workdir, env=env, text=True,
                              capture_output=True, timeout=120)
        return proc.returncode, proc.stdout + proc.stderr

    def in_process(self, argv: list[str]) -> tuple[int, str]:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            try:
                status = cli_run(argv)
            except SystemExit as exc:  # argparse's usage errors
                status = exc.code if isinstance(exc.code, int) else 2
        return status, buffer.getvalue()

    def run_sh(self, block: Block) -> None:
        for line in block.text.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                self.command(block, line)

    def run_console(self, block: Block) -> None:
        pending: list[str] = []
        command: str | None = None
        for line in [*block.text.splitlines(), "$ "]:
            if line.startswith("$ ") or line == "$":
                if command is not None:
                    _, output = self.command(block, command)
                    self.expect(block, command, pending, output)
                command = line[2:].strip() or None
                pending = []
            elif line.strip():
                pending.append(line.rstrip())
        if pending and command is None:
            self.fail(block, "expected output without a `$ ` command before it")

    def expect(self, block: Block, command: str, expected: list[str], output: str) -> None:
        got = [line.rstrip() for line in output.splitlines()]
        at = 0
        for want in expected:
            if not want.strip():
                continue
            pattern = re.compile(".*".join(re.escape(part) for part in want.strip().split("...")))
            for i in range(at, len(got)):
                if pattern.search(got[i]):
                    at = i + 1
                    break
            else:
                self.fail(block, f"`{command}`: expected line not found (in order): {want!r}\n"
                          f"output:\n{output}")
                return

    # -- python -----------------------------------------------------------------------------
    def run_python(self, block: Block) -> None:
        code = compile(block.text, block.where, "exec")
        importlib.invalidate_caches()  # files written by earlier blocks must be importable
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                exec(code, {"__name__": "__main__"})
        except Exception as exc:
            self.fail(block, f"raised {type(exc).__name__}: {exc}\n{buffer.getvalue()}")
        self.python_output = buffer.getvalue()

    # -- one block --------------------------------------------------------------------------
    def run(self, block: Block) -> None:
        output, self.python_output = self.python_output, None
        if block.save_as:
            target = self.workdir / block.save_as
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        lang, tag = block.lang, block.tag
        if lang in ("yaml", "json") and (tag.startswith("bad:") or tag == "fixed"):
            self.check_network(block)
        elif lang == "yaml" and tag == "fragment":
            if is_whole_network(block.text):
                self.fail(block, "a whole network marked `fragment`: remove the mark so it is checked")
        elif lang == "yaml" and tag == "":
            if not is_whole_network(block.text):
                self.fail(block, "a YAML block that is not a whole network: mark it ```yaml fragment")
            else:
                self.check_network(block)
        elif lang == "python" and tag == "":
            self.run_python(block)
        elif lang == "python" and tag in SKIPPED:
            pass  # collected by test_skipped_blocks
        elif lang == "sh" and tag == "":
            self.run_sh(block)
        elif lang == "console" and tag == "":
            self.run_console(block)
        elif lang == "text" and tag == "":
            if output is not None and not block.follows_prose:  # the output of the python above
                self.expect(block, "the python block above", block.text.splitlines(), output)
        else:
            self.fail(block, f"unknown block kind ```{lang} {tag}".rstrip())


@pytest.fixture
def page_dir(tmp_path, monkeypatch):
    """A fresh working directory, current for the page, importable, without colour."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:  # modules the page wrote (model.py, ...)
        module = sys.modules.get(name)
        if str(tmp_path) in str(getattr(module, "__file__", "") or ""):
            del sys.modules[name]


@pytest.mark.parametrize("page", PAGES)
def test_page_blocks_are_true(page, page_dir):
    runner = Page(page, page_dir)
    for block in blocks(page):
        runner.run(block)
    assert not runner.failures, "\n\n".join(runner.failures)


SKIPPED = {
    "needs-samna": "needs samna (the `samna` extra) and a connected device",
    "needs-sinabs": "sinabs code, shown for comparison: sinabs is not a dependency",
}
SKIPPED_BLOCKS = [b for page in PAGES for b in blocks(page) if b.lang == "python" and b.tag in SKIPPED]


@pytest.mark.parametrize("block", SKIPPED_BLOCKS, ids=[b.where for b in SKIPPED_BLOCKS])
def test_skipped_blocks_need_what_they_say_and_use_names_that_exist(block):
    """A block that cannot run here still imports what its tag says it needs, and every name
    it takes from dynapcnn_dsl exists (so a renamed API breaks this test, not a reader)."""
    import ast

    import dynapcnn_dsl

    tree = ast.parse(block.text, block.where)
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.module}
    assert block.tag.removeprefix("needs-") in modules, f"{block.where}: tagged {block.tag}"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dynapcnn_dsl"):
            module = importlib.import_module(node.module)
            assert all(hasattr(module, a.name) or importlib.util.find_spec(f"{node.module}.{a.name}")
                       for a in node.names), f"{block.where}: {node.module}"  # a name or a submodule
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == "dynapcnn_dsl"):
            assert hasattr(dynapcnn_dsl, node.attr), f"{block.where}: dynapcnn_dsl.{node.attr}"


# ------------------------------------------------------------------------------ the reference
def test_reference_is_generated_from_the_schema():
    from dynapcnn_dsl.report.reference import reference_markdown

    assert (DOCS / "reference.md").read_text(encoding="utf-8") == reference_markdown(), \
        "docs/reference.md is stale: run `make docs`"


# ------------------------------------------------------------------------------ diagnostic ids
def all_codes() -> set[str]:
    """Every code the tool can emit: the catalogue (`rules.catalogue()`), which
    tests/unit/test_codes.py keeps complete by reading the package's source."""
    return set(catalogue())


def diagnostic_sections() -> dict[str, str]:
    text = (DOCS / "diagnostics.md").read_text(encoding="utf-8")
    parts = re.split(r"^### `([a-z0-9-]+)`.*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_codes_are_found():
    """The catalogue holds codes of every family."""
    codes = all_codes()
    for code in ("dest-max", "yaml-tag", "template-param", "weights-missing", "quantize-all-zero",
                 "samna-missing", "document-chip"):
        assert code in codes


def test_every_diagnostic_id_is_documented():
    sections = diagnostic_sections()
    missing = sorted(all_codes() - set(sections))
    assert not missing, f"docs/diagnostics.md has no `### `ID`` section for: {', '.join(missing)}"
    unknown = sorted(set(sections) - all_codes())
    assert not unknown, f"docs/diagnostics.md documents ids the tool does not emit: {unknown}"


def test_every_diagnostic_section_shows_its_id():
    problems = []
    for code, body in diagnostic_sections().items():
        if SHOWN_BY_COMMAND in body:
            if f"[{code}]" not in body:
                problems.append(f"{code}: marked shown-by-command, but no block shows `[{code}]`")
            continue
        if not re.search(rf"^```(?:yaml|json) bad:{re.escape(code)}\s*$", body, flags=re.M):
            problems.append(f"{code}: no ```yaml bad:{code} block")
        if not re.search(r"^```(?:yaml|json) fixed\s*$", body, flags=re.M):
            problems.append(f"{code}: no ```yaml fixed block")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------ links
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", [*(f"docs/{p.name}" for p in sorted(DOCS.glob("*.md"))), "README.md"])
def test_relative_links_resolve(doc):
    path = ROOT / doc
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        file = target.split("#", 1)[0]
        if not (path.parent / file).exists():
            broken.append(target)
    assert not broken, f"{doc}: links to missing files: {broken}"


def test_conventions_are_documented_here():
    """The conventions above are what pages rely on: keep the docstring and the runner in step."""
    doc = textwrap.dedent(__doc__ or "")
    kinds = ("```yaml bad:CODE", "```yaml fixed", "```yaml fragment", "```sh", "```console", "```text",
             "as `FILE`:", SHOWN_BY_COMMAND, *(f"```python {tag}" for tag in SKIPPED))
    for kind in kinds:
        assert kind in doc
