"""The typer app, its commands in `--help` order, and `main`, the console script: the one
place that turns interruptions, memory exhaustion and bugs into exit codes."""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated, NoReturn

import typer
import typer.core

from gilcheck.cli import version_line
from gilcheck.cli.limits import working_on
from gilcheck.cli.outcome import EXIT_INCONCLUSIVE, EXIT_INTERNAL, EXIT_USAGE
from gilcheck.cli.output import say, streams
from gilcheck.memory import (
    default_memory_limit_mb,
    memory_limit_reason,
    pause_memory_watch,
    watch_memory,
)

# The commands in `--help` order: name -> (module, function). A run imports the module of
# the command it runs only (a check does not load the drafters, `explain` not the checker).
COMMANDS: dict[str, tuple[str, str]] = {
    "parse": ("gilcheck.cli.parse", "parse"),
    "check": ("gilcheck.cli.check", "check"),
    "draft": ("gilcheck.cli.draft", "draft"),
    "trace": ("gilcheck.cli.trace", "trace"),
    "fmt": ("gilcheck.cli.fmt", "fmt_specs"),
    "simulate": ("gilcheck.cli.simulate", "simulate_spec"),
    "replay": ("gilcheck.cli.replay", "replay_trace"),
    "export": ("gilcheck.cli.export", "export"),
    "realize": ("gilcheck.cli.realize", "realize"),
    "explain": ("gilcheck.cli.explain", "explain"),
    "codes": ("gilcheck.cli.codes", "list_codes"),
    "schema": ("gilcheck.cli.schema", "print_schema"),
    "models": ("gilcheck.cli.models", "models"),
    "lsp": ("gilcheck.cli.lsp", "lsp"),
}


def command_function(name: str) -> Callable[..., None]:
    """The function behind a command."""
    module, function = COMMANDS[name]
    found: Callable[..., None] = getattr(importlib.import_module(module), function)
    return found


def make_app(only: str | None = None) -> typer.Typer:
    """The typer app with every command, or with command `only` alone (a run of it)."""
    made = typer.Typer(
        name="gilcheck",
        help="A model checker for GIL, lock and channel interleavings.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for name in [only] if only in COMMANDS else COMMANDS:
        made.command(name)(command_function(name))
    made.callback()(_root)
    return made


@functools.cache
def click_command(only: str | None = None) -> typer.core.TyperGroup | typer.core.TyperCommand:
    """`make_app(only)` as the click command typer builds from it. Building it reads every
    option's annotations (milliseconds per command), so a process that runs the CLI many
    times, as the language server and the tests do, builds each one once."""
    command = typer.main.get_command(make_app(only))
    assert isinstance(command, typer.core.TyperGroup | typer.core.TyperCommand)
    return command


def invoked_command(arguments: list[str]) -> str | None:
    """The command a command line runs (its first word, when that names one)."""
    if arguments and arguments[0] in COMMANDS:
        return arguments[0]
    return None


def _version(value: bool) -> None:
    if value:
        streams.out.print(version_line(), markup=False)
        raise typer.Exit(0)


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """gilcheck: explores every interleaving of threads, the GIL, locks and channels."""


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM ends a check as Ctrl-C does: a search stops and reports what it explored."""
    raise KeyboardInterrupt


def _out_of_memory(what: str) -> None:
    """Work stopped for lack of memory before a verdict: say so honestly (exit 3)."""
    where = f" while working on `{working_on[-1]}`" if working_on else ""
    say(
        f"inconclusive: {what}{where}; nothing was proved\n"
        "help: give gilcheck more memory (`--max-memory MB`), or make the spec smaller"
    )


INTERRUPTED_BY_CLICK = 130


def _interrupted() -> NoReturn:
    """Ctrl-C, SIGTERM or the memory watch stopped the command before it finished."""
    pause_memory_watch()
    reason = memory_limit_reason()
    if reason is None:
        say("interrupted")
    else:
        _out_of_memory(f"{reason} was reached")
    sys.exit(EXIT_INCONCLUSIVE)


def main() -> None:
    """Console-script entry point: never lets a traceback reach the user."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))
    streams.reset()  # `--output` may have redirected it
    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        signal.signal(signal.SIGTERM, _terminate)
    # Every command reads specs: a memory limit covers reading, lowering and checking them
    # (`check --max-memory` sets its own).
    watch_memory(default_memory_limit_mb())
    try:
        code = click_command(invoked_command(sys.argv[1:])).main(standalone_mode=False)
        if code == INTERRUPTED_BY_CLICK:  # some click versions turn Ctrl-C into this code
            _interrupted()
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _interrupted()
    except MemoryError:
        _out_of_memory("the memory ran out")
        sys.exit(EXIT_INCONCLUSIVE)
    except Exception as error:
        kind = type(error).__name__
        if hasattr(error, "show") and hasattr(error, "exit_code"):  # a usage error
            error.show()
            sys.exit(EXIT_USAGE)
        if kind == "Abort":  # other click versions turn Ctrl-C into Abort
            _interrupted()
        if os.environ.get("GILCHECK_TRACEBACK"):
            raise  # for a bug report: the full traceback
        say(
            f"internal error: {type(error).__name__}: {error}\n"
            "This is a bug in gilcheck, not in your spec; please report it with the spec."
        )
        sys.exit(EXIT_INTERNAL)
    finally:
        watch_memory(None)
        working_on.clear()


@functools.cache
def _whole_app() -> typer.Typer:
    return make_app()


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the whole app, for documentation tools and tests: built once
        return _whole_app()
    raise AttributeError(name)
