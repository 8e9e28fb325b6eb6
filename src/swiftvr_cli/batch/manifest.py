"""The batch manifest: ``OUT_DIR/.swiftvr/manifest.jsonl``, one JSON object per line.

Append-only, so a crash can at worst leave one torn last line (ignored on
reading; the next writer starts a fresh line). The latest line for an
input wins. Appends hold an flock on the file so lines from concurrent
runs never interleave; readers only read what was appended since their
last look, so checking before every video stays cheap.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from typing import Any

from ..io.errors import OutputError, describe_av_error
from ..io.safe_paths import ensure_own_dir, open_own_file

STATE_DIR = ".swiftvr"
MANIFEST_NAME = "manifest.jsonl"

RUNNING, OK, FAILED, ABORTED = "running", "ok", "failed", "aborted"


def state_dir(out_dir: str) -> str:
    return os.path.join(out_dir, STATE_DIR)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _write_whole(fd: int, line: bytes, size: int, path: str) -> None:
    """Append ``line`` entirely or not at all: a full disk must not leave a torn line behind."""
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(errno.ENOSPC, "short write")
    except OSError as error:
        try:
            os.ftruncate(fd, size)  # we hold the flock: nobody appended since
        except OSError:
            pass
        raise OutputError(f"cannot record progress in {path!r}: {describe_av_error(error)}") from None


class Manifest:
    """Reader and appender of one manifest file."""

    def __init__(self, out_dir: str) -> None:
        self.path = os.path.join(state_dir(out_dir), MANIFEST_NAME)
        self._latest: dict[str, dict[str, Any]] = {}
        self._offset = 0

    def refresh(self) -> None:
        """Read the complete lines appended since the last refresh."""
        try:
            with os.fdopen(open_own_file(self.path, os.O_RDONLY), "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1  # a torn last line stays unread until it is terminated
        for line in data[:end].splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("input"), str):
                self._latest[entry["input"]] = entry
        self._offset += end

    def latest(self, rel: str) -> dict[str, Any] | None:
        return self._latest.get(rel)

    def entries(self) -> dict[str, dict[str, Any]]:
        """Latest entry per input (as of the last refresh)."""
        return dict(self._latest)

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Stamp and append one line; returns the stamped entry."""
        entry = {**entry, "timestamp": now_iso(), "host": socket.gethostname(), "pid": os.getpid()}
        line = json.dumps(entry, sort_keys=True, default=str).encode() + b"\n"
        ensure_own_dir(os.path.dirname(self.path))
        fd = open_own_file(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND)  # never through a planted link
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # terminate a line torn by a killed writer
            _write_whole(fd, line, size, self.path)
        finally:
            os.close(fd)  # closing drops the flock
        return entry
