"""Reading a spec and the model files it `use`s, each parsed once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gilcheck.diagnostics import Diagnostic, DiagnosticSink, SpecError, did_you_mean
from gilcheck.files import FileTooLarge, max_spec_bytes, read_regular_file, size_text
from gilcheck.source import SourceFile, SourceMap, Span, origin_file
from gilcheck.syntax import ast
from gilcheck.syntax.parse import parse_source


def bundled_model_dirs() -> list[Path]:
    """Where the models shipped with gilcheck live (installed wheel, then a source checkout)."""
    package = Path(__file__).resolve().parent.parent
    return [d for d in (package / "bundled_models", package.parent / "models") if d.is_dir()]


def model_search_path(spec_path: Path) -> list[Path]:
    """Folders searched for `use "name"`: the spec's folder, `models/` up the tree, bundled."""
    folders = [spec_path.parent]
    for parent in [spec_path.parent, *spec_path.parent.parents]:
        candidate = parent / "models"
        if candidate.is_dir() and candidate not in folders:
            folders.append(candidate)
    for d in bundled_model_dirs():
        if d not in folders:
            folders.append(d)
    return folders


def resolve_use(spec_path: Path, name: str) -> Path | None:
    """The `.gil` file a `use` names, or None: nothing else is ever read, whatever the name
    or a symbolic link says."""
    if "\x00" in name:
        return None
    file_name = name if name.endswith(".gil") else name + ".gil"
    for folder in model_search_path(spec_path):
        try:
            candidate = (folder / file_name).resolve(strict=True)
            if candidate.suffix == ".gil" and candidate.is_file():
                return candidate
        except (OSError, RuntimeError, ValueError):  # missing, too long, a symlink loop
            continue
    return None


def known_models(spec_path: Path) -> list[str]:
    """Names of the model files visible from a spec, for suggestions."""
    found: list[str] = []
    for folder in model_search_path(spec_path):
        found.extend(p.stem for p in folder.glob("*.gil"))
    return found


def read_source(path: str, sources: SourceMap) -> SourceFile:
    """Read a regular file of at most `max_spec_bytes()` as UTF-8 (undecodable bytes
    replaced) and register it. A larger file is a located `spec-too-large` error; a pipe,
    a device or a folder an OSError (NotARegularFile)."""
    return sources.add(SourceFile(path, _decode(read_spec_bytes(path, sources))))


def read_spec_bytes(path: str, sources: SourceMap) -> bytes:
    """The bytes of a spec or model file (see `read_source`); a file over the limit is a
    SpecError located where the limit is passed, its head registered in `sources`."""
    try:
        return read_regular_file(path, max_spec_bytes())
    except FileTooLarge as large:
        source = sources.add(SourceFile(path, _decode(large.head)))
        end = len(source.text)
        sink = DiagnosticSink()
        sink.error(
            "spec-too-large",
            f"`{path}` is larger than the limit of {size_text(large.limit)}: it goes on past here",
            Span(path, max(0, end - 1), end),
            help="real scenarios are a few kilobytes: make the spec smaller, or set "
            "GILCHECK_MAX_SPEC_BYTES to a larger limit in bytes",
        )
        raise SpecError(sink.items) from None


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return text.removeprefix("\ufeff")  # a byte-order mark is not part of the spec


def load_spec(source: SourceFile, sources: SourceMap) -> list[ast.Module]:
    """Parse a spec and, transitively, the models it uses; report every error at once."""
    sources.add(source)
    errors: list[Diagnostic] = []
    modules: list[ast.Module] = []
    seen: set[str] = set()
    queue: list[SourceFile] = [source]
    complete = True  # every file gave at least a partial module
    while queue:
        current = queue.pop(0)
        key = _identity(current.path)
        if key in seen:
            continue
        seen.add(key)
        try:
            module = parse_source(current)
        except SpecError as err:
            errors.extend(err.diagnostics)
            if not err.partial:
                complete = False
                continue
            module = err.partial[0]
        modules.append(module)
        sources.set_origins(
            current.path,
            {
                line: dataclasses.replace(where, path=origin_file(current.path, where.path))
                for line, where in module.annotations.origins.items()
            },
        )
        for item in module.items:
            if isinstance(item, ast.Use):
                found = _use_file(current, item, errors)
                if found is not None and _identity(str(found)) not in seen:
                    queue.append(read_source(str(found), sources))
    if errors:
        raise SpecError(errors, partial=modules if complete else None)
    return modules


def _identity(path: str) -> str:
    """One name per file, however the path was written (relative, absolute, via links)."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError, ValueError):
        return path


def _use_file(current: SourceFile, item: ast.Use, errors: list[Diagnostic]) -> Path | None:
    spec_path = Path(current.path)
    found = resolve_use(spec_path, item.path)
    if found is None:
        sink = DiagnosticSink()
        guess = did_you_mean(item.path, known_models(spec_path))
        sink.error(
            "unknown-use-file",
            f'no model file "{item.path}"',
            item.span,
            help=f"did you mean `{guess}`?"
            if guess
            else f"looked for {item.path}.gil next to the spec, in models/ folders above it and "
            "in gilcheck's bundled models",
        )
        errors.extend(sink.items)
    return found
