"""The four stages of a restore run: Decode -> Chunk -> Restore -> Encode.

Each stage is a small object whose ``run`` reads its input channel and
writes its output channel (see ``stages`` for the threads and channels);
``runner.restore_video`` creates them, wires them and joins them. Output
frame i is input frame i restored and gets input frame i's timestamp. A fill
mask frame is read in step with its input frame and travels with it.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Callable, Iterable

import torch

from ..io import Frame, VideoInfo, frames_to_rgb
from ..io.mask import MaskReader, stack_masks
from ..io.span import Span
from ..model.swiftvr import ChunkKind, RestoreState
from .chunker import Chunk, Chunker
from .restorer import ChunkRestorer
from .resume import CheckpointClock
from .stages import END, Channel, StageTimes
from .transfer import to_host_async

Progress = Callable[[int, "int | None"], None]


@dataclass
class ChunkJob:
    """One chunk, ready for the model."""

    kind: ChunkKind
    rgb: torch.Tensor  # [T, 3, h, w] on the 0..255 scale, padding frames included
    pts: list[int | None]  # of the real frames only (after a resume, also those the decoder delay held back)
    padding: int = 0
    mask: torch.Tensor | None = None  # [T, 1, h, w] in {0, 1} (1 = fill) on the model's device, padding included


@dataclass
class RestoredChunk:
    """One chunk's output on its way to the host, and the checkpoint due after it."""

    frames: object  # what the writer's `prepare` made: RGB or the encoder's planes
    ready: Callable[[], None]  # waits for the device -> host copy
    pts: list[int | None]
    checkpoint: tuple[int, RestoreState] | None


class Decode:
    """Decoded frames, each paired with its fill mask (None without one)."""

    def __init__(self, frames: Iterable[Frame], masks: MaskReader | None, times: StageTimes) -> None:
        self.frames, self.masks, self.times = frames, masks, times

    def run(self, out: Channel) -> None:
        frames = iter(self.frames)
        while True:
            with self.times.timer("decode"):
                frame = next(frames, END)
                mask = self._mask_for(frame)
            if frame is END:
                out.put(END)
                return
            out.put((frame, mask))

    def _mask_for(self, frame: Frame | object) -> torch.Tensor | None:
        """Every decoded frame takes its mask (frames a resume skips included); at the end,
        a mask video longer than the input is an error too."""
        if self.masks is None:
            return None
        if frame is END:
            self.masks.finish()
            return None
        return self.masks.next()


class ChunkStage:
    """Frames -> chunks of the release's protocol, converted to RGB on the model's device.

    After a resume, the frames before the checkpoint are decoded but not
    restored; those the model's output had not yet reached (the decoder runs
    behind) still need their timestamps, carried into the first chunk.
    """

    def __init__(self, clip_len: int, info: VideoInfo, device: torch.device, times: StageTimes, resumed_at: tuple[int, int] = (0, 0)) -> None:
        self.skip_in, self.skip_out = resumed_at  # input frames consumed, output frames saved
        self.chunker: Chunker[tuple[Frame, torch.Tensor | None]] = Chunker(clip_len, started=self.skip_in > 0)
        self.info, self.device, self.times = info, device, times
        self.carry: list[int | None] = []
        self.last_rgb: torch.Tensor | None = None  # the latest real frame: what padding repeats

    def run(self, inp: Channel, out: Channel) -> None:
        for frame, mask in inp:
            if frame.index < self.skip_in:  # done before the checkpoint
                if frame.index >= self.skip_out:
                    self.carry.append(frame.pts)
                continue
            self._send(self.chunker.push((frame, mask)), out)
        self._send(self.chunker.finish(), out)
        out.put(END)

    def _send(self, chunks: list[Chunk[tuple[Frame, torch.Tensor | None]]], out: Channel) -> None:
        for c in chunks:
            real = [frame for frame, _ in c.real_items]
            with self.times.timer("colour"):
                job = ChunkJob(c.kind, self._rgb(real, c.padding), self.carry + [f.pts for f in real], c.padding, self._mask(c))
            self.carry = []
            out.put(job)

    def _rgb(self, real: list[Frame], padding: int) -> torch.Tensor:
        parts = [frames_to_rgb(real, self.info, self.device)] if real else []
        if parts:
            self.last_rgb = parts[0][-1:]
        if padding:  # may be a whole chunk of padding after the real frames
            parts.append(self.last_rgb.expand(padding, -1, -1, -1))
        return torch.cat(parts)

    def _mask(self, c: Chunk[tuple[Frame, torch.Tensor | None]]) -> torch.Tensor | None:
        masks = [mask for _, mask in c.items]  # padding items repeat the last real frame and its mask
        return None if masks[0] is None else stack_masks(masks, self.device)


class Restore:
    """Chunks -> restored frames, converted for the encoder where they are (``to_output``)
    and copied to the host without stalling the device."""

    def __init__(
        self, restorer: ChunkRestorer, state: RestoreState, to_output: Callable, clock: CheckpointClock | None, times: StageTimes
    ) -> None:
        self.restorer, self.state, self.to_output, self.clock, self.times = restorer, state, to_output, clock, times

    def run(self, inp: Channel, out: Channel) -> None:
        for job in inp:
            with self.times.timer("model"):
                extra = {"mask": job.mask} if job.mask is not None else {}
                frames, self.state = self.restorer.restore(job.rgb, job.kind, self.state, **extra)
                host, ready = to_host_async(self.to_output(frames))
                mark = self.clock.after_chunk(job.kind, job.rgb.shape[0], job.padding > 0, self.state) if self.clock else None
            out.put(RestoredChunk(host, ready, job.pts, mark))
        out.put(END)


class Encode:
    """Restored frames -> the writer, each with its input frame's timestamp; checkpoints when due.

    Outputs past the real frames are padding and dropped; with a ``span``,
    so are the frames outside the span's kept part.
    """

    def __init__(self, writer, times: StageTimes, *, written: int = 0, span: Span | None = None,
                 total: int | None = None, on_progress: Progress | None = None) -> None:  # fmt: skip
        self.writer, self.times, self.written, self.span = writer, times, written, span
        self.total, self.on_progress = total, on_progress

    def run(self, inp: Channel) -> None:
        pending: collections.deque[int | None] = collections.deque()
        for chunk in inp:
            chunk.ready()
            pending.extend(chunk.pts)
            count = min(len(pending), len(chunk.frames))
            if count:
                self._write(chunk.frames[:count], [pending.popleft() for _ in range(count)])
            if chunk.checkpoint is not None:
                with self.times.timer("encode"):
                    self.writer.checkpoint(*chunk.checkpoint)

    def _write(self, frames, stamps: list[int | None]) -> None:
        if self.span is not None:
            kept = [i for i, pts in enumerate(stamps) if self.span.keeps(pts)]
            if not kept:
                return
            frames, stamps = frames[kept[0] : kept[-1] + 1], stamps[kept[0] : kept[-1] + 1]
        with self.times.timer("encode"):
            self.writer.write(frames, stamps)
        self.written += len(stamps)
        if self.on_progress is not None:
            self.on_progress(self.written, self.total)
