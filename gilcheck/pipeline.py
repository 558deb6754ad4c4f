"""The one place that knows the order of the stages: read, parse, analyze, compile, explore."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gilcheck.analysis.verdicts import check_program
from gilcheck.diagnostics import Diagnostic, DiagnosticSink, SpecError
from gilcheck.explore.budget import Progress
from gilcheck.explore.strategies import strategy_for
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.semantics.analyze import analyze
from gilcheck.source import SourceFile, SourceMap, Span, origin_file
from gilcheck.syntax import ast
from gilcheck.syntax.load import load_spec, read_source
from gilcheck.trace.model import Assumed, CheckResult, StateGraph


@dataclass
class Loaded:
    """A spec's sources and parsed modules (the spec first, then the models it uses)."""

    sources: SourceMap
    modules: list[ast.Module]


# The later checks whose errors stand beside syntax errors: all but these, as long as the
# names they flag appear on none of the skipped lines (a skipped `thread main {` line
# would make `main` look missing).
_CHECKS_UNSOUND_AFTER_SYNTAX_ERRORS = frozenset({"missing-main"})


def parse_spec(path: str, sources: SourceMap | None = None) -> Loaded:
    """Read and parse a spec and its models (raises SpecError, OSError)."""
    sources = sources or SourceMap()
    source = read_source(path, sources)
    with _nesting_guard(source):
        return Loaded(sources, _load(source, sources))


def parse_text(path: str, text: str, sources: SourceMap | None = None) -> Loaded:
    """Parse spec text given in memory (its `use`s are still read from disk)."""
    sources = sources or SourceMap()
    source = SourceFile(path, text)
    with _nesting_guard(source):
        return Loaded(sources, _load(source, sources))


def _load(source: SourceFile, sources: SourceMap) -> list[ast.Module]:
    """Parse a spec; with syntax errors, add the later stages' errors on what did parse."""
    try:
        return load_spec(source, sources)
    except SpecError as err:
        if not err.partial:
            raise
        try:
            analyze(err.partial)
        except SpecError as later:
            extra = _sound_after_syntax_errors(later.diagnostics, err.diagnostics, sources)
            if extra:
                files = list(dict.fromkeys(d.span.path for d in err.diagnostics))
                merged = sorted(
                    [*err.diagnostics, *extra],
                    key=lambda d: (
                        files.index(d.span.path) if d.span.path in files else len(files),
                        d.span.start,
                    ),
                )
                raise SpecError(merged) from None
        except RecursionError:
            pass
        raise SpecError(err.diagnostics) from None


def _sound_after_syntax_errors(
    found: list[Diagnostic], syntax: list[Diagnostic], sources: SourceMap
) -> list[Diagnostic]:
    """The later errors that a skipped line cannot have caused."""
    broken = {(d.span.path, sources.line_of(d.span)) for d in syntax}
    # The skipped lines with everything but name characters taken out, so that a name a
    # typo split (`var do=ne`) is still found in them.
    skipped = [
        re.sub(r"[^A-Za-z0-9_]", "", _line_text(sources, path, line)) for path, line in broken
    ]
    kept = []
    for d in found:
        if (d.span.path, sources.line_of(d.span)) in broken:
            continue
        if d.code in _CHECKS_UNSOUND_AFTER_SYNTAX_ERRORS:
            continue
        # A name on a skipped line may have been declared there (or be the placeholder
        # that stands for a skipped function header): its errors are not reported.
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", _span_text(sources, d)))
        if "_" not in names and not any(n in line for n in names for line in skipped):
            kept.append(d)
    return kept


def _span_text(sources: SourceMap, d: Diagnostic) -> str:
    source = sources.get(d.span.path)
    return source.text[d.span.start : d.span.end] if source is not None else ""


def _line_text(sources: SourceMap, path: str, line: int) -> str:
    source = sources.get(path)
    return source.line_text(line) if source is not None and line > 0 else ""


def analyze_spec(loaded: Loaded) -> ir.Program:
    """Check and lower a parsed spec to the IR (raises SpecError)."""
    with _nesting_guard(loaded.sources.get(loaded.modules[0].path) if loaded.modules else None):
        return analyze(loaded.modules)


@contextmanager
def _nesting_guard(source: SourceFile | None) -> Iterator[None]:
    """A spec nested deeper than the stack allows is a located `nesting-too-deep` error."""
    try:
        yield
    except RecursionError:
        if source is None:
            raise
        sink = DiagnosticSink()
        sink.error(
            "nesting-too-deep",
            "blocks or expressions nest too deeply here",
            _deepest(source),
            help="flatten the nesting (see `gilcheck explain nesting-too-deep`)",
        )
        raise SpecError(sink.items) from None


def _deepest(source: SourceFile) -> Span:
    """Where the brackets of a file (outside strings and comments) nest deepest."""
    depth = best = 0
    where = 0
    text = source.text
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            i = len(text) if end < 0 else end + 1
            continue
        if ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if ch in "({[":
            depth += 1
            if depth > best:
                best, where = depth, i
        elif ch in ")}]":
            depth = max(0, depth - 1)
        i += 1
    return Span(source.path, where, where + 1)


def checkable_program(loaded: Loaded) -> ir.Program:
    """The IR of a spec that `check` explores (SpecError for a spec with errors)."""
    return analyze_spec(loaded)


def check_spec(
    loaded: Loaded,
    options: CheckOptions,
    progress: Progress | None = None,
) -> CheckResult:
    """Check a parsed spec: analyze, explore with the strategy the options name, judge."""
    program = checkable_program(loaded)
    strategy = strategy_for(options)
    with _nesting_guard(loaded.sources.get(loaded.modules[0].path) if loaded.modules else None):
        return check_program(program, loaded.sources, options, strategy, progress)


def with_draft_facts(result: CheckResult, loaded: Loaded, accept: bool = False) -> CheckResult:
    """A result with what its spec's annotations say: the assumptions an `ok` rests on
    (accepted or not), and the origins whose source changed since the draft."""
    if not loaded.modules or not loaded.modules[0].annotations:
        return result
    from gilcheck.draft.drift import drift_of  # a drafted spec's only: start-up

    spec = loaded.modules[0]
    assumed = tuple(
        Assumed(a.text, origin_file(spec.path, a.where.path), a.where.line)
        for a in spec.annotations.assumptions
    )
    return dataclasses.replace(
        result,
        assumptions=assumed,
        assumptions_accepted=accept,
        drift=drift_of(spec.path, spec.annotations),
    )


def expect_line(loaded: Loaded) -> int:
    """The line of the spec's `expect` (0: it has none)."""
    if not loaded.modules:
        return 0
    spec = loaded.modules[0]
    for item in spec.items:
        if isinstance(item, ast.Expect):
            return loaded.sources.line_of(item.span)
    return 0


def state_graph_of_spec(loaded: Loaded, options: CheckOptions, limit: int) -> StateGraph:
    """Every reachable state of a parsed spec (raises SpecError, GraphTooLarge)."""
    from gilcheck.analysis.stategraph import state_graph  # `trace --graph states` only

    program = checkable_program(loaded)
    with _nesting_guard(loaded.sources.get(loaded.modules[0].path) if loaded.modules else None):
        return state_graph(program, loaded.sources, options, limit)
