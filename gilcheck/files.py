"""Reading files that anyone may have handed to gilcheck: regular files only, never more
than a limit, and never blocking on a named pipe or a device."""

from __future__ import annotations

import errno
import os
import stat

DEFAULT_MAX_SPEC_BYTES = 1 << 20  # 1 MiB: the largest real specs are a few kilobytes
MAX_DATA_BYTES = 256 << 20  # JSON traces and proof records


class NotARegularFile(OSError):
    """The path names a directory, a pipe, a socket or a device."""


class FileTooLarge(OSError):
    """The file holds more than the limit; `head` is its first `limit` bytes."""

    def __init__(self, path: str, limit: int, head: bytes) -> None:
        super().__init__(errno.EFBIG, f"larger than the limit of {size_text(limit)}", path)
        self.limit = limit
        self.head = head


def max_spec_bytes() -> int:
    """The size limit of a spec or model file: `GILCHECK_MAX_SPEC_BYTES`, else 1 MiB."""
    text = os.environ.get("GILCHECK_MAX_SPEC_BYTES", "").strip().replace("_", "")
    if text.isascii() and text.isdigit() and 0 < int(text) < 1 << 40:
        return int(text)
    return DEFAULT_MAX_SPEC_BYTES


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. Raises NotARegularFile,
    FileTooLarge or another OSError; opening never waits for a writer."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    name = os.fspath(path)
    try:
        before = os.stat(name)  # a FIFO is refused before an open could wait for a writer
    except ValueError as error:  # a NUL in the name, a name the file system cannot encode
        raise OSError(errno.EINVAL, f"not a usable file name ({error})", name) from None
    except OSError:
        before = None
    if before is not None and not stat.S_ISREG(before.st_mode):
        raise NotARegularFile(errno.EINVAL, f"it is {_kind(before.st_mode)}", name)
    descriptor = os.open(name, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):  # swapped since the first look
            raise NotARegularFile(errno.EINVAL, f"it is {_kind(mode)}", name)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        raise FileTooLarge(name, limit, data[:limit])
    return data


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    return "not a regular file"


def size_text(count: int) -> str:
    """A byte count as people write it: 1 MiB, 64 KiB, 1,000 bytes."""
    if count % (1 << 20) == 0:
        return f"{count >> 20} MiB"
    if count % (1 << 10) == 0:
        return f"{count >> 10} KiB"
    return f"{count:,} bytes"
