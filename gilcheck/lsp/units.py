"""Characters as the client counts them: UTF-16 code units unless it negotiated another
encoding (`utf-8`, `utf-32`). The pure functions count code points."""

from __future__ import annotations

from gilcheck.lsp.places import Place


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8", errors="surrogatepass"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def to_client(lines: list[str], place: Place, encoding: str) -> tuple[int, int]:
    """A place (code points) as the client's line and character."""
    if place.line >= len(lines):
        return place.line, place.character
    return place.line, _units(lines[place.line][: place.character], encoding)


def from_client(lines: list[str], line: int, character: int, encoding: str) -> Place:
    """The client's line and character as a place (code points)."""
    if line >= len(lines):
        return Place(line, character)
    counted = 0
    for index, char in enumerate(lines[line]):
        if counted >= character:
            return Place(line, index)
        counted += _units(char, encoding)
    return Place(line, len(lines[line]))
