"""decode -> chunk (+ colour conversion) -> restore -> encode, in four threads.

Frames are streamed; at any time the pipeline holds at most a few chunks
(the queue bounds), so a 10-hour video needs the memory of a 10-second one.
Output frame i is input frame i restored and gets input frame i's timestamp.
With a fill mask (`--task inpaint --mask`), mask frame i is read in step with
input frame i in the chunk stage and travels with it to the model.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..io import EncodeOptions, InputError, VideoReader, frames_to_rgb
from ..io.mask import MaskReader, stack_masks
from ..model.swiftvr import ChunkKind, SwiftVR
from .chunker import Chunker
from .restorer import ChunkRestorer
from .resume import CheckpointClock
from .safeguards import fit_to_memory, open_output, stop_early
from .stages import END, StageGroup, StageTimes
from .transfer import to_host_async


@dataclass
class RestoreSettings:
    scale: float = 4.0
    clip_len: int = 24
    overlap: int = 0
    stream: int | None = None  # video stream index of the input
    queue_size: int = 2  # chunks in flight between two stages
    overwrite: bool = False
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    skip_corrupt: bool = False  # stand the previous good frame in for damaged ones instead of failing
    max_memory: int | None = None  # bytes the run may use (None: what the device has free)
    auto: bool = False  # lower the chunk when memory is short
    reae_group: int = 0  # latents per ReAE pass (0: the whole chunk unless memory needs less); the output is the same
    keep_partial: bool = False  # after an early stop, keep the frames done as NAME.partial.EXT
    resume: bool = False  # checkpoint beside the output; continue an interrupted run
    checkpoint_every: int = 8  # chunks per checkpoint (with resume)
    hwaccel: str | None = None  # hardware video decoding (e.g. "cuda" for NVDEC), CPU fallback with a note
    task: str = "sr"  # what the model restores (tasks.Task); the scale and weights are chosen by the caller
    mask: str | None = None  # fill mask (white = fill): an image for every frame, or a video of one mask per frame
    strength: float | None = None  # share of the model's correction, 0..2 (None: the weights' default)


@dataclass
class RestoreSummary:
    input: str
    output: str
    frames: int
    seconds: float
    fps: float
    input_size: tuple[int, int]
    output_size: tuple[int, int]
    stage_seconds: dict[str, float]
    notes: list[str]

    def as_dict(self) -> dict:
        return {
            "input": self.input,
            "output": self.output,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 3),
            "input_size": list(self.input_size),
            "output_size": list(self.output_size),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "notes": self.notes,
        }


@dataclass
class _ChunkJob:
    kind: ChunkKind
    rgb: torch.Tensor  # [T, 3, h, w] on the 0..255 scale, padding frames included
    pts: list[int | None]  # of the real frames only (after a resume, also those the decoder delay held back)
    padding: int = 0
    mask: torch.Tensor | None = None  # [T, 1, h, w] in {0, 1} (1 = fill) on the model's device, padding included


def restore_video(
    model: SwiftVR,
    source: str,
    target: str,
    settings: RestoreSettings,
    on_progress: Callable[[int, int | None], None] | None = None,
    on_start: Callable[[object], None] | None = None,
) -> RestoreSummary:
    """Restore one video (file, image sequence or '-' pipe) into `target`."""
    start = time.perf_counter()
    notes: list[str] = []
    settings = fit_to_memory(model, source, settings, notes)  # a huge file is refused before decoding
    times = StageTimes()
    group = StageGroup()
    frames_q = group.channel(settings.clip_len + 8)
    chunks_q = group.channel(settings.queue_size)
    restored_q = group.channel(settings.queue_size)
    device = model.device

    with VideoReader(source, settings.stream, strict=not settings.skip_corrupt, hwaccel=settings.hwaccel) as reader:
        info = reader.info
        if on_start is not None:
            on_start(info)
        settings = fit_to_memory(model, source, settings, notes, info)
        model.reae_group = settings.reae_group  # exact: it only bounds the frames of one ReAE pass
        restorer = ChunkRestorer.for_input(
            model, info.height, info.width, settings.scale, settings.clip_len, settings.overlap, settings.strength
        )
        out_h, out_w = restorer.out_size
        masks = MaskReader(settings.mask, info.width, info.height) if settings.mask else None  # before any output exists
        if masks is not None and not model.cfg.reae.detail_width:
            notes.append("this model has no detail branch: the mask only selects what is filled from the surroundings")
        try:
            writer, resumed = open_output(model, target, (out_w, out_h), info, settings)
        except BaseException:
            if masks is not None:
                masks.close()
            raise
        skip_in, skip_out = (resumed.frames_in, resumed.frames_out) if resumed else (0, 0)
        clock = CheckpointClock(settings.checkpoint_every, skip_in) if settings.resume else None
        written = [skip_out]

        def decode() -> None:
            frames = iter(reader)
            while True:
                with times.timer("decode"):
                    frame = next(frames, END)
                frames_q.put(frame)
                if frame is END:
                    return

        def chunk() -> None:
            chunker = Chunker(settings.clip_len, started=skip_in > 0)
            last_rgb: list[torch.Tensor] = []  # the latest real frame: what padding repeats
            carry: list[int | None] = []  # resumed: restored before the checkpoint, not yet output
            frame_masks: dict[int, torch.Tensor] = {}  # frame index -> its mask, until its chunk is sent
            last_mask: list[torch.Tensor] = []  # the latest real frame's mask: what padding repeats

            def send(ready) -> None:
                for c in ready:
                    real = c.real_items
                    with times.timer("colour"):
                        parts = [frames_to_rgb(real, info, device)] if real else []
                        if parts:
                            last_rgb[:] = [parts[0][-1:]]
                        if c.padding:  # may be a whole chunk of padding after the real frames
                            parts.append(last_rgb[0].expand(c.padding, -1, -1, -1))
                        rgb = torch.cat(parts)
                        mask = None
                        if masks is not None:
                            chunk_masks = [frame_masks.pop(f.index) for f in real]
                            if chunk_masks:
                                last_mask[:] = chunk_masks[-1:]
                            mask = stack_masks(chunk_masks + last_mask * c.padding, device)
                    chunks_q.put(_ChunkJob(c.kind, rgb, carry + [f.pts for f in real], c.padding, mask))
                    carry.clear()

            for frame in frames_q:
                if masks is not None:  # every decoded frame takes its mask, skipped ones included
                    with times.timer("decode"):
                        mask = masks.next()
                    if frame.index >= skip_in:
                        frame_masks[frame.index] = mask
                if frame.index < skip_in:  # done before the checkpoint: decoded, not restored
                    if frame.index >= skip_out:
                        carry.append(frame.pts)
                    continue
                send(chunker.push(frame))
            if masks is not None:
                masks.finish()  # a mask video longer than the input is an error too
            send(chunker.finish())
            chunks_q.put(END)

        def restore() -> None:
            state = resumed.state if resumed else restorer.new_state()
            for job in chunks_q:
                with times.timer("model"):
                    extra = {"mask": job.mask} if job.mask is not None else {}  # mask-less restorers keep working
                    out, state = restorer.restore_chunk(job.rgb, job.kind, state, **extra)
                    out, ready = to_host_async(writer.prepare(out))  # colour conversion where the frames are
                    mark = clock.after_chunk(job.kind, job.rgb.shape[0], job.padding > 0, state) if clock else None
                restored_q.put((out, ready, job.pts, mark))
            restored_q.put(END)

        def encode() -> None:
            pending_pts: collections.deque = collections.deque()
            for out, ready, pts, mark in restored_q:
                ready()
                pending_pts.extend(pts)
                count = min(len(pending_pts), len(out))  # frames past the real ones are padding
                if count:
                    batch_pts = [pending_pts.popleft() for _ in range(count)]
                    with times.timer("encode"):
                        writer.write(out[:count], batch_pts)
                    written[0] += count
                    if on_progress is not None:
                        on_progress(written[0], info.frame_count)
                if mark is not None:
                    with times.timer("encode"):
                        writer.checkpoint(*mark)

        try:
            for name, fn in (("decode", decode), ("chunk", chunk), ("restore", restore), ("encode", encode)):
                group.start(name, fn)
            group.join()
            if written[0] == 0:
                raise InputError(f"no video frames could be decoded from '{source}'")
            with times.timer("encode"):
                writer.close()
        except BaseException as error:
            stop_early(writer, group, target, settings, error)
            raise
        finally:
            if masks is not None and not group.alive("chunk"):  # the chunk stage reads it
                masks.close()
    seconds = time.perf_counter() - start
    return RestoreSummary(
        input=source,
        output=target,
        frames=written[0],
        seconds=seconds,
        fps=written[0] / seconds if seconds > 0 else 0.0,
        input_size=(info.width, info.height),
        output_size=(out_w, out_h),
        stage_seconds=dict(times.seconds),
        notes=notes + reader.notes + reader.problems + list(getattr(writer, "notes", [])),
    )
