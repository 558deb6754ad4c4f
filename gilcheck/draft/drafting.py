"""From paths to a draft: read the user's sources, name them as the spec will, and hand
them to the drafter of their language (Python's `ast`, or tree-sitter-rust)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from gilcheck.draft.model import Draft, DraftError, DraftOptions, SourceText
from gilcheck.walk import walk_files

PYTHON_SUFFIXES = (".py", ".pyw")
RUST_SUFFIXES = (".rs",)
# A crate's or package's tests are not the program (a crate's tests/ have mains of their own).
_NOT_THE_PROGRAM = frozenset({"tests"})


def source_files(paths: Sequence[Path]) -> list[Path]:
    """The files a draft reads: each file given, and in each folder given every Python or
    Rust file below it (build output, virtual environments and tests left out), in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(walk_files(path, PYTHON_SUFFIXES + RUST_SUFFIXES, _NOT_THE_PROGRAM))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def language_of(files: Sequence[Path]) -> str:
    """`python` or `rust`: the language of the files (DraftError when mixed or neither)."""
    kinds = {
        "python" if f.suffix in PYTHON_SUFFIXES else "rust" if f.suffix in RUST_SUFFIXES else ""
        for f in files
    }
    if "" in kinds:
        odd = next(f for f in files if f.suffix not in PYTHON_SUFFIXES + RUST_SUFFIXES)
        raise DraftError(
            f"`{odd}` is neither Python (.py) nor Rust (.rs) source",
            str(odd),
            hint="gilcheck drafts Python modules and Rust/PyO3 crates; write other code as a "
            "spec by hand (docs/language.md)",
            code="draft-language",
        )
    if len(kinds) > 1:
        raise DraftError(
            "the paths hold both Python and Rust source: a draft reads one language",
            str(files[0]),
            hint="draft the Rust crate and the Python program separately (`gilcheck draft "
            "src/` and `gilcheck draft app.py`)",
            code="draft-language",
        )
    if not kinds:
        raise DraftError(
            "no Python or Rust source in the paths given",
            "",
            hint="give .py or .rs files, or folders that hold some",
            code="draft-language",
        )
    return kinds.pop()


def spec_name(path: Path, base: Path) -> str:
    """How a drafted spec names a source file: relative to the folder the spec is written
    to (so the spec and its sources move together), with `/` separators."""
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive
        return path.resolve().as_posix()


def read_sources(files: Sequence[Path], base: Path) -> list[SourceText]:
    """Read each source file (UTF-8; undecodable bytes replaced) under its spec name."""
    sources: list[SourceText] = []
    for f in files:
        name = spec_name(f, base)
        try:
            raw = f.read_bytes()
        except OSError as error:
            raise DraftError(
                f"cannot read `{f}`: {error.strerror or error}",
                name,
                hint="check the path",
                code="unreadable-file",
            ) from None
        sources.append(SourceText(name, _source_text(raw, name)))
    return sources


def draft_paths(paths: Sequence[Path], options: DraftOptions, base: Path) -> Draft:
    """Draft one spec from the files and folders given, naming sources relative to `base`
    (the folder the spec will live in)."""
    files = source_files(paths)
    language = language_of(files)
    sources = read_sources(files, base)
    if language == "python":
        from gilcheck.draft.python import draft_python

        return draft_python(sources, options)
    from gilcheck.draft.rust import cargo_edition, draft_rust

    return draft_rust(sources, options, cargo_edition(files))


def _source_text(raw: bytes, name: str) -> str:
    """A source file's text: UTF-8 (as rustc and Python 3 without a coding line read it);
    other bytes, or a NUL byte, are an error at the first one, with its line and column."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise _unreadable(
            f"`{name}` is not UTF-8: byte {raw[bad.start]:#04x} cannot be read",
            name,
            raw[: bad.start].decode("utf-8", errors="replace"),
            "save the file as UTF-8 (a Python `# coding:` line is not followed)",
        ) from None
    if "\x00" in text:
        raise _unreadable(
            f"`{name}` holds a NUL byte: it is not source text",
            name,
            text[: text.index("\x00")],
            "give the program's source files, not compiled or binary files",
        )
    return text.removeprefix("\ufeff")


def _unreadable(message: str, name: str, before: str, hint: str) -> DraftError:
    """A source file that cannot be read as text, located just after `before` (the text
    that comes ahead of the first bad byte)."""
    return DraftError(
        message,
        name,
        before.count("\n") + 1,
        len(before) - before.rfind("\n"),
        hint=hint,
        code="source-syntax",
    )
