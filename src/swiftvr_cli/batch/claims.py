"""Who works on which video, and whether it is already done.

``claim`` takes a video's lock, re-reads the manifest (another run may have
just finished it) and decides:

* done (skipped): the latest manifest line is 'ok', the settings hash
  matches, the input is the same file (size + mtime, or else its sha256)
  and the output is still there with the size we recorded. An output file
  alone never counts as done: a killed run's output, a stale temporary file
  or a 'running' line are redone.
* previously failed: the latest line is 'failed' because the input itself
  could not be read, and neither the input nor the settings changed since.
  Not retried (a broken file would fail every hour) unless --retry-failed.
  Other failures (out of memory, disk full, crashes, kills) are retried.
* otherwise: work to do. A 'running' line is appended and the video stays
  locked until ``finish_*`` records the result.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..failures import INPUT
from ..hashing import FileIdentity
from ..io.safe_paths import ensure_own_dir, remove_own_file
from ..io.targets import is_temp_of
from .discover import Job
from .fingerprint import settings_hash, sha256_of
from .lock import VideoLock, lock_path
from .manifest import ABORTED, FAILED, OK, RUNNING, Manifest, state_dir

# Outcome statuses of one run (what the summary shows).
DONE, SKIPPED, BUSY, HELD = "ok", "skipped", "busy", "previously-failed"


@dataclass
class Outcome:
    input: str
    output: str
    status: str  # ok | skipped | busy | failed | previously-failed
    error: str | None = None
    frames: int | None = None
    seconds: float | None = None
    fps: float | None = None
    segments: int | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class Claim:
    """A video this run holds the lock for and has marked 'running'."""

    job: Job
    lock: VideoLock
    record: dict[str, Any]  # input identity and settings, repeated on every manifest line
    started: float = field(default_factory=time.perf_counter)


def segment_dir(out_dir: str, rel: str) -> str:
    return os.path.join(state_dir(out_dir), "segments", hashlib.sha1(os.fsencode(rel)).hexdigest()[:20])


def remove_stale_temps(target: str) -> list[str]:
    """Delete temporary files a killed writer left beside ``target`` (call only while holding its lock).

    Only plain files of ours with our temporary names go; a link or another user's file is left alone.
    """
    folder, name = os.path.split(target)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return [entry for entry in names if is_temp_of(entry, name) and remove_own_file(os.path.join(folder, entry))]


class UnreadableInput(Exception):
    """The input's bytes could not be read (only its stat could)."""


def readable_sha256(source: str) -> str:
    try:
        return sha256_of(source)
    except OSError as error:
        raise UnreadableInput(f"cannot read {source!r}: {error.strerror or error}") from None


def same_input(entry: dict[str, Any], stat: FileIdentity, source: str) -> tuple[bool, str | None]:
    """Is the input the file the entry describes? Returns (same, sha256 if it had to be computed)."""
    if entry.get("size") == stat.size and entry.get("mtime_ns") == stat.mtime_ns:
        if entry.get("sha256") or entry.get("error_kind") == INPUT:  # an unreadable input has no sha256
            return True, None
    if entry.get("size") != stat.size:
        return False, None
    digest = readable_sha256(source)
    return digest == entry.get("sha256"), digest


def output_intact(entry: dict[str, Any], target: str) -> bool:
    try:
        return os.path.getsize(target) == entry.get("output_bytes")
    except OSError:
        return False


