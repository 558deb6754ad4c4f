"""`gilcheck lsp`: the language server for editors (needs the `lsp` extra: pygls)."""

from __future__ import annotations

from typing import Annotated

import typer

MISSING_EXTRA = "gilcheck lsp needs the lsp extra: pip install 'gilcheck[lsp]'"


def lsp(
    # Editors pass `--stdio`; stdin and stdout are the transport unless `--port` is given.
    _stdio: Annotated[
        bool,
        typer.Option("--stdio", help="Talk to the editor on stdin and stdout (the default)."),
    ] = True,
    port: Annotated[
        int | None,
        typer.Option("--port", help="Listen on this TCP port of localhost instead of stdio."),
    ] = None,
) -> None:
    """Run the language server: diagnostics, hover, definition, symbols, formatting and a
    check command, for `.gil` specs in any editor that speaks LSP."""
    from gilcheck.cli.outcome import Outcome, finish
    from gilcheck.cli.output import say

    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        say(MISSING_EXTRA)
        finish(Outcome.BAD_INPUT)
    from gilcheck.lsp.server import serve_stdio, serve_tcp

    if port is not None:
        serve_tcp("127.0.0.1", port)
    else:
        serve_stdio()
    finish(Outcome.OK)
