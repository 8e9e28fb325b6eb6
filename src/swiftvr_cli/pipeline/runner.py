"""One restore run: open the input, the mask and the output, run the four stages, summarise.

decode -> chunk (+ colour conversion) -> restore -> encode, each in its own
thread (``flow``), joined by bounded channels (``stages``). Frames are
streamed; at any time the pipeline holds at most a few chunks, so a 10-hour
video needs the memory of a 10-second one. The same run restores a whole
video (``restore``, ``batch``, ``bench --e2e``) or one span of a file (a
segment of a long video in ``batch``).
"""

from __future__ import annotations

import time

from ..io import InputError
from ..io.span import Span
from ..model.swiftvr import SwiftVR
from .flow import ChunkStage, Decode, Encode, Progress, Restore
from .restorer import ChunkRestorer
from .resume import CheckpointClock
from .safeguards import fit_to_memory, open_masks, open_output, open_reader, stop_early
from .settings import RestoreSettings, RestoreSummary
from .stages import StageGroup, StageTimes

__all__ = ["RestoreSettings", "RestoreSummary", "restore_video"]


def restore_video(
    model: SwiftVR,
    source: str,
    target: str,
    settings: RestoreSettings,
    *,
    span: Span | None = None,
    on_progress: Progress | None = None,
    left_behind: list[str] | None = None,
) -> RestoreSummary:
    """Restore one video (file, image sequence or '-' pipe) into ``target``; with ``span``,
    only that part of a file, video only (a segment that is joined later).

    When the run stops early, notes on what it left (the frames kept with
    ``keep_partial``, progress saved with ``resume``) are added to ``left_behind``.
    """
    if span is not None and (settings.resume or settings.mask):
        raise ValueError("a span of a video is restored without --resume and without --mask")
    start, notes, times = time.perf_counter(), [], StageTimes()
    reader = open_reader(source, settings, span)
    group, masks = StageGroup(), None
    try:
        info = reader.info
        settings = fit_to_memory(model, settings, info, notes)
        restorer = ChunkRestorer.for_run(model, info.height, info.width, settings)
        out_h, out_w = restorer.out_size
        masks = open_masks(model, settings, info, notes)
        writer, resumed = open_output(model, target, (out_w, out_h), info, settings, span)
        done_in, done_out = (resumed.frames_in, resumed.frames_out) if resumed else (0, 0)
        clock = CheckpointClock(settings.checkpoint_every, done_in) if settings.resume else None
        decode = Decode(reader, masks, times)
        chunk = ChunkStage(settings.clip_len, info, model.device, times, resumed_at=(done_in, done_out))
        restore = Restore(restorer, resumed.state if resumed else restorer.new_state(), writer.prepare, clock, times)
        encode = Encode(writer, times, written=done_out, span=span, total=info.frame_count, on_progress=on_progress)
        frames_q, chunks_q, restored_q = (group.channel(n) for n in (settings.clip_len + 8, settings.queue_size, settings.queue_size))
        try:
            group.start("decode", lambda: decode.run(frames_q))
            group.start("chunk", lambda: chunk.run(frames_q, chunks_q))
            group.start("restore", lambda: restore.run(chunks_q, restored_q))
            group.start("encode", lambda: encode.run(restored_q))
            group.join()
            if encode.written == 0:
                raise InputError(f"no video frames could be decoded from '{source}'")
            with times.timer("encode"):
                writer.close()
        except BaseException as error:
            try:
                group.stop()  # a signal may land before join(): no stage runs on under the clean-up
            finally:  # a second Ctrl-C during the grace still removes the temporary output
                kept = stop_early(writer, group, target, settings, error)
                if left_behind is not None:
                    left_behind.extend(kept)
            raise
    finally:
        # The decode stage reads both. A decoder still blocked past the grace (a silent
        # stdin) is inside the demuxer: closing under it would fail or free what it reads.
        # It is a daemon thread; the process's exit takes both with it.
        if not group.alive("decode"):
            reader.close()
            if masks is not None:
                masks.close()
    notes += reader.notes + reader.problems + list(getattr(writer, "notes", []))
    return _summary(source, target, encode.written, time.perf_counter() - start, info, (out_w, out_h), times, notes)


def _summary(source: str, target: str, frames: int, seconds: float, info, out_size: tuple[int, int], times: StageTimes, notes: list[str]) -> RestoreSummary:
    return RestoreSummary(
        input=source, output=target, frames=frames, seconds=seconds, fps=frames / seconds if seconds > 0 else 0.0,
        input_size=(info.width, info.height), output_size=out_size, stage_seconds=dict(times.seconds), notes=notes,
    )  # fmt: skip
