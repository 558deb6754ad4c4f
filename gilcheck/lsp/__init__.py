"""`gilcheck lsp`: the language server for `.gil` specs.

Pure functions turn an open document (its text and path) into plain data: `findings`
(diagnostics), `navigation` (hover and definition), `outline` (document symbols),
`layout` (formatting) and `checking` (the check command's verdict and locations).
`server` alone speaks the protocol (pygls), converting that data to LSP types.
"""
