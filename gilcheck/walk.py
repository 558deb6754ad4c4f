"""Folder walks: every file of some kinds below a folder, leaving out what a project does
not want checked.

Left out: folders and files matching the exclusion patterns (gitignore-style, relative to
the configuration's folder; by default hidden folders, installed packages, caches and
other tools' output), virtual environments under any name (a folder with a pyvenv.cfg),
and, unless turned off, what the `.gitignore` files of the folders walked (and of their
parents up to the repository's top) and `.git/info/exclude` ignore. A path named
explicitly on the command line is never left out: only what a walk or a glob finds is.
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
    """What a walk leaves out: `patterns` relative to `root`, and `.gitignore`d paths."""

    root: Path = field(default_factory=Path)
    patterns: tuple[str, ...] = DEFAULT_EXCLUDE
    respect_gitignore: bool = True


class Walker:
    """Walks folders under one set of rules (the `.gitignore` files read are kept)."""

    def __init__(self, rules: WalkRules | None = None) -> None:
        import pathspec  # when a folder is walked: start-up of a check of one file

        self.rules = rules or WalkRules()
        self._root = self.rules.root.resolve()
        self._spec = pathspec.GitIgnoreSpec
        self._excluded = self._spec.from_lines(self.rules.patterns)
        self._ignores: dict[Path, tuple[tuple[Path, pathspec.GitIgnoreSpec], ...]] = {}

    def walk(
        self, folder: str | os.PathLike[str], suffixes: tuple[str, ...], skip: frozenset[str]
    ) -> list[Path]:
        """Every file below `folder` whose name ends in one of `suffixes`, sorted; folders
        named in `skip` are left out too. A folder the rules would leave out, named
        explicitly, is walked with its own rules: the patterns relative to it, no
        `.gitignore`."""
        if self.excluded(Path(folder), is_dir=True):
            inside = WalkRules(Path(folder), self.rules.patterns, respect_gitignore=False)
            return Walker(inside).walk_below(folder, suffixes, skip)
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
        of its folders between `base` and it."""
        try:
            parts = path.relative_to(base).parts
        except ValueError:
            return False
        current = base
        for index, part in enumerate(parts):
            current = current / part
            last = index == len(parts) - 1
            if self.excluded(current, is_dir=not last or current.is_dir()):
                return True
        return False

    def excluded(self, path: Path, *, is_dir: bool) -> bool:
        """Whether a path found by a walk is left out."""
        if is_dir and (path / "pyvenv.cfg").exists():
            return True
        absolute = path.resolve() if not path.is_absolute() else path
        suffix = "/" if is_dir else ""
        relative = _relative(absolute, self._root) or path.name
        if relative != "." and self._excluded.match_file(relative + suffix):
            return True
        if not self.rules.respect_gitignore:
            return False
        for base, spec in reversed(self._ignore_chain(absolute.parent)):
            decided = spec.check_file((_relative(absolute, base) or path.name) + suffix)
            if decided.include is not None:
                return bool(decided.include)
        return False

    def _ignore_chain(self, folder: Path) -> tuple[tuple[Path, pathspec.GitIgnoreSpec], ...]:
        """The ignore files that apply in `folder`: the repository's `.git/info/exclude`
        and the `.gitignore` of every folder from the repository's top down to `folder`."""
        if folder in self._ignores:
            return self._ignores[folder]
        chain: tuple[tuple[Path, pathspec.GitIgnoreSpec], ...]
        if (folder / ".git").exists() or folder.parent == folder:
            chain = ()
            exclude = _read_lines(folder / ".git" / "info" / "exclude")
            if exclude:
                chain = ((folder, self._spec.from_lines(exclude)),)
        else:
            chain = self._ignore_chain(folder.parent)
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
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
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
