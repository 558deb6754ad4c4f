"""The typer app, its commands in `--help` order, and `main`, the console script: the one
place that turns interruptions, memory exhaustion and bugs into exit codes."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Annotated, NoReturn

import typer

from gilcheck import __version__
from gilcheck.cli.check import check
from gilcheck.cli.codes import list_codes
from gilcheck.cli.draft import draft
from gilcheck.cli.explain import explain
from gilcheck.cli.export import export
from gilcheck.cli.fmt import fmt_specs
from gilcheck.cli.lsp import lsp
from gilcheck.cli.models import models
from gilcheck.cli.outcome import EXIT_INCONCLUSIVE, EXIT_INTERNAL, EXIT_USAGE
from gilcheck.cli.output import say, streams
from gilcheck.cli.parse import parse
from gilcheck.cli.replay import replay_trace
from gilcheck.cli.running import default_memory_limit_mb, working_on
from gilcheck.cli.schema import print_schema
from gilcheck.cli.simulate import simulate_spec
from gilcheck.cli.trace import trace
from gilcheck.memory import memory_limit_reason, pause_memory_watch, watch_memory

app = typer.Typer(
    name="gilcheck",
    help="A model checker for GIL, lock and channel interleavings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(parse)
app.command()(check)
app.command()(draft)
app.command()(trace)
app.command("fmt")(fmt_specs)
app.command("simulate")(simulate_spec)
app.command("replay")(replay_trace)
app.command()(export)
app.command()(explain)
app.command("codes")(list_codes)
app.command("schema")(print_schema)
app.command("models")(models)
app.command("lsp")(lsp)


def _version(value: bool) -> None:
    if value:
        from gilcheck.explore.native import engine_description

        streams.out.print(f"gilcheck {__version__} ({engine_description()})", markup=False)
        raise typer.Exit(0)


@app.callback()
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
        code = app(standalone_mode=False)
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
