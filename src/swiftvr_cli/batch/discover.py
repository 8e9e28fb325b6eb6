"""Finding the inputs of a batch and the output each one gets.

Outputs mirror the input tree under OUT_DIR and keep their names (plus an
optional suffix and container extension). Hidden files and folders (our
temporary files and the ``.swiftvr`` state folder among them) and the
output tree itself (when it lies inside the input tree) are never inputs.
A link to a file outside IN_DIR is skipped unless links are followed on
purpose: a planted link must not make a cron job read (and publish the
restored copy of) a file the input folder's owners cannot see.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

DEFAULT_GLOB = "*.mp4,*.mkv,*.mov,*.avi,*.webm,*.m4v,*.mpg,*.mpeg,*.ts,*.mts,*.m2ts,*.wmv,*.flv,*.y4m"


@dataclass(frozen=True)
class Job:
    """One input and where its output goes."""

    rel: str  # input path relative to IN_DIR, '/'-separated: the key in the manifest and for --shard
    source: str  # the input file
    rel_output: str  # output path relative to OUT_DIR
    target: str  # the output file
    conflict: str | None = None  # another input (rel) already writes this output


def parse_globs(text: str) -> list[str]:
    patterns = [p.strip() for p in text.split(",") if p.strip()]
    if not patterns:
        raise ValueError("--glob needs at least one pattern, e.g. '*.mp4,*.mkv'")
    return patterns


def output_rel(rel: str, suffix: str = "", ext: str | None = None) -> str:
    """'a/clip.mp4' -> 'a/clip{suffix}{ext or .mp4}'."""
    path = PurePosixPath(rel)
    new_ext = path.suffix if not ext else ext if ext.startswith(".") else f".{ext}"
    return str(path.with_name(f"{path.stem}{suffix}{new_ext}"))


def _matches(name: str, patterns: list[str]) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in patterns)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _walk(root: Path, recursive: bool, skip: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if recursive and not d.startswith(".") and not _inside((here / d).resolve(), skip))
        found.extend(here / f for f in files if not f.startswith("."))
    return found


def discover(
    in_dir: str, out_dir: str, patterns: list[str], recursive: bool = False, suffix: str = "", ext: str | None = None,
    follow_links: bool = False, on_skip: Callable[[str], None] = lambda note: None,
    ext_for: Callable[[str], str | None] = lambda input_ext: None,
) -> list[Job]:
    """Matching files under ``in_dir`` sorted by relative path, each with its output under ``out_dir``.

    ``ext_for``: the output extension for an input extension when ``ext`` is not given (None: keep it)."""
    root, out_root = Path(in_dir).resolve(), Path(out_dir).resolve()
    jobs: list[Job] = []
    owners: dict[str, str] = {}
    for path in _walk(root, recursive, out_root):
        if not _matches(path.name, patterns) or not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if not follow_links and path.is_symlink() and not _inside(path.resolve(), root):
            on_skip(f"skipped {rel}: a link to a file outside the input folder (add --follow-links to restore it)")
            continue
        rel_out = output_rel(rel, suffix, ext or ext_for(path.suffix))
        jobs.append(Job(rel, str(path), rel_out, str(out_root / rel_out)))
    jobs.sort(key=lambda j: j.rel)
    result = []
    for job in jobs:
        owner = owners.setdefault(job.rel_output, job.rel)
        result.append(job if owner == job.rel else Job(job.rel, job.source, job.rel_output, job.target, conflict=owner))
    return result
