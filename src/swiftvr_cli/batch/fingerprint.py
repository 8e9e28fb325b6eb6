"""What identifies an input and the settings it was restored with.

The manifest records each input's size, mtime and sha256. Size + mtime is
the fast check (like make/rsync); only when they changed is the file
hashed again, so an hourly cron over a large tree does not re-read every
video, and a file that was merely touched or copied is still recognised.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..hashing import file_sha256


def sha256_of(path: str) -> str:
    return file_sha256(Path(path))


def settings_hash(settings: dict[str, Any]) -> str:
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def weights_fingerprint(weights: str | None) -> str:
    """Identity of the model, independent of where the weights are mounted.

    Our json weights carry the sha256 of their tensors; an official folder
    is identified by its safetensors names and sizes (hashing 10+ GB on
    every cron run would cost more than it protects).
    """
    from ..model.loading import OFFICIAL_DIT_DIR, OFFICIAL_REAE, default_weights_path

    path = Path(weights) if weights else default_weights_path()
    if path.suffix == ".safetensors":
        path = path.with_suffix(".json")
    if path.is_dir():
        if (path / OFFICIAL_DIT_DIR).is_dir() or (path / OFFICIAL_REAE).exists():
            files = sorted(path.rglob("*.safetensors"))
            return "official:" + ",".join(f"{f.relative_to(path).as_posix()}={f.stat().st_size}" for f in files)
        jsons = sorted(path.glob("*.json"))
        path = jsons[0] if len(jsons) == 1 else path
    try:
        meta = json.loads(path.read_text())
        if isinstance(meta, dict) and meta.get("sha256"):
            return f"sha256:{meta['sha256']}"
        return "json-sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    except (OSError, ValueError):
        return f"unreadable:{path.name}"  # loading will report the real problem
