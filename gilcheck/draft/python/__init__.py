"""Drafting a spec from Python source: `draft_python(sources, options)` reads the
program with the standard library's `ast` and writes one `host python` spec, with an
origin on every drafted statement and the assumptions it had to make."""

from gilcheck.draft.python.drafter import draft_python

__all__ = ["draft_python"]
