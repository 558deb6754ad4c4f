#!/usr/bin/env node
// Tokenizes .gil files with the extension's TextMate grammar (syntaxes/gil.tmLanguage.json),
// as VS Code does: vscode-textmate on the Oniguruma regex engine (vscode-oniguruma).
//
//   node tokenize.js [--unscoped] FILE...      (no FILE: one path a line on stdin)
//
// Prints JSON: {"FILE": [{"line", "start", "end", "text", "scopes"}, ...], ...}, every
// token of every line (lines and columns count from 0). With --unscoped, only the tokens
// with non-blank text whose sole scope is the grammar's own (`source.gil`), or that are
// marked `invalid.*`: for bundled specs, the list must be empty.
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const GRAMMAR = path.join(__dirname, "..", "syntaxes", "gil.tmLanguage.json");

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== "source.gil") return null;
      return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR);
    },
  });
  return registry.loadGrammar("source.gil");
}

function tokenize(grammar, text) {
  const tokens = [];
  let state = vsctm.INITIAL;
  text.split(/\r?\n/).forEach((line, number) => {
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      const end = Math.min(token.endIndex, line.length);
      if (end > token.startIndex) {
        tokens.push({
          line: number,
          start: token.startIndex,
          end,
          text: line.slice(token.startIndex, end),
          scopes: token.scopes,
        });
      }
    }
    state = result.ruleStack;
  });
  return tokens;
}

function unscoped(token) {
  return (
    token.text.trim() !== "" &&
    (token.scopes.length < 2 || token.scopes.some((scope) => scope.startsWith("invalid.")))
  );
}

async function main() {
  let args = process.argv.slice(2);
  const onlyUnscoped = args.includes("--unscoped");
  args = args.filter((arg) => arg !== "--unscoped");
  if (args.length === 0) {
    args = fs.readFileSync(0, "utf8").split(/\r?\n/).filter((line) => line.trim() !== "");
  }
  const grammar = await loadGrammar();
  const out = {};
  for (const file of args) {
    const tokens = tokenize(grammar, fs.readFileSync(file, "utf8"));
    out[file] = onlyUnscoped ? tokens.filter(unscoped) : tokens;
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(2);
});
