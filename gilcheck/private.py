"""gilcheck's private folder: where it keeps what it trusts across runs (the proof cache's
key), made or verified as the user's own before anything in it is used.

The folder is `GILCHECK_HOME`, else `$XDG_CACHE_HOME/gilcheck`, else `~/.cache/gilcheck`
(`%LOCALAPPDATA%\\gilcheck` on Windows). On POSIX systems it is used only when it is a real
folder (not a symbolic link) owned by the user and closed to everyone else (mode 0700, set
when gilcheck makes it); files in it must be the user's own, regular and mode 0600. A folder
or file that fails these checks is never read: gilcheck says why and goes on without it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

KEY_FILE = "proof-key"
KEY_BYTES = 32
MIN_SHARED_KEY = 16


class NotPrivate(Exception):
    """The private folder, or a file in it, cannot be trusted (the message says why)."""


def private_folder() -> Path:
    """The private folder, made if missing and verified (raises NotPrivate)."""
    chosen = os.environ.get("GILCHECK_HOME")
    if chosen:
        folder = Path(chosen)
    elif os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        folder = Path(base) / "gilcheck"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "gilcheck"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
        _verify_folder(folder)
    except OSError as error:
        raise NotPrivate(f"cannot make the private folder {folder}: {error}") from None
    return folder


def _verify_folder(folder: Path) -> None:
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise NotPrivate(f"{folder} is a symbolic link, not gilcheck's own folder")
    if not stat.S_ISDIR(info.st_mode):
        raise NotPrivate(f"{folder} is not a folder")
    if not hasattr(os, "geteuid"):
        return  # Windows: the user's profile folder is private by its access rules
    if info.st_uid != os.geteuid():
        raise NotPrivate(f"{folder} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o077:
        raise NotPrivate(
            f"{folder} is open to other users (mode {stat.S_IMODE(info.st_mode):o}); gilcheck "
            "uses only a folder closed to them (chmod 700, or another GILCHECK_HOME)"
        )


def read_private_file(folder: Path, name: str) -> bytes | None:
    """A file of the private `folder`, if present and the user's own (raises NotPrivate)."""
    path = folder / name
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise NotPrivate(f"cannot read {path}: {error.strerror or error}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotPrivate(f"{path} is not a regular file")
        if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o077):
            raise NotPrivate(f"{path} is not the user's own private file (owner and mode 0600)")
        return os.read(descriptor, 1 << 16)
    finally:
        os.close(descriptor)


def write_private_file(folder: Path, name: str, data: bytes) -> bool:
    """Create a file of the private `folder` (mode 0600) with all of `data` at once, unless
    it exists; True if this call made it. Concurrent writers: one wins, the others read it."""
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}-")  # mode 0600
    except OSError as error:
        raise NotPrivate(f"cannot write in {folder}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        try:
            os.link(temporary, folder / name)  # atomic, and never replaces
        except FileExistsError:
            return False
        return True
    except OSError as error:
        raise NotPrivate(f"cannot write {folder / name}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def proof_key() -> bytes:
    """The key that signs proof records: `GILCHECK_PROOF_KEY` (a secret shared by the users
    of one cache, such as a CI secret), else a random key made once in the private folder
    (raises NotPrivate)."""
    shared = os.environ.get("GILCHECK_PROOF_KEY")
    if shared:
        if len(shared) < MIN_SHARED_KEY:
            raise NotPrivate(
                f"GILCHECK_PROOF_KEY is shorter than {MIN_SHARED_KEY} characters: too easy to guess"
            )
        return shared.encode("utf-8")
    folder = private_folder()
    key = read_private_file(folder, KEY_FILE)
    if key is None:
        write_private_file(folder, KEY_FILE, secrets.token_hex(KEY_BYTES).encode("ascii"))
        key = read_private_file(folder, KEY_FILE)
    if not key or len(key) < KEY_BYTES:
        raise NotPrivate(f"the proof key in {folder / KEY_FILE} is too short")
    return key
