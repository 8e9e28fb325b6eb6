"""Creating files and folders that are ours, and touching nothing that is not.

Output and state folders may be shared (NFS, a folder a cron job run by
root writes into), so a name we would create can already be taken by
someone else's file or by a symbolic link to one. Every file or folder
swiftvr creates goes through here:

* temporary files and folders get unguessable names and are created with
  ``O_CREAT|O_EXCL`` (which never follows a link), so a planted name can
  neither be truncated nor written through;
* state folders (``.swiftvr/``, ``.NAME.swiftvr-resume/``) have fixed names
  so a rerun finds them; they are accepted only when they are a real
  folder (not a link) owned by the user running swiftvr, and state files
  inside them are opened with ``O_NOFOLLOW`` and checked to be plain files
  of ours.

Anything else is refused with one line (exit 4), never deleted or
rewritten.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass

from .errors import OutputError

NAME_MAX = 255  # bytes in one path component on every filesystem we write to
TEMP_RANDOM = 8


class NotOursError(OutputError):
    """A path we were about to use is a link, not a folder/file, or belongs to someone else."""


def fit_name(name: str, room: int) -> str:
    """``name`` cut (at a character boundary) so that ``room`` more bytes still fit in NAME_MAX."""
    raw = os.fsencode(name)
    limit = max(1, NAME_MAX - room)
    if len(raw) <= limit:
        return name
    for end in range(limit, max(0, limit - 4), -1):  # a UTF-8 character has at most 4 bytes
        try:
            return raw[:end].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return os.fsdecode(raw[:limit])  # not UTF-8 at all (a legacy name): any byte is a boundary


def _describe(path: str, st: os.stat_result, kind: str) -> str | None:
    """Why ``st`` is not one of our ``kind`` ("folder"/"file"), or None when it is."""
    if stat.S_ISLNK(st.st_mode):
        return f"refusing to use {path!r}: it is a symbolic link (swiftvr never writes through links); remove it"
    if kind == "folder" and not stat.S_ISDIR(st.st_mode):
        return f"refusing to use {path!r}: it is not a folder; remove it"
    if kind == "file" and not stat.S_ISREG(st.st_mode):
        return f"refusing to use {path!r}: it is not a regular file; remove it"
    if kind == "folder" and st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
        return f"refusing to use {path!r}: every user may write into it (chmod o-w it)"
    if st.st_uid != os.geteuid():
        return f"refusing to use {path!r}: it belongs to another user (uid {st.st_uid}); remove it or run as its owner"
    if kind == "file" and st.st_nlink > 1:
        return f"refusing to use {path!r}: it has other hard links; remove it"
    return None


def check_own_dir(path: str) -> bool:
    """True if ``path`` is one of our folders, False if nothing is there; raises NotOursError otherwise."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    problem = _describe(path, st, "folder")
    if problem:
        raise NotOursError(problem)
    return True


def ensure_own_dir(path: str, mode: int = 0o755) -> str:
    """Create the state folder ``path`` (missing parents too, each one ours) or accept it if it is ours."""
    parent = os.path.dirname(path)
    if parent and parent != path and not os.path.lexists(parent):
        ensure_own_dir(parent, mode)
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        pass
    check_own_dir(path)
    return path


def open_own_file(path: str, flags: int, mode: int = 0o644) -> int:
    """``os.open`` a state file without following a link; it must be a plain file of ours."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as error:
        if os.path.islink(path):
            raise NotOursError(_describe(path, os.lstat(path), "file") or str(error)) from None
        raise
    problem = _describe(path, os.fstat(fd), "file")
    if problem:
        os.close(fd)
        raise NotOursError(problem)
    return fd


@dataclass(frozen=True)
class OwnFile:
    """A file this run created; ``intact`` says whether the name still points at it."""

    path: str
    device: int
    inode: int

    def intact(self) -> bool:
        try:
            st = os.lstat(self.path)
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == (self.device, self.inode)


def create_new_file(folder: str, prefix: str, suffix: str = "") -> OwnFile:
    """A new empty file ``folder/PREFIX<random>SUFFIX``, created by us (never an existing name or a link).

    The prefix is shortened if needed so the name fits NAME_MAX; permissions follow the umask.
    """
    room = len(os.fsencode(suffix)) + TEMP_RANDOM
    prefix = fit_name(prefix, room)
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{secrets.token_hex(TEMP_RANDOM // 2)}{suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        return OwnFile(path, st.st_dev, st.st_ino)
    raise FileExistsError(f"cannot find a free temporary name in {folder!r}")


def create_new_dir(folder: str, prefix: str) -> str:
    """A new empty folder ``folder/PREFIX<random>`` (mkdir never follows or reuses a name)."""
    prefix = fit_name(prefix, TEMP_RANDOM)
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{secrets.token_hex(TEMP_RANDOM // 2)}")
        try:
            os.mkdir(path, 0o777)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"cannot find a free temporary name in {folder!r}")


def move_into_place(temp: OwnFile, final: str) -> None:
    """Rename our finished temporary file to ``final``, unless someone swapped it for another file or a link."""
    if not temp.intact():
        raise NotOursError(f"cannot write {final!r}: the temporary file {temp.path!r} was replaced while we wrote it")
    os.replace(temp.path, final)


def remove_own_file(path: str) -> bool:
    """Delete ``path`` only if it is a plain file of ours (never a link, a folder or another user's file)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
        return False
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    return True
