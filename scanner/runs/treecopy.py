"""Copying an input folder (another collector's evidence bundle) without ever leaving it.

A folder handed to ``e8scan merge`` comes from another machine: a symbolic link in it could lead
anywhere (``/etc/shadow``, ``/etc``, a loop). Links are never followed: :func:`check_tree` refuses
the first link (or device, FIFO or socket) it meets, by name, and :func:`copy_tree` copies regular
files and folders only, opening each file with ``O_NOFOLLOW`` so that a link swapped in after the
check is refused too. An e8scan evidence bundle never contains links.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path

from scanner.model.errors import InputError


def _shown(path: str) -> str:
    """A path fit for one terminal line: control characters escaped."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in path)


def _refusal(path: str, mode: int, what: str) -> InputError:
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return InputError(
            _shown(path),
            f"symbolic link (to {_shown(target)}) in {what}: refused, e8scan never follows a "
            "link in another machine's folder; replace it with the file itself",
        )
    return InputError(_shown(path), f"not a regular file or folder in {what}: refused")


def refuse_link(path: Path, what: str) -> InputError:
    """The one-line refusal of the symbolic link ``path`` found in ``what``."""
    return _refusal(str(path), stat.S_IFLNK, what)


def _entries(folder: str, what: str) -> list[tuple[str, os.stat_result]]:
    """``folder``'s entries (full path, lstat), refusing anything but files and folders."""
    try:
        with os.scandir(folder) as it:
            found = [(e.path, e.stat(follow_symlinks=False)) for e in it]
    except OSError as exc:
        raise InputError(_shown(folder), f"cannot read {what}: {exc.strerror}") from None
    for path, st in found:
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise _refusal(path, st.st_mode, what)
    return sorted(found)


def check_tree(root: Path, what: str = "an input evidence folder") -> None:
    """Refuse ``root`` if it, or anything below it, is a link or not a file or folder."""
    try:
        st = os.lstat(root)
    except OSError as exc:
        raise InputError(_shown(str(root)), f"cannot read {what}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise _refusal(str(root), st.st_mode, what)
    todo = [str(root)]
    while todo:
        for path, st in _entries(todo.pop(), what):
            if stat.S_ISDIR(st.st_mode):
                todo.append(path)


def _copy_file(src: str, dest: str, what: str) -> None:
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link swapped in since the check
            raise _refusal(src, stat.S_IFLNK, what) from None
        raise InputError(_shown(src), f"cannot read {what}: {exc.strerror}") from None
    with open(fd, "rb") as fin:
        st = os.fstat(fin.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _refusal(src, st.st_mode, what)
        with open(dest, "xb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)


def copy_tree(src: Path, dest: Path, what: str = "an input evidence folder") -> None:
    """Copy the folder ``src`` to ``dest`` (replacing an earlier copy there), following no link.

    The copy is assembled beside ``dest`` and renamed into place, so a refusal half-way leaves
    nothing behind."""
    check_tree(src, what)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        os.chmod(staging, 0o755)
        todo = [(str(src), str(staging))]
        while todo:
            here, there = todo.pop()
            for path, st in _entries(here, what):
                target = os.path.join(there, os.path.basename(path))
                if stat.S_ISDIR(st.st_mode):
                    os.mkdir(target, 0o755)
                    todo.append((path, target))
                else:
                    _copy_file(path, target, what)
        if dest.is_symlink() or dest.is_file():
            dest.unlink()
        elif dest.exists():
            shutil.rmtree(dest)  # an earlier copy (rmtree never follows links)
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
