"""The Language Server Protocol over stdio (pygls and lsprotocol's types).

The only module of the package that imports pygls: it converts between the protocol and the
plain values of `analysis` and `features`, and decides *when* to check:

- a change schedules a check of its file unless one is already scheduled (which will read the
  latest text): the first change after a quiet spell is checked at once, and while the user
  types, at most one check runs per `CHECK_INTERVAL`, always of the newest text, so the
  diagnostics never lag more than one interval behind the keyboard;
- a request (hover, completion, ...) about a file whose text changed since its last check
  checks it first, so every answer is about the text the editor has;
- a check that fails for a reason the pipeline did not foresee is logged to the client
  (`window/logMessage`) and leaves the last diagnostics in place: the server stays up.
"""

from __future__ import annotations

import asyncio
import traceback
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from dynapcnn_dsl import __version__
from dynapcnn_dsl.diagnostics import Diagnostic, Severity
from dynapcnn_dsl.lsp import features
from dynapcnn_dsl.lsp.analysis import Checker, Settings, Snapshot
from dynapcnn_dsl.lsp.text import Span, split_lines, token_span

CHECK_INTERVAL = 0.05
"""Seconds between two checks of one file while it is being edited (see the module's doc)."""

REQUEST_FAILED = -32803
"""The protocol's error code for a request that is valid but cannot be carried out."""

SECTION = "dynapcnn-dsl"
"""The settings' section (`workspace/configuration`, `didChangeConfiguration`)."""

_SEVERITY = {Severity.ERROR: lsp.DiagnosticSeverity.Error,
             Severity.WARNING: lsp.DiagnosticSeverity.Warning,
             Severity.INFO: lsp.DiagnosticSeverity.Information}

_COMPLETION_KIND = {"core": lsp.CompletionItemKind.Reference, "key": lsp.CompletionItemKind.Property,
                    "value": lsp.CompletionItemKind.EnumMember, "template": lsp.CompletionItemKind.File,
                    "param": lsp.CompletionItemKind.Variable}


