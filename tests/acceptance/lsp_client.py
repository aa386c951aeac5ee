"""A small Language Server Protocol client for the tests: `dynapcnn-dsl lsp` as an editor runs
it (a subprocess over stdio, JSON-RPC framed by Content-Length headers), with one request at a
time and the diagnostics the server publishes kept per document."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0
"""Seconds to wait for an answer: generous, for a loaded machine (liveness, not speed)."""


def read_messages(out: Any, put: Any) -> None:
    """Every JSON-RPC message on `out` (framed by Content-Length headers) handed to `put`, until
    the stream ends: the reading thread of both test clients (ours and yaml-language-server's)."""
    while True:
        length = None
        while (line := out.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length is None:
            return
        put(json.loads(out.read(length)))


def send_message(stdin: Any, message: dict[str, Any]) -> None:
    """One JSON-RPC 2.0 message, framed, written and flushed."""
    data = json.dumps({"jsonrpc": "2.0", **message}).encode()
    stdin.write(b"Content-Length: %d\r\n\r\n%b" % (len(data), data))
    stdin.flush()


class LspError(Exception):
    """The server answered a request with an error."""


class Client:
    def __init__(self, root: Path, *, settings: dict[str, Any] | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "dynapcnn_dsl", "lsp", "--stdio"],
                                     cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.published: dict[str, list[dict[str, Any]]] = {}
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.settings = settings or {}
        self.next_id = 0
        self.errors: list[bytes] = []  # the server's stderr, drained so that it never blocks
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()
        self.capabilities = self.request("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(), "initializationOptions": self.settings,
            "capabilities": {"workspace": {"configuration": True}}})["capabilities"]
        self.notify("initialized", {})

    # -- the wire ---------------------------------------------------------------------------
    def _read(self) -> None:
        assert self.proc.stdout is not None
        read_messages(self.proc.stdout, self.inbox.put)
        self.inbox.put({"closed": True})

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.errors = [*self.errors[-200:], line]

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        send_message(self.proc.stdin, message)

    def _next(self, deadline: float) -> dict[str, Any]:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the server did not answer within {TIMEOUT} s")
            try:
                message = self.inbox.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if message.get("closed"):
                raise AssertionError(f"the server exited: {self._stderr()}")
            if "method" in message and "id" in message:  # the server asks: settings
                answer = [self.settings.get("dynapcnn-dsl")] if message["method"] == \
                    "workspace/configuration" else None
                self._send({"id": message["id"], "result": answer})
                continue
            if message.get("method") == "textDocument/publishDiagnostics":
                params = message["params"]
                self.published[params["uri"]] = params["diagnostics"]
                self.versions[params["uri"]] = params.get("version")
            return message

    def _stderr(self) -> str:
        self.proc.kill()
        self.proc.wait()
        return b"".join(self.errors).decode(errors="replace")[-2000:]

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        ident = self.next_id
        self._send({"id": ident, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline)
            if message.get("id") == ident and "method" not in message:
                if "error" in message:
                    raise LspError(message["error"].get("message", ""))
                return message.get("result")

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    # -- documents ------------------------------------------------------------------------------
    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.resolve().as_uri()
        text = path.read_text() if text is None else text
        self.texts[uri] = text
        self.versions.pop(uri, None)
        self.published.pop(uri, None)
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": text}})
        self._doc_versions = getattr(self, "_doc_versions", {})
        self._doc_versions[uri] = 1
        return uri

    def change(self, uri: str, text: str) -> None:
        """The document's new text (the server asks for full text on every change)."""
        assert self.capabilities["textDocumentSync"]["change"] == 1  # Full
        self._doc_versions[uri] += 1
        self.texts[uri] = text
        self.notify("textDocument/didChange", {"textDocument": {
            "uri": uri, "version": self._doc_versions[uri]}, "contentChanges": [{"text": text}]})

    def close(self, uri: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def diagnostics(self, uri: str) -> list[dict[str, Any]]:
        """The diagnostics of the document's newest version (waits for them)."""
        want = self._doc_versions[uri]
        deadline = time.monotonic() + TIMEOUT
        while self.versions.get(uri) != want:
            self._next(deadline)
        return self.published[uri]

    def shutdown(self) -> None:
        try:
            self.request("shutdown", {})
            self.notify("exit", {})
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()


def at(line: int, char: int) -> dict[str, int]:
    return {"line": line, "character": char}


def doc_at(uri: str, line: int, char: int) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": at(line, char)}
