"""The one place that knows the order of the stages: read, parse, analyze, compile, explore."""

from __future__ import annotations

from dataclasses import dataclass

from gilcheck.analysis.verdicts import check_program
from gilcheck.diagnostics import SpecError
from gilcheck.explore.bfs import Progress
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.semantics.analyze import analyze
from gilcheck.semantics.support import unsupported
from gilcheck.source import SourceMap
from gilcheck.syntax import ast
from gilcheck.syntax.load import load_spec, read_source
from gilcheck.trace.model import CheckResult


@dataclass
class Loaded:
    """A spec's sources and parsed modules (the spec first, then the models it uses)."""

    sources: SourceMap
    modules: list[ast.Module]


def parse_spec(path: str, sources: SourceMap | None = None) -> Loaded:
    """Read and parse a spec and its models (raises SpecError, OSError)."""
    sources = sources or SourceMap()
    source = read_source(path, sources)
    return Loaded(sources, load_spec(source, sources))


def parse_text(path: str, text: str, sources: SourceMap | None = None) -> Loaded:
    """Parse spec text given in memory (its `use`s are still read from disk)."""
    from gilcheck.source import SourceFile

    sources = sources or SourceMap()
    return Loaded(sources, load_spec(SourceFile(path, text), sources))


def analyze_spec(loaded: Loaded) -> ir.Program:
    """Check and lower a parsed spec to the IR (raises SpecError)."""
    return analyze(loaded.modules)


def checkable_program(loaded: Loaded) -> ir.Program:
    """The IR of a spec, refusing constructs `check` has no semantics for yet (SpecError)."""
    program = analyze_spec(loaded)
    refused = unsupported(program)
    if refused:
        raise SpecError(refused)
    return program


def check_spec(
    loaded: Loaded,
    options: CheckOptions,
    progress: Progress | None = None,
) -> CheckResult:
    """Check a parsed spec: refuse unsupported constructs, explore, judge."""
    program = checkable_program(loaded)
    return check_program(program, loaded.sources, options, progress)
