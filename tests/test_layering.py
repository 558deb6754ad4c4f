"""The pipeline's layers import only earlier layers (STYLE.md), checked by reading imports."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gilcheck"

# Each layer and the layers it may import (shared modules are open to all).
SHARED = {"source", "diagnostics", "options", "memory", "files", "walk", "private", "__init__"}
ALLOWED = {
    "syntax": set(),
    # Sync objects (one module per kind) import nothing of gilcheck's but themselves.
    "sync": set(),
    "semantics": {"syntax", "sync"},
    "symbolic": {"semantics"},
    "system": {"semantics", "syntax", "symbolic", "sync"},
    "explore": {"system", "semantics"},
    "trace": set(),
    "analysis": {"explore", "system", "semantics", "trace", "syntax", "symbolic", "sync"},
    "report": {"trace", "semantics", "syntax"},
    # The export asks the primitives which kinds accept a statement (sync/registry.py).
    "export": {"semantics", "sync"},
    "realize": {"semantics", "sync"},
    # Drafting specs from source: it writes spec text, reads annotations, states drift.
    "draft": {"syntax", "trace"},
    "pipeline": {"syntax", "semantics", "system", "explore", "analysis", "trace", "draft"},
    "pytest_plugin": {"pipeline", "report", "trace"},
    "__main__": {"cli"},
    "progress": {"explore"},
    # The project's configuration (pyproject.toml): read and checked, nothing run.
    "config": set(),
    # The language server: the CLI's stages and reports, for an editor's open documents.
    "lsp": {"pipeline", "report", "trace", "syntax", "semantics", "config"},
    "cli": {
        "config",
        "lsp",
        "draft",
        "progress",
        "pipeline",
        "report",
        "export",
        "realize",
        "trace",
        "syntax",
        "semantics",
        "system",
        "explore",
        "analysis",
    },
}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gilcheck"):
            parts = node.module.split(".")
            found.add(parts[1] if len(parts) > 1 else "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("gilcheck."):
                    found.add(alias.name.split(".")[1])
    return found


def test_layers_import_only_earlier_layers() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        if layer in SHARED:
            continue
        allowed = ALLOWED[layer] | SHARED | {layer}
        for imported in _imports(path):
            if imported not in allowed:
                problems.append(f"{path.relative_to(PACKAGE)} imports {imported}")
    assert not problems, problems


def test_networkx_lives_in_analysis_and_z3_nowhere_but_symbolic() -> None:
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if "import networkx" in text:
            assert _layer(path) == "analysis", path
        if "import z3" in text:
            assert _layer(path) == "symbolic", path


def test_only_the_cli_prints_or_exits() -> None:
    for path in PACKAGE.rglob("*.py"):
        if _layer(path) == "cli":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("print", "exit"), f"{path}: {node.func.id}"
            if isinstance(node, ast.Attribute) and node.attr == "exit":
                assert not (isinstance(node.value, ast.Name) and node.value.id == "sys"), path
