"""Drafting a gilcheck spec from Rust/PyO3 source (tree-sitter-rust): `draft_rust`."""

from gilcheck.draft.rust.scenario import cargo_edition, draft_rust, entry_points

__all__ = ["cargo_edition", "draft_rust", "entry_points"]
