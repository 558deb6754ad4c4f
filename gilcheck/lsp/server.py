"""The language server: pygls's protocol around the pure functions of this package.

Diagnostics are published on every open and change (reading, parsing and lowering
only); the `gilcheck.check` command, offered as a code lens on the first line, runs the
model checker in a worker thread and adds its verdict's places to those diagnostics
until the document changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from gilcheck import __version__
from gilcheck.lsp.checking import CheckSummary, Mark, check_document
from gilcheck.lsp.findings import SOURCE, Finding, document_findings
from gilcheck.lsp.layout import formatted_text
from gilcheck.lsp.navigation import definition_of, hover_text
from gilcheck.lsp.outline import Outlined, document_symbols
from gilcheck.lsp.places import Extent, Place, path_of_uri, uri_of_path, whole_text
from gilcheck.lsp.units import from_client, to_client

CHECK_COMMAND = "gilcheck.check"

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
}
_MESSAGE_TYPE = {
    "error": types.MessageType.Error,
    "warning": types.MessageType.Warning,
    "information": types.MessageType.Info,
}
_SYMBOL_KIND = {
    "thread": types.SymbolKind.Class,
    "function": types.SymbolKind.Function,
    "hook": types.SymbolKind.Event,
    "channel": types.SymbolKind.Interface,
    "shared variable": types.SymbolKind.Variable,
    "constant": types.SymbolKind.Constant,
    "param": types.SymbolKind.TypeParameter,
}


# How long diagnostics wait for the typing to pause: a burst of changes is analysed once.
SETTLE_SECONDS = 0.15


class GilcheckProtocol(LanguageServerProtocol):
    """pygls's protocol, with a `shutdown` that survives a check still running: the
    requests it cancels leave the table it walks while it walks it."""

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """Cancel every other pending request, then refuse new ones."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None


class GilcheckServer(LanguageServer):
    """A pygls server that remembers, per document, the places of its last check."""

    def __init__(self) -> None:
        super().__init__(
            "gilcheck",
            __version__,
            protocol_cls=GilcheckProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
        )
        self.check_marks: dict[str, tuple[Mark, ...]] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}

    def is_open(self, uri: str) -> bool:
        """Whether the editor has the document open (pygls keys documents unquoted)."""
        documents = self.workspace.text_documents
        return uri in documents or unquote(uri) in documents

    def text_or_none(self, uri: str) -> str | None:
        """The document's text, from the editor or the disk; None when it is neither."""
        try:
            return self.text_of(uri)
        except OSError:
            return None

    @property
    def encoding(self) -> str:
        """The position encoding negotiated with the client."""
        return str(self.workspace.position_encoding or "utf-16")

    def text_of(self, uri: str) -> str:
        """The document's current text."""
        return self.workspace.get_text_document(uri).source

    def pointed(self, uri: str, position: types.Position) -> tuple[str, Place] | None:
        """The document's text and the place a client's position points at in it (None:
        the document is neither open nor on disk)."""
        text = self.text_or_none(uri)
        if text is None:
            return None
        lines = text.split("\n")
        return text, from_client(lines, position.line, position.character, self.encoding)

    def lines_of(self, path: str, uri: str) -> list[str]:
        """The lines of a file, from the editor when open there, else from disk."""
        uri = uri or uri_of_path(path)
        if self.is_open(uri):
            return self.text_of(uri).split("\n")
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace").split("\n")
        except OSError:
            return []

    def range_of(self, extent: Extent, lines: list[str]) -> types.Range:
        """An extent as the client counts characters."""
        start = to_client(lines, extent.start, self.encoding)
        end = to_client(lines, extent.end, self.encoding)
        return types.Range(
            start=types.Position(line=start[0], character=start[1]),
            end=types.Position(line=end[0], character=end[1]),
        )

    def publish(self, uri: str) -> None:
        """Publish the document's findings and the places of its last check (if any)."""
        if not self.is_open(uri):
            return
        document = self.workspace.get_text_document(uri)
        text, path = document.source, path_of_uri(uri)
        lines = text.split("\n")
        found = [self.diagnostic(f, lines, path) for f in document_findings(text, path)]
        marks = [self.mark(m, lines) for m in self.check_marks.get(uri, ()) if m.path == path]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=found + marks, version=document.version
            )
        )

    def publish_soon(self, uri: str) -> None:
        """Publish once the changes pause (`SETTLE_SECONDS`): the latest text only."""
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (called outside the server): at once
            self.publish(uri)
            return
        self.pending[uri] = loop.call_later(SETTLE_SECONDS, self._settled, uri)

    def _settled(self, uri: str) -> None:
        self.pending.pop(uri, None)
        self.publish(uri)

    def diagnostic(self, finding: Finding, lines: list[str], path: str) -> types.Diagnostic:
        """A finding as an LSP diagnostic: the CLI's code, range, message and help."""
        related = [
            types.DiagnosticRelatedInformation(
                location=types.Location(
                    uri=uri_of_path(r.path),
                    # In the document itself: its text as the editor has it.
                    range=self.range_of(
                        r.extent, lines if r.path == path else self.lines_of(r.path, "")
                    ),
                ),
                message=r.message,
            )
            for r in finding.related
        ]
        return types.Diagnostic(
            range=self.range_of(finding.extent, lines),
            message=finding.text,
            severity=_SEVERITY[finding.severity],
            code=finding.code,
            source=SOURCE,
            related_information=related or None,
            data={"help": finding.hint} if finding.hint else None,
        )

    def mark(self, mark: Mark, lines: list[str]) -> types.Diagnostic:
        """A place of a check's verdict as a diagnostic."""
        return types.Diagnostic(
            range=self.range_of(mark.extent, lines),
            message=mark.message,
            severity=_SEVERITY[mark.severity],
            code=mark.verdict,
            source=SOURCE,
        )

    def symbol(self, outlined: Outlined, lines: list[str]) -> types.DocumentSymbol:
        """A top-level declaration as a document symbol."""
        return types.DocumentSymbol(
            name=outlined.name,
            kind=_SYMBOL_KIND.get(outlined.kind, types.SymbolKind.Object),
            range=self.range_of(outlined.extent, lines),
            selection_range=self.range_of(outlined.name_extent, lines),
            detail=outlined.detail,
        )

    async def run_check(self, uri: str) -> CheckSummary:
        """Check the document (off the event loop), say its verdict, mark its places."""
        text = self.text_of(uri)
        summary = await asyncio.to_thread(check_document, text, path_of_uri(uri))
        if self.is_open(uri) and self.text_of(uri) == text:  # the places still fit the text
            self.check_marks[uri] = summary.marks
            self.publish(uri)
        name = Path(path_of_uri(uri)).name
        self.window_show_message(
            types.ShowMessageParams(
                type=_MESSAGE_TYPE[summary.severity], message=f"{name}: {summary.headline}"
            )
        )
        return summary


