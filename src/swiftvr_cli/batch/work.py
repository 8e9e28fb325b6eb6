"""A claimed video as worker tasks (whole, or segments), and how their results end.

A video longer than the segment length becomes segment tasks writing
``OUT_DIR/.swiftvr/segments/<id>/NNNNN.mp4`` (MP4 keeps the source time
base exactly); when the last one is back the driver joins them into the
output, muxing audio and subtitles once from the source, and checks that
every source frame came out exactly once.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field

from ..io import EncodeOptions, VideoInfo, probe
from ..io.join import join_segments
from ..io.safe_paths import ensure_own_dir
from ..io.span import Span
from .claims import Claim, Claims, Outcome, segment_dir
from ..failures import INTERNAL, OUTPUT, classify
from .segments import plan_segments, scan_frames, should_split
from .worker import WorkItem, WorkResult


@dataclass
class VideoWork:
    claim: Claim
    info: VideoInfo
    tasks: list[WorkItem]
    parts: list[str]  # segment files in order; empty when the video is one task
    expected_frames: int | None
    results: dict[int | None, WorkResult] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.results) == len(self.tasks)

    def add(self, result: WorkResult) -> bool:
        """Record one task's result; True once every task of the video is back."""
        self.results[result.segment] = result
        return self.complete

    def finish(self, claims: Claims) -> Outcome:
        """Record the video's result (joining segments first) and release it."""
        folder = segment_dir(claims.out_dir, self.claim.job.rel)
        try:
            failed = next((r for r in self.results.values() if r.error), None)
            if failed is not None:
                where = "" if failed.segment is None else f"segment {failed.segment}: "
                return claims.finish_failed(self.claim, where + failed.error, failed.error_kind or INTERNAL)
            frames = sum(r.frames for r in self.results.values())
            busy = sum(r.seconds for r in self.results.values())  # worker time, not time spent queued
            if not self.parts:
                return claims.finish_ok(self.claim, frames, self.results[None].notes, seconds=busy)
            if self.expected_frames is not None and frames != self.expected_frames:
                return claims.finish_failed(self.claim, f"segments gave {frames} frames, the source has {self.expected_frames}", INTERNAL)
            try:
                notes: list[str] = []
                join_segments(self.parts, self.claim.job.target, self.info, EncodeOptions(), overwrite=True, notes=notes)
            except Exception as error:  # noqa: BLE001 - recorded like any failed video
                failure = classify(error)
                return claims.finish_failed(self.claim, failure.message, failure.kind if failure.kind != INTERNAL else OUTPUT)
            return claims.finish_ok(self.claim, frames, notes, segments=len(self.parts), seconds=busy)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def plan_video(claim: Claim, out_dir: str, clip_len: int, segment_seconds: float | None, warmup: int) -> VideoWork:
    """Probe the input and cut it into tasks (raises InputError for unreadable inputs)."""
    job = claim.job
    info = probe(job.source)
    length = should_split(info.duration_s, segment_seconds)
    if length is not None:
        times = scan_frames(job.source, info.video_stream_index)
        segments = plan_segments(times, length, clip_len, warmup)
        if len(segments) > 1:
            folder = segment_dir(out_dir, job.rel)
            ensure_own_dir(folder)
            tasks, parts = [], []
            pts = times.pts
            for s in segments:
                part = os.path.join(folder, f"{s.index:05d}.mp4")
                at = lambda i: pts[i] if i < len(pts) else None  # noqa: E731 - index past the end: open range
                span = Span(first=pts[s.first], keep_from=pts[s.start], stop=at(s.stop), end=at(s.end), seek=s.first > 0)
                tasks.append(WorkItem(job.rel, job.source, part, info, s.frames, s.index, span))
                parts.append(part)
            return VideoWork(claim, info, tasks, parts, len(pts))
    task = WorkItem(job.rel, job.source, job.target, info, info.estimated_frames() or 0)
    return VideoWork(claim, info, [task], [], None)
