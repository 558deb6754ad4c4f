"""`gilcheck fmt`: rewrite specs in the canonical layout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gilcheck.cli.config import (
    ConfigFile,
    Isolated,
    all_force_excluded,
    configured_paths,
    project_config,
    walk_rules,
)
from gilcheck.cli.errors import no_specs, print_diagnostics
from gilcheck.cli.outcome import Outcome, emit, finish
from gilcheck.cli.output import err, printable, say, streams
from gilcheck.cli.running import expand_spec_paths
from gilcheck.diagnostics import SpecError
from gilcheck.source import SourceMap
from gilcheck.syntax.formatter import format_file


def fmt_specs(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Spec files, folders or globs, as for `check` \\[default: the configuration's "
            "`paths`].",
            show_default=False,
        ),
    ] = None,
    check_only: Annotated[
        bool,
        typer.Option(
            "--check", help="Rewrite nothing; exit 1 and list the specs that would change."
        ),
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Rewrite nothing; print what would change as a diff.")
    ] = False,
    config_file: ConfigFile = None,
    isolated: Isolated = False,
) -> None:
    """Rewrite specs in the canonical layout, keeping every comment.

    Exit codes: 0 done (or, with --check, every spec already formatted), 1 with --check
    when a spec would change, 2 when a spec does not parse (it is left as it is).
    """
    config = project_config(config_file, isolated)
    if not paths:
        paths = configured_paths(config)
    if not paths:
        say("error: nothing to format")
        say("help: give spec files or folders, or list them as `paths` in [tool.gilcheck]")
        finish(Outcome.BAD_INPUT)
    specs = expand_spec_paths(paths, walk_rules(config))
    all_force_excluded(config, paths, specs)
    if not specs:
        no_specs(paths, None)
    changed = bad = 0
    for spec in specs:
        sources = SourceMap()
        try:
            result = format_file(spec, sources)
        except SpecError as error:
            print_diagnostics(error, sources)
            bad += 1
            continue
        except OSError as error:
            reason = error.strerror or str(error)
            say(f"error[unreadable-file]: cannot read `{spec}`: {reason}")
            bad += 1
            continue
        except RecursionError:
            say(f"error[nesting-too-deep]: `{spec}` nests too deeply")
            bad += 1
            continue
        if not result.changed:
            continue
        changed += 1
        if diff:
            patch = printable(result.diff())
            emit(lambda text=patch: streams.out.print(text, markup=False, end=""))  # type: ignore[misc]
        if check_only or diff:
            status = printable(f"would reformat {spec}")
            (err if diff else streams.out).print(status, markup=False)
        else:
            try:
                result.write()
            except OSError as error:
                say(f"error[unwritable-output]: cannot write {spec}: {error.strerror}")
                bad += 1
                continue
            say(printable(f"reformatted {spec}"))
    verb = "would be reformatted" if check_only or diff else "reformatted"
    say(f"{changed} of {len(specs)} spec{'s' if len(specs) != 1 else ''} {verb}")
    if bad:
        finish(Outcome.BAD_INPUT)
    finish(Outcome.VIOLATION if check_only and changed else Outcome.OK)
