"""The command line: arguments -> options -> pipeline -> report -> exit code.

The only package that prints or exits. One module per command (`check`, `trace`, ...);
the options they share are declared once in `options`; `outcome` holds the exit-code
table; `app` builds the typer app and `main`, the console script.
"""

from __future__ import annotations

from gilcheck.cli.app import app, main
from gilcheck.cli.outcome import Outcome, exit_code

__all__ = ["Outcome", "app", "exit_code", "main"]
