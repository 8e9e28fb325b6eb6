"""What identifies a file: its checksum (weights, the batch manifest) and its quick
identity, path + size + modification time (resume checkpoints, the batch manifest)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileIdentity:
    """Path, size and modification time: a changed or replaced file is another file (as make
    and rsync judge), without reading it."""

    path: str  # absolute
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | Path) -> "FileIdentity":
        """Raises OSError when the file cannot be stat'ed."""
        stat = os.stat(path)
        return cls(os.path.abspath(path), stat.st_size, stat.st_mtime_ns)

    def as_list(self) -> list:
        return [self.path, self.size, self.mtime_ns]


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, read in 1 MiB blocks (weights and videos can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
