"""`--shard i/n`: n independent jobs split the inputs with no coordination.

An input belongs to shard sha1(relative path) mod n: stable across runs,
machines and Python versions (unlike hash()), and it does not depend on
which other files exist, so a new file never moves old ones between shards.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    index: int  # 0-based, as Slurm's SLURM_ARRAY_TASK_ID with --array=0-(n-1)
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, rel: str) -> bool:
        return shard_of(rel, self.count) == self.index


def shard_of(rel: str, count: int) -> int:
    digest = hashlib.sha1(rel.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str) -> Shard:
    """'i/n' with 0 <= i < n; ValueError with a message meant for users."""
    parts = text.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--shard must look like i/n (e.g. 0/4), got {text!r}")
    index, count = int(parts[0]), int(parts[1])
    if count < 1:
        raise ValueError(f"--shard {text}: n must be at least 1")
    if index >= count:
        raise ValueError(f"--shard {text}: i must be in 0..{count - 1} (shards are numbered from 0)")
    return Shard(index, count)
