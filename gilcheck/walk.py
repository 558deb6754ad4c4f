"""Folder walks: every file of some kinds below a folder, leaving out what a project does
not want checked.

Left out: folders and files matching the exclusion patterns (gitignore-style, relative to
the configuration's folder; by default hidden folders, installed packages, caches and
other tools' output), virtual environments under any name (a folder with a pyvenv.cfg),
and, unless turned off, what the `.gitignore` files of the folders walked (and of their
parents up to the repository's top) and `.git/info/exclude` ignore, inside a git
repository. A path named explicitly on the command line is left out only with
`force_exclude`: otherwise only what a walk or a glob finds is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".*/",
    "node_modules/",
    "site-packages/",
    "__pycache__/",
    "target/",
)


@dataclass(frozen=True, slots=True)
class WalkRules:
    """What a walk leaves out: `patterns` relative to `root`, and `.gitignore`d paths;
    with `force_exclude`, paths named on the command line too."""

    root: Path = field(default_factory=Path)
    patterns: tuple[str, ...] = DEFAULT_EXCLUDE
    respect_gitignore: bool = True
    force_exclude: bool = False


IgnoreChain = tuple[tuple[Path, "pathspec.GitIgnoreSpec"], ...]


class Walker:
    """Walks folders under one set of rules (the `.gitignore` files read are kept).

    Ignore files apply inside a git repository only, as git applies them: the
    repository's `.git/info/exclude` and the `.gitignore` of every folder from its top
    down. `top`, when given, is a folder above which no ignore file is read (a folder
    named explicitly that the rules of its parents would leave out)."""

    def __init__(self, rules: WalkRules | None = None, top: Path | None = None) -> None:
        import pathspec  # when a folder is walked: start-up of a check of one file

        self.rules = rules or WalkRules()
        self._root = Path(os.path.abspath(self.rules.root))
        self._root_resolved = self._root.resolve()
        self._top = top
        self._spec = pathspec.GitIgnoreSpec
        self._excluded = self._spec.from_lines(self.rules.patterns)
        self._ignores: dict[Path, IgnoreChain | None] = {}

    def inside(self, folder: Path) -> Walker:
        """The walker of a folder named explicitly that these rules leave out: the
        patterns relative to it, and only the ignore files at or below it."""
        absolute = Path(os.path.abspath(folder))
        rules = WalkRules(
            absolute, self.rules.patterns, self.rules.respect_gitignore, self.rules.force_exclude
        )
        return Walker(rules, top=absolute)

    def walk(
        self, folder: str | os.PathLike[str], suffixes: tuple[str, ...], skip: frozenset[str]
    ) -> list[Path]:
        """Every file below `folder` whose name ends in one of `suffixes`, sorted; folders
        named in `skip` are left out too. A folder the rules would leave out, named
        explicitly, is walked by its own rules (`inside`)."""
        if self.excluded(Path(folder), is_dir=True):
            return self.inside(Path(folder)).walk_below(folder, suffixes, skip)
        return self.walk_below(folder, suffixes, skip)

    def walk_below(
        self, folder: str | os.PathLike[str], suffixes: tuple[str, ...], skip: frozenset[str]
    ) -> list[Path]:
        """`walk`, judging only what is below `folder`."""
        found: list[Path] = []
        for top, dirs, files in os.walk(folder):
            here = Path(top)
            dirs[:] = [
                d for d in dirs if d not in skip and not self.excluded(here / d, is_dir=True)
            ]
            found.extend(
                here / f
                for f in files
                if f.endswith(suffixes)
                and (here / f).is_file()
                and not self.excluded(here / f, is_dir=False)
            )
        return sorted(found)

    def excluded_below(self, path: Path, base: Path) -> bool:
        """Whether a path a glob found below `base` is left out: the path itself or one
        of its folders between `base` and it (judged by `inside` rules when `base` itself
        is a folder these rules leave out)."""
        if self.excluded(base, is_dir=True):
            return self.inside(base).excluded_below(path, base)
        try:
            parts = Path(os.path.abspath(path)).relative_to(os.path.abspath(base)).parts
        except ValueError:
            return False
        current = base
        for index, part in enumerate(parts):
            current = current / part
            last = index == len(parts) - 1
            if self.excluded(current, is_dir=not last or current.is_dir()):
                return True
        return False

    def excluded_named(self, path: Path) -> bool:
        """Whether `force_exclude` leaves out a file named on the command line: it, or a
        folder of its below the configuration's folder (or the working folder)."""
        if not self.rules.force_exclude:
            return False
        absolute = Path(os.path.abspath(path))
        base = self._root if absolute.is_relative_to(self._root) else Path(os.path.abspath("."))
        return absolute.is_relative_to(base) and self.excluded_below(absolute, base)

    def excluded(self, path: Path, *, is_dir: bool) -> bool:
        """Whether a path found by a walk is left out."""
        absolute = Path(os.path.abspath(path))
        if absolute == self._top:
            return False  # the folder named explicitly that these rules are the rules of
        if is_dir and (absolute.name == ".git" or (absolute / "pyvenv.cfg").exists()):
            return True  # a repository's insides, a virtual environment: whatever the rules
        suffix = "/" if is_dir else ""
        relative = (
            _relative(absolute, self._root)
            or _relative(absolute.resolve(), self._root_resolved)
            or absolute.name
        )
        if relative not in (".", "") and self._excluded.match_file(relative + suffix):
            return True
        if not self.rules.respect_gitignore or (is_dir and (absolute / ".git").exists()):
            return False  # the top of a repository is not judged by the ignore files above
        for base, spec in reversed(self._ignore_chain(absolute.parent) or ()):
            decided = spec.check_file((_relative(absolute, base) or absolute.name) + suffix)
            if decided.include is not None:
                return bool(decided.include)
        return False

    def _ignore_chain(self, folder: Path) -> IgnoreChain | None:
        """The ignore files that apply in `folder` (None outside a repository)."""
        if folder in self._ignores:
            return self._ignores[folder]
        chain: IgnoreChain | None
        if (folder / ".git").exists() or folder == self._top:
            chain = ()
            exclude = _read_lines(folder / ".git" / "info" / "exclude")
            if exclude:
                chain = ((folder, self._spec.from_lines(exclude)),)
        elif folder.parent == folder:
            chain = None
        else:
            chain = self._ignore_chain(folder.parent)
        if chain is not None:
            own = _read_lines(folder / ".gitignore")
            if own:
                chain = (*chain, (folder, self._spec.from_lines(own)))
        self._ignores[folder] = chain
        return chain


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError:  # absent, a folder, unreadable
        return []


def walk_files(
    folder: str | os.PathLike[str],
    suffixes: tuple[str, ...],
    skip: frozenset[str] = frozenset(),
    rules: WalkRules | None = None,
) -> list[Path]:
    """Every file below a folder whose name ends in one of `suffixes`, sorted, leaving out
    what `rules` (by default: hidden folders, virtual environments, installed packages,
    caches, `.gitignore`d paths) and `skip` (folder names) leave out."""
    return Walker(rules).walk(folder, suffixes, skip)
