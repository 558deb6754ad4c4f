"""Project configuration: the `[tool.gilcheck]` table of a pyproject.toml.

Found as ruff finds its own: the nearest pyproject.toml with a `[tool.gilcheck]` table in
the working folder or above it (or the file `--config` names). Its keys (`KEYS`) are
long options of `gilcheck check` without the dashes, plus `paths` (what to check when no
path is given) and `exclude`/`extend-exclude`/`respect-gitignore`/`force-exclude` (what
walks leave out). Paths and patterns are relative to the folder of the pyproject.toml.
Values are
checked here, each error located at its key's line, so that a typo is an exit-2 error
rather than a setting silently ignored.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gilcheck.diagnostics import CODES, Diagnostic, SpecError
from gilcheck.options import MOST_WORKERS, STRATEGY_NAMES
from gilcheck.source import SourceFile, SourceMap
from gilcheck.walk import DEFAULT_EXCLUDE

CONFIG_FILE = "pyproject.toml"
TABLE = "tool.gilcheck"

# `check --format`'s choices (cli/check.py checks them against its CheckFormat).
FORMATS = ("text", "json", "junit", "sarif", "markdown", "github")


@dataclass(frozen=True, slots=True)
class Config:
    """The settings of one project; `file` is None when no configuration was read."""

    file: Path | None = None
    root: Path = field(default_factory=Path)
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False  # the exclusions apply to files named on the command line
    # `check` option (its parameter name, e.g. max_states) -> value, for the options set.
    check: Mapping[str, Any] = field(default_factory=dict)

    @property
    def patterns(self) -> tuple[str, ...]:
        """Every exclusion pattern: `exclude` then `extend-exclude`."""
        return self.exclude + self.extend_exclude


def _int(minimum: int, most: int | None = None) -> Any:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "an integer"
        if most is not None and not minimum <= value <= most:
            return f"an integer from {minimum} to {most}"
        return None if value >= minimum else f"an integer of at least {minimum}"

    return check


def _seconds(value: Any) -> str | None:
    wanted = "a number of seconds of at least 0.001"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return wanted
    return None if math.isfinite(value) and value >= 0.001 else wanted


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _choice(choices: tuple[str, ...]) -> Any:
    def check(value: Any) -> str | None:
        return None if value in choices else "one of " + ", ".join(f'"{c}"' for c in choices)

    return check


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) and value else 'a non-empty string, such as ".cache"'


def _strings(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return 'a list of strings, such as ["specs"]'


# key -> (the `check` parameter it sets, or None for a walk setting; its check)
_KEYS: dict[str, tuple[str | None, Any]] = {
    "paths": (None, _strings),
    "exclude": (None, _strings),
    "extend-exclude": (None, _strings),
    "respect-gitignore": (None, _bool),
    "force-exclude": (None, _bool),
    "expect": ("expect_mode", _bool),
    "format": ("output_format", _choice(FORMATS)),
    "accept-assumptions": ("accept_assumptions", _bool),
    "fingerprint": ("fingerprint", _bool),
    "accept-fingerprint": ("accept_fingerprint", _bool),
    "max-states": ("max_states", _int(1)),
    "timeout": ("timeout", _seconds),
    "channel-bound": ("channel_bound", _int(1)),
    "object-bound": ("object_bound", _int(1)),
    "max-memory": ("max_memory", _int(16)),
    "spurious-wakeups": ("spurious_wakeups", _bool),
    "stubborn-sets": ("stubborn", _bool),
    "workers": ("workers", _int(0, MOST_WORKERS)),
    "threads": ("threads", _int(0)),
    "strategy": ("strategy", _choice(STRATEGY_NAMES)),
    "max-depth": ("max_depth", _int(1)),
    "seed": ("seed", _int(-(2**63))),
    "walks": ("walks", _int(1)),
    "cache": ("cache_dir", _string),
    "quiet": ("quiet", _bool),
}
# Settings that name a path: relative to the configuration's folder.
_PATH_KEYS = frozenset({"cache"})
KEYS: tuple[str, ...] = tuple(_KEYS)


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a `[tool.gilcheck]` table, from `start` upwards."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file() and _has_table(candidate):
            return candidate
    return None


def _has_table(path: Path) -> bool:
    """Whether a pyproject.toml holds gilcheck's settings, in any TOML form (a table, a
    dotted key, an inline table); one that is not TOML but names gilcheck counts, so that
    its error is shown rather than passed over."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if "gilcheck" not in text:
        return False
    try:
        tool = tomllib.loads(text).get("tool")
    except tomllib.TOMLDecodeError:
        return True
    return isinstance(tool, dict) and "gilcheck" in tool


