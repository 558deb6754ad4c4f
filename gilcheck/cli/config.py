"""The project configuration for the commands: found, read, reported when wrong, and
merged under the command line (an option given on the command line wins)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from gilcheck.cli.errors import print_diagnostics
from gilcheck.cli.outcome import Outcome, finish
from gilcheck.cli.output import say
from gilcheck.config import Config, find_config, load_config
from gilcheck.diagnostics import SpecError
from gilcheck.source import SourceMap
from gilcheck.walk import WalkRules

ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="Read settings from FILE's \\[tool.gilcheck] table \\[default: the nearest "
        "pyproject.toml that has one, from the working folder up].",
        show_default=False,
    ),
]
Isolated = Annotated[
    bool,
    typer.Option("--isolated", help="Read no configuration file: the defaults and the options."),
]


def project_config(named: Path | None, isolated: bool) -> Config:
    """The configuration a command runs with; a file that cannot be read or holds a wrong
    setting ends the command with exit 2."""
    if isolated:
        if named is not None:
            say("error: `--config` names a configuration and `--isolated` reads none")
            say("help: drop one of them")
            finish(Outcome.BAD_INPUT)
        return Config()
    path = named if named is not None else find_config(Path.cwd())
    if path is None:
        return Config()
    sources = SourceMap()
    try:
        return load_config(path, sources, shown=_shown(path))
    except SpecError as error:
        print_diagnostics(error, sources, "the configuration")
        finish(Outcome.BAD_INPUT)
    except OSError as error:
        say(f"error[unreadable-file]: cannot read `{path}`: {error.strerror or error}")
        finish(Outcome.BAD_INPUT)


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


def walk_rules(config: Config) -> WalkRules:
    """What folder walks leave out under a configuration."""
    return WalkRules(config.root, config.patterns, config.respect_gitignore, config.force_exclude)


def all_force_excluded(config: Config, paths: list[Path], specs: list[Path]) -> None:
    """With `force-exclude`, files named that the exclusions leave out every one of are
    nothing to do (as pre-commit passes them): say so and end the command with exit 0."""
    if not specs and config.force_exclude and paths and all(p.is_file() for p in paths):
        say("nothing to do: the configuration's exclusions leave out every file given")
        finish(Outcome.OK)


def configured_paths(config: Config) -> list[Path]:
    """The configuration's `paths`, as paths from the working folder."""
    return [Path(os.path.relpath(config.root / path)) for path in config.paths]


def settled(
    ctx: typer.Context,
    config: Config,
    given: Mapping[str, Any],
    renamed: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The command's arguments (`given`, as typer converted them): as given on the command
    line, else as the configuration sets them, else their defaults. `renamed` maps a
    setting's `check` parameter to this command's name for it; settings the command does
    not take are left alone."""
    values = dict(given)
    for setting, value in config.check.items():
        name = (renamed or {}).get(setting, setting)
        # The source's name, as typer may bring its own copy of click's ParameterSource.
        source = ctx.get_parameter_source(name) if name in ctx.params else None
        if name in values and getattr(source, "name", None) in ("DEFAULT", "DEFAULT_MAP"):
            values[name] = value
    return values
