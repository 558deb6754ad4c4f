"""gilcheck: a model checker for GIL, lock and channel interleavings."""

__version__ = "0.1.0"