def load_config(path: Path, sources: SourceMap, shown: str | None = None) -> Config:
    """The settings in a pyproject.toml's `[tool.gilcheck]` table (none: defaults). Raises
    SpecError (code `bad-config`) for a file that is not TOML or a key or value gilcheck
    does not take (located in the file named `shown`, by default `path`); OSError when it
    cannot be read."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    source = sources.add(SourceFile(shown or str(path), text))
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, column = _error_position(str(error))
        if line == 0:
            line = max(1, len(text.rstrip("\n").split("\n")))
            column = len(source.line_text(line)) + 1
        message = re.sub(
            r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", str(error)
        )
        raise SpecError(
            [
                _problem(
                    source,
                    line,
                    column,
                    1,
                    f"`{path.name}` is not valid TOML: {message}",
                    "fix the TOML syntax; https://toml.io describes it",
                )
            ]
        ) from None
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise SpecError([_at_key(source, "", "`tool` must be a table", "write `[tool.gilcheck]`")])
    table = tool.get("gilcheck", {})
    if not isinstance(table, dict):
        raise SpecError([_at_key(source, "", "`tool.gilcheck` must be a table", None)])
    problems: list[Diagnostic] = []
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            close = [k for k in KEYS if _near(k, key)]
            hint = f"did you mean `{close[0]}`?" if close else "the keys are: " + ", ".join(KEYS)
            problems.append(_at_key(source, key, f"unknown key `{key}` in [tool.gilcheck]", hint))
            continue
        wanted = _KEYS[key][1](value)
        if wanted is not None:
            problems.append(
                _at_key(source, key, f"`{key}` must be {wanted}, not {_toml(value)}", None)
            )
            continue
        values[key] = value
    if problems:
        raise SpecError(problems)
    return Config(
        file=path,
        root=path.parent,
        paths=tuple(values.get("paths", ())),
        exclude=tuple(values.get("exclude", DEFAULT_EXCLUDE)),
        extend_exclude=tuple(values.get("extend-exclude", ())),
        respect_gitignore=values.get("respect-gitignore", True),
        force_exclude=values.get("force-exclude", False),
        check={
            parameter: path.parent / values[key] if key in _PATH_KEYS else values[key]
            for key, (parameter, _) in _KEYS.items()
            if parameter is not None and key in values
        },
    )


def _near(known: str, given: str) -> bool:
    a, b = known.replace("_", "-"), given.replace("_", "-").lower()
    if a == b or a.startswith(b) or b.startswith(a):
        return True
    if abs(len(a) - len(b)) > 2:
        return False
    return sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b)) <= 2


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return str(value)


def _error_position(message: str) -> tuple[int, int]:
    found = re.search(r"at line (\d+), column (\d+)", message)
    if found:
        return int(found.group(1)), int(found.group(2))
    return 0, 1  # "at end of document": the last line


def _at_key(source: SourceFile, key: str, message: str, hint: str | None) -> Diagnostic:
    """A problem at the line of `key` inside `[tool.gilcheck]` (or at the header of a
    `[tool.gilcheck.KEY]` subtable); the table's header if the key cannot be found (a
    dotted or inline form)."""
    lines = source.text.split("\n")
    header = 0
    quoted = rf"""(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')"""
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if key and re.match(rf"\[\s*tool\s*\.\s*gilcheck\s*\.\s*{quoted}\s*\]", stripped):
            return _problem(source, number, line.index("[") + 1, len(stripped), message, hint)
        if re.match(r"\[\s*tool\s*\.\s*gilcheck\s*\]", stripped):
            header = number
        elif header > 0 and stripped.startswith("["):
            header = -header  # past the table: keep its header, stop looking for keys
        elif header > 0 and key:
            found = re.match(rf"(\s*)({quoted})\s*=", line)
            if found:
                return _problem(
                    source, number, len(found.group(1)) + 1, len(found.group(2)), message, hint
                )
    at = abs(header) or 1
    return _problem(source, at, 1, len(source.line_text(at)) or 1, message, hint)


def _problem(
    source: SourceFile, line: int, column: int, width: int, message: str, hint: str | None
) -> Diagnostic:
    start = source.offset_of(line, column)
    return Diagnostic("bad-config", message, source.span(start, start + max(1, width)), help=hint)


if "bad-config" not in CODES:
    raise ImportError("config.py: the `bad-config` code is not registered in diagnostics.CODES")