class DslServer(LanguageServer):
    """The server's state: the checker with its caches, the settings, the scheduled checks."""

    def __init__(self) -> None:
        # Full: the editor sends the whole text on each change. A network file is a few
        # kilobytes, and pygls applies incremental changes on lines split by str.splitlines,
        # which also breaks at characters the protocol does not (U+2028, form feed, ...): one
        # such character, and the server's copy of the text would drift from the editor's.
        super().__init__("dynapcnn-dsl", __version__,
                         text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.checker = Checker()
        self.settings = Settings()
        self.snapshots: dict[str, tuple[int | None, Snapshot]] = {}
        self.scheduled: dict[str, asyncio.TimerHandle] = {}
        self.last_check: dict[str, float] = {}

    # -- checking ---------------------------------------------------------------------------
    def snapshot(self, uri: str) -> Snapshot | None:
        """The check of the document's current text (run now if the text changed)."""
        doc = self.workspace.get_text_document(uri)
        known = self.snapshots.get(uri)
        if known is not None and known[0] == doc.version and known[1].text == doc.source:
            return known[1]
        try:
            snap = self.checker.check(_path(doc), doc.source, self.settings)
        except Exception:  # a bug in a phase must not take the editor's server down
            self.window_log_message(lsp.LogMessageParams(
                lsp.MessageType.Error, f"dynapcnn-dsl: checking {uri} failed:\n{traceback.format_exc()}"))
            return known[1] if known else None
        self.snapshots[uri] = (doc.version, snap)
        return snap

    def schedule(self, uri: str) -> None:
        if uri in self.scheduled:
            return  # the scheduled check reads the newest text when it runs
        loop = asyncio.get_running_loop()
        delay = max(0.0, self.last_check.get(uri, -1e9) + CHECK_INTERVAL - loop.time())
        self.scheduled[uri] = loop.call_later(delay, self.publish, uri)

    def publish(self, uri: str) -> None:
        self.scheduled.pop(uri, None)
        if uri not in self.workspace.text_documents:
            return
        doc = self.workspace.get_text_document(uri)
        snap = self.snapshot(uri)
        self.last_check[uri] = asyncio.get_running_loop().time()
        if snap is None or snap.text != doc.source:
            return
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri, [self.diagnostic(snap, doc, d) for d in snap.diagnostics], version=doc.version))

    def recheck_all(self) -> None:
        """A file the checks depend on changed (a template, weights, the settings)."""
        self.checker.invalidate()
        self.snapshots.clear()
        for uri in list(self.workspace.text_documents):
            self.schedule(uri)

    # -- conversions --------------------------------------------------------------------------
    def diagnostic(self, snap: Snapshot, doc: TextDocument, d: Diagnostic) -> lsp.Diagnostic:
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        if d.file == snap.file:
            span = token_span(snap.lines, d.position)
        else:  # a template's or the weights' own problem: shown at the top, pointing there
            span = Span(0, 0, 0)
            where = f"{d.file}:{d.position}" if d.position else d.file
            message = f"{where}: {message}"
        related = [lsp.DiagnosticRelatedInformation(
            lsp.Location(_uri(r.file, snap), _raw_range(r.position) if r.file != snap.file
                         else self.range(doc, snap, token_span(snap.lines, r.position))), r.message)
            for r in d.related]
        if d.file != snap.file and d.position is not None:
            related.insert(0, lsp.DiagnosticRelatedInformation(
                lsp.Location(_uri(d.file, snap), _raw_range(d.position)), d.message))
        return lsp.Diagnostic(self.range(doc, snap, span), message, severity=_SEVERITY[d.severity],
                              code=d.code, source="dynapcnn-dsl", related_information=related or None)

    @staticmethod
    def range(doc: TextDocument, snap: Snapshot, span: Span) -> lsp.Range:
        codec = doc.position_codec
        return lsp.Range(codec.position_to_client_units(snap.lines, lsp.Position(span.line, span.start)),
                         codec.position_to_client_units(snap.lines, lsp.Position(span.line, span.end)))

    @staticmethod
    def cursor(doc: TextDocument, position: lsp.Position) -> tuple[int, int]:
        """A client position in code points, on lines split as the protocol splits them."""
        here = doc.position_codec.position_from_client_units(split_lines(doc.source), position)
        return here.line, here.character

    def locations(self, doc: TextDocument, snap: Snapshot, found: list[tuple[Path, Span]],
                  ) -> list[lsp.Location]:
        """Places in this file (converted to the client's units) or in another (a template:
        code points, its lines being ASCII in practice)."""
        def where(path: Path, span: Span) -> lsp.Range:
            if path == snap.path:
                return self.range(doc, snap, span)
            return lsp.Range(lsp.Position(span.line, span.start), lsp.Position(span.line, span.end))

        return [lsp.Location(from_fs_path(str(path)) or "", where(path, span)) for path, span in found]


def _path(doc: TextDocument) -> Path:
    """The file a document is (an unsaved one: a file in the current directory)."""
    path = to_fs_path(doc.uri) if doc.uri.startswith("file:") else None
    return Path(path).resolve() if path else Path.cwd() / (doc.filename or "untitled.yaml")


def _uri(file: str, snap: Snapshot) -> str:
    path = Path(file)
    return from_fs_path(str(path if path.is_absolute() else snap.path.parent / path)) or file


def _raw_range(position: Any) -> lsp.Range:
    start = lsp.Position(position.line - 1, position.col - 1) if position else lsp.Position(0, 0)
    return lsp.Range(start, start)


server = DslServer()


# ------------------------------------------------------------------------------- the lifecycle
@server.feature(lsp.INITIALIZE)
def initialize(ls: DslServer, params: lsp.InitializeParams) -> None:
    ls.settings = Settings.from_client(params.initialization_options)


@server.feature(lsp.INITIALIZED)
def initialized(ls: DslServer, params: lsp.InitializedParams) -> None:
    workspace = ls.client_capabilities.workspace
    if workspace is not None and workspace.configuration:
        ls.workspace_configuration(lsp.ConfigurationParams([lsp.ConfigurationItem(section=SECTION)]),
                                   callback=lambda found: _configured(ls, found))


def _configured(ls: DslServer, found: Any) -> None:
    if found and isinstance(found[0], dict):
        _settle(ls, Settings.from_client({SECTION: found[0]}))


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: DslServer, params: lsp.DidChangeConfigurationParams) -> None:
    _settle(ls, Settings.from_client(params.settings))


