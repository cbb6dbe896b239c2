"""Files and folders for the owner's eyes only: everything that holds subscriber data or
secrets (the database and its ``-wal`` and ``-shm``, lock files, send logs, outbox messages,
the secret key, editor sessions) is created 0600, and each folder the program creates 0700,
whatever the umask. Folders that were there already are left as they are.
"""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import IO


def private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents, each 0700 (``mkdir -p`` would give the umask's)."""
    path = Path(path)
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made by another process meanwhile
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask: not this one's


def private_fd(path: Path, flags: int) -> int:
    """``os.open`` of ``path`` (creating it 0600, its folder 0700); an existing file of ours
    that others could read is made 0600 too."""
    private_dir(Path(path).parent)
    fd = os.open(path, flags | os.O_CREAT, 0o600)
    _owner_only(fd)
    return fd


def open_private(path: Path, mode: str = "ab") -> IO:
    """``open(path, mode)`` for a binary mode (``"ab"``, ``"wb"``) through :func:`private_fd`."""
    flags = {"ab": os.O_WRONLY | os.O_APPEND, "wb": os.O_WRONLY | os.O_TRUNC, "xb": os.O_WRONLY | os.O_EXCL}
    return os.fdopen(private_fd(path, flags[mode]), mode.replace("x", "w"))


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only, atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    with os.fdopen(private_fd(tmp, os.O_WRONLY | os.O_EXCL), "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def make_owner_only(*paths: Path) -> None:
    """Take group and other permissions off those of ``paths`` that exist and are ours. By
    path, never opened: closing a descriptor of a file drops every POSIX lock this process
    holds on it, such as those of SQLite's other connections to the database."""
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)


def _owner_only(fd: int) -> None:
    info = os.fstat(fd)
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        os.fchmod(fd, stat.S_IMODE(info.st_mode) & 0o700)
