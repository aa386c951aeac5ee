"""The editors' view (issue 9, class 10): yaml-language-server 2, the server of VS Code's YAML
extension, Neovim and Helix, driven headless over LSP with the committed schema.

A file with two mistakes in one core (`kernel: 17` and a misspelled key in a destination) must be
flagged on exactly those two lines, not as "Missing property 'template'" on the core: the schema
says explicitly (if/then/else) that a mapping with `template:` is an instance and any other a
core. `min_v_mem: 0` is flagged (the bound is exclusive), and a board name in any case is a chip.

The server is the npm package installed by `make test` into `.venv/node` when npm is there; the
test is skipped, saying why, when node or the package is missing.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from .lsp_client import read_messages, send_message

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema" / "network.schema.json"
SERVER = Path(sys.prefix) / "node" / "node_modules" / "yaml-language-server"
TIMEOUT = 60.0
"""Seconds to wait for the server's diagnostics: generous, for a loaded CI machine."""


def _why_not() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed: the LSP test drives yaml-language-server under node"
    try:
        version = json.loads((SERVER / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return (f"yaml-language-server is not installed in {SERVER.parent} "
                "(`make test` installs it there when npm is available)")
    if not version.startswith("2."):
        return f"yaml-language-server {version} is installed; this test is written for version 2"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


class Server:
    """yaml-language-server over stdio: JSON-RPC messages framed by Content-Length headers."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            ["node", str(SERVER / "bin" / "yaml-language-server"), "--stdio"], cwd=root,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.request(1, "initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}})
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration",
                    {"settings": {"yaml": {"validate": True, "schemaStore": {"enable": False}}}})

    def _read(self) -> None:
        assert self.proc.stdout is not None
        read_messages(self.proc.stdout, self.inbox.put)

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        send_message(self.proc.stdin, message)

    def request(self, ident: int, method: str, params: dict[str, Any]) -> None:
        self._send({"id": ident, "method": method, "params": params})

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def diagnostics(self, path: Path, text: str) -> list[dict[str, Any]]:
        """Open `text` as the document `path`; the diagnostics the server publishes for it."""
        uri = path.as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": text}})
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                message = self.inbox.get(timeout=1)
            except queue.Empty:
                continue
            if "id" in message and "method" in message:  # the server asks (configuration): no answer
                self._send({"id": message["id"], "result": None})
            elif (message.get("method") == "textDocument/publishDiagnostics"
                  and message["params"]["uri"] == uri):
                return message["params"]["diagnostics"]
        raise AssertionError(f"no diagnostics for {uri} within {TIMEOUT} s")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("lsp"))
    yield s
    s.close()


def flagged(server: Server, tmp_path: Path, body: str) -> list[tuple[int, str]]:
    """(1-based line, message) of every diagnostic, for a network with the schema's modeline."""
    text = f"# yaml-language-server: $schema={SCHEMA.as_uri()}\n{body}"
    return sorted((d["range"]["start"]["line"] + 1, d["message"])
                  for d in server.diagnostics(tmp_path / "network.yaml", text))


HEAD = """\
dsl: 1
chip: speck2f
input: {source: host, shape: [1, 64, 64], to: [conv1]}
cores:
"""
"""Lines 2-5 after the modeline; the cores start on line 6."""


def test_two_mistakes_in_one_core_are_flagged_each_on_its_line_and_nothing_else(server, tmp_path):
    body = HEAD + """\
  conv1:
    conv: {out_channels: 8, kernel: 17}
    to: [{core: conv2, poool: 2}]
  conv2:
    conv: {out_channels: 8, kernel: 3}
"""
    assert flagged(server, tmp_path, body) == [(7, "Value is above the maximum of 16."),
                                              (8, "Property poool is not allowed.")]


def test_min_v_mem_zero_is_flagged(server, tmp_path):
    body = HEAD + "  conv1:\n    conv: {out_channels: 8, kernel: 3}\n    neuron: {min_v_mem: 0}\n"
    assert flagged(server, tmp_path, body) == [(8, "Value is above the exclusive maximum of 0.")]


def test_a_template_instance_and_a_board_name_in_any_case_are_fine(server, tmp_path):
    body = HEAD.replace("speck2f", "Speck2fModuleDevKit") + """\
  conv1: {conv: {out_channels: 8, kernel: 3, padding: 1}, to: [block]}
  block: {template: residual_block, with: {channels: 8}}
"""
    assert flagged(server, tmp_path, body) == []


def test_a_mistake_in_a_template_instance_is_flagged_on_its_line(server, tmp_path):
    body = HEAD + """\
  conv1: {conv: {out_channels: 8, kernel: 3}, to: [block]}
  block:
    template: residual_block
    whith: {channels: 8}
"""
    assert flagged(server, tmp_path, body) == [(9, "Property whith is not allowed.")]
