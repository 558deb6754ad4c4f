// Starts the gilcheck language server (`gilcheck lsp`, over stdio) for .gil files. The
// server provides the diagnostics, commands and code lenses; the client registers nothing
// of its own.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration("gilcheck");
  const folders = vscode.workspace.workspaceFolders;
  const expand = (text) =>
    folders && folders.length ? text.replace(/\$\{workspaceFolder\}/g, folders[0].uri.fsPath) : text;
  const command = expand(settings.get("path") || "gilcheck");
  const args = ["lsp", ...(settings.get("args") || []).map(expand)];
  const serverOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "gil" },
      { scheme: "untitled", language: "gil" },
    ],
  };
  client = new LanguageClient("gilcheck", "gilcheck", serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start().catch((error) => {
    vscode.window.showErrorMessage(
      `gilcheck: could not start \`${command} lsp\` (${error.message || error}). ` +
        "Install the language server with `pip install 'gilcheck[lsp]'`, " +
        "or set `gilcheck.path` to the gilcheck executable.",
    );
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