def build_server() -> GilcheckServer:
    """The server with every feature registered."""
    server = GilcheckServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: GilcheckServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.check_marks.pop(params.text_document.uri, None)
        ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: GilcheckServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.check_marks.pop(params.text_document.uri, None)  # its places moved with the text
        ls.publish_soon(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: GilcheckServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.check_marks.pop(params.text_document.uri, None)
        waiting = ls.pending.pop(params.text_document.uri, None)
        if waiting is not None:
            waiting.cancel()
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: GilcheckServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        pointed = ls.pointed(uri, params.position)
        if pointed is None:
            return None
        markdown = hover_text(pointed[0], path_of_uri(uri), pointed[1])
        if markdown is None:
            return None
        content = types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown)
        return types.Hover(contents=content)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: GilcheckServer, params: types.DefinitionParams) -> types.Location | None:
        uri = params.text_document.uri
        pointed = ls.pointed(uri, params.position)
        if pointed is None:
            return None
        target = definition_of(pointed[0], path_of_uri(uri), pointed[1])
        if target is None:
            return None
        target_uri = uri if target.path == path_of_uri(uri) else uri_of_path(target.path)
        target_lines = ls.lines_of(target.path, target_uri)
        return types.Location(uri=target_uri, range=ls.range_of(target.extent, target_lines))

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(
        ls: GilcheckServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol]:
        uri, text = params.text_document.uri, ls.text_or_none(params.text_document.uri)
        if text is None:
            return []
        lines = text.split("\n")
        return [ls.symbol(found, lines) for found in document_symbols(text, path_of_uri(uri))]

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(
        ls: GilcheckServer, params: types.DocumentFormattingParams
    ) -> list[types.TextEdit]:
        uri, text = params.text_document.uri, ls.text_or_none(params.text_document.uri)
        if text is None:
            return []
        formatted = formatted_text(text, path_of_uri(uri))
        if formatted is None or formatted == text:
            return []
        everything = ls.range_of(whole_text(text), text.split("\n"))
        return [types.TextEdit(range=everything, new_text=formatted)]

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: GilcheckServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        first_line = types.Range(
            start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
        )
        command = types.Command(
            title="Check spec", command=CHECK_COMMAND, arguments=[params.text_document.uri]
        )
        return [types.CodeLens(range=first_line, command=command)]

    @server.command(CHECK_COMMAND)
    async def check(ls: GilcheckServer, *arguments: Any) -> dict[str, Any]:
        uri = arguments[0] if arguments else None
        if not isinstance(uri, str) or not ls.is_open(uri):
            raise ValueError(f"{CHECK_COMMAND} takes the URI of an open document")
        return (await ls.run_check(uri)).as_json()

    return server


def serve_stdio() -> None:
    """Answer a client on stdin and stdout until it says `exit`."""
    build_server().start_io()


def serve_tcp(host: str, port: int) -> None:
    """Answer clients on a TCP port until one says `exit`."""
    build_server().start_tcp(host, port)
