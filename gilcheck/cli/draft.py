"""`gilcheck draft`: a spec drafted from Python or Rust/PyO3 source, with the origin of
each statement, the assumptions it rests on, and hashes that tell when the source changed."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from gilcheck.cli.drafting import (
    DEFAULT_UNROLL,
    Entries,
    Unroll,
    command_line,
    draft_options,
    draft_or_exit,
    fail_plain,
    with_command_line,
)
from gilcheck.cli.errors import print_diagnostics
from gilcheck.cli.outcome import Outcome, emit, finish
from gilcheck.cli.output import printable, say, streams
from gilcheck.diagnostics import SpecError
from gilcheck.draft.drafting import spec_name
from gilcheck.draft.model import DraftOptions
from gilcheck.draft.update import merge_kept
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.source import SourceFile, SourceMap
from gilcheck.syntax.annotations import scan_annotations


def draft(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Python modules (.py) or a Rust/PyO3 crate (.rs files, or its folder).",
            show_default=False,
        ),
    ] = None,
    output_file: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write the spec to FILE instead of stdout."
        ),
    ] = None,
    entries: Entries = None,
    unroll: Unroll = DEFAULT_UNROLL,
    update: Annotated[
        Path | None,
        typer.Option(
            "--update",
            metavar="SPEC",
            help="Draft SPEC again from the sources and options it was drafted with (or the "
            "ones given), keeping its lines marked `# keep`.",
        ),
    ] = None,
) -> None:
    """Draft a spec from real source: threads, locks, queues, pools, event loops, processes,
    the GIL; unknown calls and data become stated assumptions.

    Exit codes: 0 drafted, 2 the source does not parse or is not Python or Rust (or an
    --entry does not exist), 3 the source uses a construct the draft will not guess at
    (named, with where it is) or has no entry point.
    """
    if update is not None:
        _update(update, paths, entries, unroll)
        return
    if not paths:
        fail_plain("nothing to draft", "give Python files or a Rust crate: gilcheck draft app.py")
    base = (output_file.parent if output_file is not None else Path.cwd()).resolve()
    options = draft_options(entries, unroll)
    drafted = draft_or_exit(paths, options, base)
    names = [spec_name(p, base) for p in paths]
    text = with_command_line(drafted, command_line(names, options))
    target = str(output_file) if output_file is not None else "the spec (on stdout)"
    _must_parse(str(output_file) if output_file is not None else "draft.gil", text)
    if output_file is None:
        emit(lambda: streams.out.print(printable(text), markup=False, end=""))
    else:
        _write(output_file, text)
    _summary(target, len(drafted.sources), len(drafted.assumptions), output_file)


def _update(spec: Path, paths: list[Path] | None, entries: list[str] | None, unroll: int) -> None:
    try:
        old = spec.read_text(encoding="utf-8")
    except OSError as error:
        fail_plain(f"cannot read `{spec}`: {error.strerror or error}", "check the path")
    annotations, _ = scan_annotations(SourceFile(str(spec), old))
    base = spec.parent.resolve()
    recorded = _recorded(annotations.command)
    if not paths and recorded is None:
        fail_plain(
            f"`{spec}` has no `#@ draft` line: it does not say what it was drafted from",
            f"give the sources: gilcheck draft --update {spec} app.py",
        )
    old_paths, old_options = recorded or ([], DraftOptions())
    use_paths = paths or [base / p for p in old_paths]
    options = DraftOptions(
        entries=tuple(entries) if entries else old_options.entries,
        unroll=unroll if unroll != DEFAULT_UNROLL else old_options.unroll,
    )
    drafted = draft_or_exit(use_paths, options, base)
    names = [spec_name(p, base) for p in use_paths]
    text = with_command_line(drafted, command_line(names, options))
    merged = merge_kept(old, text)
    _must_parse(str(spec), merged.text, kept=True)
    _write(spec, merged.text)
    for line in merged.unplaced:
        say(printable(f"warning: kept `{line}` at the end: the line it followed is gone"))
    kept = f", {merged.kept} line{'s' if merged.kept != 1 else ''} kept" if merged.kept else ""
    say(printable(f"updated {spec}{kept}"))


def _recorded(command: tuple[str, ...]) -> tuple[list[str], DraftOptions] | None:
    """The paths and options a `#@ draft` line records (None without one)."""
    if not command:
        return None
    paths: list[str] = []
    entries: list[str] = []
    unroll = DEFAULT_UNROLL
    words = list(command)
    while words:
        word = words.pop(0)
        if word == "--entry" and words:
            entries.append(words.pop(0))
        elif word == "--unroll" and words and words[0].isdigit():
            unroll = max(1, int(words.pop(0)))
        else:
            paths.append(word)
    return paths, DraftOptions(entries=tuple(entries), unroll=unroll)


def _must_parse(target: str, text: str, kept: bool = False) -> None:
    """A drafted spec always parses and means something; if one does not, that is a bug in
    gilcheck's draft (or, after `--update`, a kept line that no longer fits), shown."""
    sources = SourceMap()
    try:
        analyze_spec(parse_text(target, text, sources))
    except SpecError as error:
        print_diagnostics(error, sources)
        if kept:
            say(f"error: with the lines marked `# keep`, {target} would not check: not updated")
            say("help: fix or unmark the kept lines the errors name, then update again")
        else:
            say("error: the drafted spec does not check: this is a bug in gilcheck's draft")
            say(f"help: report it with the source; {shlex.quote(target)} was not written")
        finish(Outcome.BAD_INPUT)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        say(f"error[unwritable-output]: cannot write {path}: {error.strerror or error}")
        finish(Outcome.BAD_INPUT)


def _summary(target: str, files: int, assumed: int, output_file: Path | None) -> None:
    parts = [f"drafted {target} from {files} file{'s' if files != 1 else ''}"]
    if assumed:
        parts.append(
            f"{assumed} assumption{'s' if assumed != 1 else ''} (listed in its header: check them)"
        )
    say(printable("; ".join(parts)))
    if output_file is not None:
        say(printable(f"next: gilcheck check {output_file}"))
