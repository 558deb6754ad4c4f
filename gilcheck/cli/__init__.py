"""The command line: arguments -> options -> pipeline -> report -> exit code.

The only package that prints or exits. One module per command (`check`, `trace`, ...);
the options they share are declared once in `options`; `outcome` holds the exit-code
table; `app` builds the typer app and `main`, the console script.

Importing this package imports nothing else: `gilcheck --version` answers before the
commands (and the model checker behind them) are loaded.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gilcheck.cli.app import app as app
    from gilcheck.cli.outcome import Outcome as Outcome
    from gilcheck.cli.outcome import exit_code as exit_code

__all__ = ["Outcome", "app", "exit_code", "main"]


def version_line() -> str:
    """What `gilcheck --version` prints: the version and the form of the search."""
    from gilcheck import __version__
    from gilcheck.explore.native import engine_description

    return f"gilcheck {__version__} ({engine_description()})"


def main() -> None:
    """Console-script entry point: `--version` at once, anything else through the app."""
    if sys.argv[1:] == ["--version"]:
        print(version_line())
        sys.exit(0)
    from gilcheck.cli.app import main as run

    run()


def __getattr__(name: str) -> Any:
    if name == "app":
        from gilcheck.cli.app import app

        return app
    if name in ("Outcome", "exit_code"):
        from gilcheck.cli import outcome

        return getattr(outcome, name)
    raise AttributeError(name)
