"""Per-video locks, so two batch runs (cron overlapping itself) never restore the same video.

``fcntl.flock`` is non-blocking here: a video locked by another run is
skipped as 'busy'. The kernel releases the lock when the holder dies, even
by SIGKILL, so a crashed run never leaves a video locked. Lock files are
kept (deleting them would race with a run that just opened one).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket

from ..io.safe_paths import ensure_own_dir, open_own_file


def lock_path(state_dir: str, rel: str) -> str:
    name = hashlib.sha1(os.fsencode(rel)).hexdigest()[:20]  # os.fsencode: any name the filesystem allows
    return os.path.join(state_dir, "locks", f"{name}.lock")


class VideoLock:
    """An exclusive flock on one video's lock file; ``release`` (or process exit) drops it."""

    def __init__(self, fd: int, path: str) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def try_acquire(cls, path: str, owner: str = "") -> "VideoLock | None":
        """The lock, or None when another process holds it."""
        ensure_own_dir(os.path.dirname(path))
        fd = open_own_file(path, os.O_RDWR | os.O_CREAT)  # never through a planted link
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        note = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "input": owner}, default=str) + "\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode(), 0)  # who holds it, for people looking at a stuck batch
        return cls(fd, path)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None
