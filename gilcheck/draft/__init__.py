"""Drafting specs from real source: Python modules (the standard library's `ast`) and
Rust/PyO3 crates (tree-sitter-rust), with origins, assumptions and source hashes."""
