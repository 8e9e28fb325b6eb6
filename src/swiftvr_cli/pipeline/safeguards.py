"""What surrounds the pipeline so that a run starts only when it can finish,
and a failed or stopped run loses nothing it need not.

* the input: the whole video (``VideoReader``) or one span of a file
  (``SpanReader``), and the fill mask read in step with it;
* the output writer: a plain ``VideoWriter`` (temp file, renamed when
  complete) or, with ``--resume``, a ``ResumableOutput`` (checkpointed
  segments);
  a span's frames go to a plain video file without audio (a segment, joined later);
* the memory check before any frame is restored (``--max-memory``,
  ``--auto``);
* an early stop: delete the temp file, or keep the frames done so far
  (``--keep-partial``), and hand the user-facing notes to the CLI.
"""

from __future__ import annotations

import dataclasses
import os

from ..hashing import FileIdentity
from ..io import InputError, OutputError, VideoInfo, VideoReader, VideoWriter
from ..io.mask import MaskReader
from ..io.span import Span, SpanReader
from ..io.targets import partial_path
from ..model.swiftvr import SwiftVR, automatic_reae_group, output_size
from . import budget
from .resume import Checkpoint, ResumableOutput, model_fingerprint, run_fingerprint
from .settings import RestoreSettings
from .stages import StageGroup



def open_reader(source: str, settings: RestoreSettings, span: Span | None) -> VideoReader | SpanReader:
    """The input's frames: the whole video, or (``span``) one part of a file."""
    if span is not None:
        return SpanReader(source, span, settings.stream)
    return VideoReader(source, settings.stream, strict=not settings.skip_corrupt, hwaccel=settings.hwaccel)


def open_masks(model: SwiftVR, settings: RestoreSettings, info: VideoInfo, notes: list[str]) -> MaskReader | None:
    """The fill mask's reader (``--mask``), opened before any output exists so a bad mask costs nothing."""
    if not settings.mask:
        return None
    masks = MaskReader(settings.mask, info.width, info.height)
    if not model.cfg.reae.detail_width:
        notes.append("this model has no detail branch: the mask only selects what is filled from the surroundings")
    return masks


def fit_to_memory(model: SwiftVR, settings: RestoreSettings, info: VideoInfo, notes: list[str]) -> RestoreSettings:
    """Refuse (MemoryBudgetError), or fit the run before any frame is restored: fewer
    latents per ReAE pass (the same output), then, with ``auto``, a smaller chunk."""
    size = (info.height, info.width)
    requested_group = settings.reae_group or automatic_reae_group(model.device)
    shape = budget.RunShape(
        model.cfg, size, output_size(*size, settings.scale), model.dtype, model.device,
        frames=info.frame_count, overlap=settings.overlap, prompt_len=model.prompt_len,
    )  # fmt: skip
    fit = budget.fit_chunk(
        shape, settings.clip_len, max_memory=settings.max_memory, auto=settings.auto,
        reae_group=requested_group, offload=model.streams_weights,
    )  # fmt: skip
    if fit.clip_len != settings.clip_len:
        notes.append(f"--auto: --chunk {settings.clip_len} would not fit in memory; using --chunk {fit.clip_len}")
    if fit.reae_group != requested_group:
        latents = f"{fit.reae_group} latent{'s' if fit.reae_group > 1 else ''}"
        notes.append(f"decoding {latents} per ReAE pass (--reae-group {fit.reae_group}; same output) to fit in memory")
    return dataclasses.replace(settings, clip_len=fit.clip_len, reae_group=fit.reae_group)


def _settings_identity(settings: RestoreSettings) -> dict:
    """The settings that change the output's pixels or encoding (what a resumed run must share)."""
    keep = ("scale", "clip_len", "overlap", "stream", "skip_corrupt")
    identity = {**{k: getattr(settings, k) for k in keep}, "encode": dataclasses.asdict(settings.encode)}
    return {**identity, **task_identity(settings)}


def task_identity(settings: RestoreSettings) -> dict:
    """The task and the mask file's identity, for the fingerprints of resumed runs and of `batch`'s
    outputs; empty for plain sr, so fingerprints written before --task existed stay valid."""
    if settings.task == "sr" and not settings.mask:
        return {}
    return {"task": settings.task, "mask": _file_identity(settings.mask) if settings.mask else None}


def _file_identity(path: str) -> list:
    """A changed mask file is a different run."""
    try:
        return FileIdentity.of(path).as_list()
    except OSError:
        return [os.path.abspath(path)]


def open_output(
    model: SwiftVR, target: str, size: tuple[int, int], info: VideoInfo, settings: RestoreSettings, span: Span | None = None
) -> tuple[VideoWriter | ResumableOutput, Checkpoint | None]:
    """The writer for this run, and the checkpoint to resume from (None: start at frame 0)."""
    width, height = size
    if span is not None:  # a segment: video only, in the file's own container; joined with the audio later
        options = dataclasses.replace(settings.encode, copy_streams=False, container_format=None)
        return VideoWriter(target, width=width, height=height, source=info, options=options, overwrite=True), None
    if not settings.resume:
        writer = VideoWriter(target, width=width, height=height, source=info, options=settings.encode, overwrite=settings.overwrite)
        return writer, None
    fingerprint = run_fingerprint(info, _settings_identity(settings), model_fingerprint(model))
    writer = ResumableOutput(
        target, size, info, settings.encode, overwrite=settings.overwrite, fingerprint=fingerprint, device=model.device
    )
    return writer, writer.start


def stop_early(
    writer: VideoWriter | ResumableOutput, group: StageGroup, target: str, settings: RestoreSettings, error: BaseException
) -> list[str]:
    """Clean up after a failure or interruption; returns notes for the user on what is left."""
    notes: list[str] = []
    kept = False
    if settings.keep_partial and isinstance(writer, VideoWriter) and not isinstance(error, OutputError):
        kept = _keep_partial(writer, group, target, settings.overwrite, notes)
    if not kept:
        writer.abort()
    if isinstance(writer, ResumableOutput):
        notes.extend(n for n in writer.notes if n.startswith("progress saved"))
    return notes


def _keep_partial(writer: VideoWriter, group: StageGroup, target: str, overwrite: bool, notes: list[str]) -> bool:
    frames = writer.frames_written
    if writer.target.kind != "file" or frames == 0 or group.alive("encode"):
        notes.append("--keep-partial: nothing could be kept (no complete frames, or not a video file output)")
        return False
    path = partial_path(target)
    if os.path.exists(path) and not overwrite:
        notes.append(f"--keep-partial: {path!r} already exists; the partial output was discarded")
        return False
    try:
        writer.keep_partial(path)
    except (OutputError, InputError) as problem:
        notes.append(f"--keep-partial: {problem}")
        return False
    notes.append(f"kept the {frames} frames restored so far in {path!r}")
    return True