def _settle(ls: DslServer, settings: Settings) -> None:
    """New settings re-check the open files (the same settings again change nothing)."""
    if settings != ls.settings:
        ls.settings = settings
        ls.recheck_all()


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: DslServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    ls.recheck_all()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: DslServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: DslServer, params: lsp.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: DslServer, params: lsp.DidSaveTextDocumentParams) -> None:
    """A saved file may be a template or weights another open file uses: check them all."""
    ls.recheck_all()


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: DslServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    handle = ls.scheduled.pop(uri, None)
    if handle is not None:
        handle.cancel()
    known = ls.snapshots.pop(uri, None)
    if known is not None:
        ls.checker.forget(known[1].path)
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))


# ---------------------------------------------------------------------------------- the features
def _at(ls: DslServer, doc_id: Any, position: lsp.Position
        ) -> tuple[TextDocument, Snapshot, int, int] | None:
    doc = ls.workspace.get_text_document(doc_id.uri)
    snap = ls.snapshot(doc_id.uri)
    if snap is None:
        return None
    line, char = ls.cursor(doc, position)
    return doc, snap, line, char


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: DslServer, params: lsp.HoverParams) -> lsp.Hover | None:
    found = _at(ls, params.text_document, params.position)
    if found is None:
        return None
    doc, snap, line, char = found
    answer = features.hover(snap, line, char, ls.checker.templates)
    if answer is None:
        return None
    text, span = answer
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text), ls.range(doc, snap, span))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: DslServer, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
    found = _at(ls, params.text_document, params.position)
    if found is None:
        return None
    doc, snap, line, char = found
    return ls.locations(doc, snap, features.definition(snap, line, char, ls.checker.templates)) or None


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: DslServer, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
    found = _at(ls, params.text_document, params.position)
    if found is None:
        return None
    doc, snap, line, char = found
    spans = features.references(snap, line, char, declaration=params.context.include_declaration)
    return ls.locations(doc, snap, spans) or None


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
def prepare_rename(ls: DslServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
    found = _at(ls, params.text_document, params.position)
    if found is None:
        return None
    doc, snap, line, char = found
    target = features.rename_target(snap, line, char)
    return ls.range(doc, snap, target[1]) if target else None


@server.feature(lsp.TEXT_DOCUMENT_RENAME, lsp.RenameOptions(prepare_provider=True))
def rename(ls: DslServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    found = _at(ls, params.text_document, params.position)
    if found is None:
        return None
    doc, snap, line, char = found
    try:
        edits = features.rename(snap, line, char, params.new_name)
    except ValueError as exc:  # the editor shows the message: why this name cannot be
        raise JsonRpcException(str(exc), code=REQUEST_FAILED) from None
    return lsp.WorkspaceEdit(changes={doc.uri: [
        lsp.TextEdit(ls.range(doc, snap, e.span), e.text) for e in edits]})


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                lsp.CompletionOptions(trigger_characters=[" ", "[", "{", ",", ":"]))
def completion(ls: DslServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    known = ls.snapshots.get(doc.uri)
    snap = known[1] if known else ls.snapshot(doc.uri)  # the names of the last check will do
    if snap is None:
        return None
    line, char = ls.cursor(doc, params.position)
    lines = split_lines(doc.source)
    items = features.completion(snap, lines, line, char, ls.checker.templates)
    return lsp.CompletionList(False, [lsp.CompletionItem(i.label, kind=_COMPLETION_KIND[i.kind],
                                                         detail=i.detail or None) for i in items])


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
def code_action(ls: DslServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    snap = ls.snapshot(doc.uri)
    if snap is None:
        return None
    first, last = params.range.start.line, params.range.end.line
    here = [d for d in snap.diagnostics if d.file == snap.file and d.position is not None
            and first <= d.position.line - 1 <= last]
    actions = []
    for fix in features.fixes(snap, here):
        edits = [lsp.TextEdit(ls.range(doc, snap, e.span), e.text) for e in fix.edits]
        actions.append(lsp.CodeAction(fix.title, kind=lsp.CodeActionKind.QuickFix,
                                      diagnostics=[ls.diagnostic(snap, doc, fix.diagnostic)],
                                      is_preferred=fix.preferred,
                                      edit=lsp.WorkspaceEdit(changes={doc.uri: edits})))
    return actions or None


def serve() -> None:
    """Serve one client over stdin and stdout until it exits."""
    server.start_io()