class Claims:
    """Locks and manifest of one OUT_DIR, for one batch run."""

    def __init__(self, out_dir: str, settings: dict[str, Any], retry_failed: bool = False, engine: str = "local") -> None:
        self.out_dir = out_dir
        self.settings = settings
        self.settings_hash = settings_hash(settings)
        self.retry_failed = retry_failed
        self.engine = engine
        self.manifest = Manifest(out_dir)
        self.state_dir = ensure_own_dir(state_dir(out_dir))  # a planted link or someone else's folder: refused (exit 4)
        self.manifest.refresh()

    def claim(self, job: Job) -> Claim | Outcome:
        if job.conflict:
            return Outcome(job.rel, job.rel_output, FAILED, error=f"writes the same output as {job.conflict}; use --suffix or --ext")
        lock = VideoLock.try_acquire(lock_path(self.state_dir, job.rel), job.rel)
        if lock is None:
            return Outcome(job.rel, job.rel_output, BUSY)
        try:
            return self._decide(job, lock)
        except BaseException:
            lock.release()
            raise

    def _decide(self, job: Job, lock: VideoLock) -> Claim | Outcome:
        self.manifest.refresh()
        entry = self.manifest.latest(job.rel)
        try:
            stat = FileIdentity.of(job.source)
        except OSError as error:
            lock.release()
            return Outcome(job.rel, job.rel_output, FAILED, error=f"cannot read {job.source!r}: {error.strerror}")
        try:
            return self._decide_readable(job, lock, entry, stat)
        except UnreadableInput as error:  # permission denied, I/O error while hashing: this input fails, the batch goes on
            message = str(error)
            record = {"input": job.rel, "output": job.rel_output, "size": stat.size, "mtime_ns": stat.mtime_ns,
                      "settings": self.settings, "settings_hash": self.settings_hash, "engine": self.engine}  # fmt: skip
            self._close(Claim(job, lock, record), {"status": FAILED, "error": message, "error_kind": INPUT})
            return Outcome(job.rel, job.rel_output, FAILED, error=message)

    def _decide_readable(self, job: Job, lock: VideoLock, entry: dict[str, Any] | None, stat: FileIdentity) -> Claim | Outcome:
        digest = None
        if entry is not None and entry.get("settings_hash") == self.settings_hash and entry.get("output") == job.rel_output:
            same, digest = same_input(entry, stat, job.source)
            if same and entry.get("status") == OK and output_intact(entry, job.target):
                if digest is not None:  # touched or copied, same content: remember the new stat
                    self.manifest.append({**entry, "size": stat.size, "mtime_ns": stat.mtime_ns})
                lock.release()
                return Outcome(job.rel, job.rel_output, SKIPPED)
            if same and entry.get("status") == FAILED and entry.get("error_kind") == INPUT and not self.retry_failed:
                lock.release()
                return Outcome(job.rel, job.rel_output, HELD, error=entry.get("error"))
        record = {
            "input": job.rel,
            "output": job.rel_output,
            "sha256": digest if digest is not None else readable_sha256(job.source),
            "size": stat.size,
            "mtime_ns": stat.mtime_ns,
            "settings": self.settings,
            "settings_hash": self.settings_hash,
            "engine": self.engine,
        }
        os.makedirs(os.path.dirname(job.target), exist_ok=True)
        remove_stale_temps(job.target)
        shutil.rmtree(segment_dir(self.out_dir, job.rel), ignore_errors=True)
        self.manifest.append({**record, "status": RUNNING})
        return Claim(job, lock, record)

    def finish_ok(
        self, claim: Claim, frames: int, notes: list[str] | None = None, segments: int | None = None, seconds: float | None = None
    ) -> Outcome:
        """``seconds``: restore time when it differs from the claim's age (Ray: time on the workers)."""
        if seconds is None:
            seconds = time.perf_counter() - claim.started
        fps = frames / seconds if seconds > 0 else 0.0
        output_bytes = os.path.getsize(claim.job.target)
        self._close(claim, {"status": OK, "frames": frames, "seconds": round(seconds, 3), "fps": round(fps, 3),
                            "output_bytes": output_bytes, "segments": segments})  # fmt: skip
        return Outcome(claim.job.rel, claim.job.rel_output, DONE, frames=frames, seconds=seconds, fps=fps,
                       segments=segments, notes=list(notes or []))  # fmt: skip

    def finish_failed(self, claim: Claim, error: str, kind: str) -> Outcome:
        seconds = time.perf_counter() - claim.started
        self._close(claim, {"status": FAILED, "error": error, "error_kind": kind, "seconds": round(seconds, 3)})
        return Outcome(claim.job.rel, claim.job.rel_output, FAILED, error=error, seconds=seconds)

    def abort(self, claim: Claim, reason: str) -> None:
        """The run stops before this video is done (interrupt, unusable model): it is redone next time."""
        self._close(claim, {"status": ABORTED, "error": reason})

    def _close(self, claim: Claim, result: dict[str, Any]) -> None:
        try:
            self.manifest.append({**claim.record, **result})
        finally:
            claim.lock.release()
