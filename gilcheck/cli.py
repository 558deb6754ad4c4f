"""The command line: arguments -> options -> pipeline -> report -> exit code.

The only module that prints or exits; `exit_code` holds the exit-code table.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from gilcheck import __version__
from gilcheck.diagnostics import CODES, SpecError
from gilcheck.pipeline import analyze_spec, checkable_program, parse_spec
from gilcheck.report.diagnostic_text import render_diagnostics
from gilcheck.report.dump import dump_ast, dump_ir
from gilcheck.source import SourceMap

app = typer.Typer(
    name="gilcheck",
    help="A model checker for GIL, lock and channel interleavings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_INTERNAL = 0, 1, 2, 3, 4


class Outcome(StrEnum):
    """What a command ended with, before it becomes an exit code."""

    OK = "ok"
    VIOLATION = "violation"
    BAD_INPUT = "bad-input"
    INCONCLUSIVE = "inconclusive"
    INTERNAL = "internal"


def exit_code(outcome: Outcome) -> int:
    """The exit-code table: 0 ok, 1 violation, 2 bad spec or command, 3 inconclusive."""
    return {
        Outcome.OK: EXIT_OK,
        Outcome.VIOLATION: EXIT_VIOLATION,
        Outcome.BAD_INPUT: EXIT_USAGE,
        Outcome.INCONCLUSIVE: EXIT_INCONCLUSIVE,
        Outcome.INTERNAL: EXIT_INTERNAL,
    }[outcome]


def _finish(outcome: Outcome) -> NoReturn:
    raise typer.Exit(exit_code(outcome))


def _spec_error(error: SpecError, sources: SourceMap) -> NoReturn:
    err.print(render_diagnostics(error.diagnostics, sources), markup=False, end="")
    _finish(Outcome.BAD_INPUT)


def _unreadable(path: Path, error: OSError) -> NoReturn:
    reason = error.strerror or str(error)
    err.print(f"error[unreadable-file]: cannot read `{path}`: {reason}", markup=False)
    err.print("help: check the path; `gilcheck check` takes a spec file (*.gil)", markup=False)
    _finish(Outcome.BAD_INPUT)


class DumpStage(StrEnum):
    """What `gilcheck parse --dump` prints."""

    AST = "ast"
    IR = "ir"


@app.command()
def parse(
    spec: Annotated[Path, typer.Argument(help="The spec file (*.gil).")],
    dump: Annotated[
        DumpStage | None, typer.Option("--dump", help="Print the syntax tree or the IR.")
    ] = None,
) -> None:
    """Parse and check a spec without exploring it; optionally dump a stage."""
    sources = SourceMap()
    try:
        loaded = parse_spec(str(spec), sources)
        program = analyze_spec(loaded)
    except SpecError as error:
        _spec_error(error, sources)
    except OSError as error:
        _unreadable(spec, error)
    if dump is DumpStage.AST:
        for module in loaded.modules:
            out.print(dump_ast(module, sources), markup=False, end="")
    elif dump is DumpStage.IR:
        out.print(dump_ir(program, sources), markup=False, end="")
    else:
        threads = len(program.threads)
        functions = len(program.functions)
        out.print(
            f"{spec}: ok ({threads} thread{'s' if threads != 1 else ''}, "
            f"{functions} function{'s' if functions != 1 else ''}, "
            f"{sum(len(c.instrs) for c in program.codes)} instructions)",
            markup=False,
        )
    _finish(Outcome.OK)


@app.command()
def check(
    spec: Annotated[Path, typer.Argument(help="The spec file (*.gil).")],
) -> None:
    """Explore every interleaving of a spec and report its verdict."""
    sources = SourceMap()
    try:
        loaded = parse_spec(str(spec), sources)
        checkable_program(loaded)
    except SpecError as error:
        _spec_error(error, sources)
    except OSError as error:
        _unreadable(spec, error)
    out.print(
        f"{spec}: the spec is valid, but checking is not available in this version yet: "
        "no verdict (inconclusive).",
        markup=False,
    )
    _finish(Outcome.INCONCLUSIVE)


@app.command()
def explain(
    code: Annotated[str, typer.Argument(help="A diagnostic code, such as `undefined-name`.")],
) -> None:
    """Explain a diagnostic code: what it means, why it matters, an example."""
    info = CODES.get(code.strip().removeprefix("error[").removesuffix("]"))
    if info is None:
        from gilcheck.diagnostics import did_you_mean

        guess = did_you_mean(code, list(CODES))
        err.print(f"error: unknown diagnostic code `{code}`", markup=False)
        err.print(
            f"help: did you mean `{guess}`?"
            if guess
            else "help: `gilcheck explain --list` shows every code",
            markup=False,
        )
        _finish(Outcome.BAD_INPUT)
    out.print(f"{info.code}: {info.summary}\n", markup=False)
    out.print(f"What\n  {info.what}\n", markup=False)
    out.print(f"Why\n  {info.why}\n", markup=False)
    example = "\n".join("    " + line for line in info.example.splitlines())
    out.print(f"Example\n{example}", markup=False)
    _finish(Outcome.OK)


@app.command("codes")
def list_codes() -> None:
    """List every diagnostic code with a one-line summary."""
    width = max(len(c) for c in CODES)
    for info in CODES.values():
        out.print(f"{info.code.ljust(width)}  {info.summary}", markup=False)
    _finish(Outcome.OK)


def _version(value: bool) -> None:
    if value:
        out.print(f"gilcheck {__version__}", markup=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """gilcheck: explores every interleaving of threads, the GIL, locks and channels."""


def main() -> None:
    """Console-script entry point: never lets a traceback reach the user."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(EXIT_INCONCLUSIVE)
    except Exception as error:
        import click  # type: ignore[import-not-found]

        if isinstance(error, click.exceptions.ClickException):
            error.show()
            sys.exit(EXIT_USAGE)
        if isinstance(error, click.exceptions.Abort):
            sys.exit(EXIT_INCONCLUSIVE)
        err.print(
            f"internal error: {type(error).__name__}: {error}\n"
            "This is a bug in gilcheck, not in your spec; please report it with the spec.",
            markup=False,
        )
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
