"""Text safe to print on a terminal: control characters from a spec shown escaped."""

from __future__ import annotations

# Control characters and bidirectional overrides from a spec are shown escaped, never sent
# to the terminal (where they could move the cursor, retitle or clear it).
_UNPRINTABLE = {
    c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c not in (0x09, 0x0A)
} | {c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def printable(text: str) -> str:
    """Text safe to print on a terminal: control characters escaped."""
    return text.translate(_UNPRINTABLE)
