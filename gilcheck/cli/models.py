"""`gilcheck models`: the model files bundled with gilcheck (`use "cpython"`), and where they
are on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gilcheck.cli.outcome import Outcome, finish
from gilcheck.cli.output import say, streams
from gilcheck.diagnostics import did_you_mean
from gilcheck.syntax.load import bundled_model_dirs


def bundled_models() -> dict[str, Path]:
    """Each bundled model's name and file, by name (the first folder that has a name wins:
    the installed package's, then a source checkout's)."""
    found: dict[str, Path] = {}
    for folder in bundled_model_dirs():
        for path in sorted(folder.glob("*.gil")):
            found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def summary(path: Path) -> str:
    """A model's first comment line (`CPython building blocks, for use "cpython".`)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        text = line.strip()
        if text.startswith(("#", "//")):
            text = text.lstrip("#/").strip()
            if text:
                return text
        elif text:
            break
    return ""


def models(
    name: Annotated[
        str | None, typer.Argument(help="A bundled model's name, as `use` takes it (`cpython`).")
    ] = None,
    path: Annotated[
        bool,
        typer.Option(
            "--path", help="Print the folder holding the bundled models (with NAME: its file)."
        ),
    ] = False,
) -> None:
    """List the models bundled with gilcheck (`use "NAME"`); `--path` prints where they are."""
    found = bundled_models()
    out = streams.out
    if name is not None and name.removesuffix(".gil") not in found:
        guess = did_you_mean(name, list(found))
        say(f"error: no bundled model `{name}`")
        say(f"help: did you mean `{guess}`?" if guess else "help: `gilcheck models` lists them")
        finish(Outcome.BAD_INPUT)
    if path:
        if name is not None:
            out.print(str(found[name.removesuffix(".gil")]), markup=False, soft_wrap=True)
        else:
            folders = bundled_model_dirs()
            if not folders:
                say("error: this installation of gilcheck has no bundled models")
                finish(Outcome.BAD_INPUT)
            out.print(str(folders[0]), markup=False, soft_wrap=True)
        finish(Outcome.OK)
    shown = {name.removesuffix(".gil"): found[name.removesuffix(".gil")]} if name else found
    width = max((len(n) for n in shown), default=0)
    for model, file in shown.items():
        out.print(f"{model.ljust(width)}  {summary(file)}".rstrip(), markup=False, soft_wrap=True)
    finish(Outcome.OK)
