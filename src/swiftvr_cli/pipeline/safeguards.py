"""What surrounds the pipeline so that a failed or stopped run loses nothing it need not.

* the output writer: a plain ``VideoWriter`` (temp file, renamed when
  complete) or, with ``--resume``, a ``ResumableOutput`` (checkpointed
  segments);
* the memory check before any frame is restored (``--max-memory``,
  ``--auto``);
* an early stop: delete the temp file, or keep the frames done so far
  (``--keep-partial``), and hand the user-facing notes to the CLI.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from ..io import InputError, OutputError, VideoInfo, VideoWriter
from ..io.naming import STDIN, is_image_sequence
from ..io.scan import header_size
from ..io.targets import partial_path
from ..model.swiftvr import SwiftVR, automatic_reae_group, output_size
from . import budget
from .resume import Checkpoint, ResumableOutput, model_fingerprint, run_fingerprint
from .stages import StageGroup

if TYPE_CHECKING:
    from .runner import RestoreSettings

NOTES_ATTR = "swiftvr_notes"  # notes travelling with an exception to the CLI


def fit_to_memory(model: SwiftVR, source: str, settings: "RestoreSettings", notes: list[str], info: VideoInfo | None = None) -> "RestoreSettings":
    """Refuse (MemoryBudgetError), or fit the run before any work: fewer latents per
    ReAE pass (the same output), then, with ``auto``, a smaller chunk.

    Without ``info`` the sizes come from the file's headers, so a huge
    input is refused before a single frame is decoded.
    """
    if info is not None:
        size, frames = (info.height, info.width), info.frame_count
    elif source != STDIN and not is_image_sequence(source) and (head := header_size(source, settings.stream)):
        size, frames = (head[1], head[0]), head[2]
    else:
        return settings
    requested_group = settings.reae_group or automatic_reae_group(model.device)
    fit = budget.fit_chunk(
        model.cfg, model.device, model.dtype, size, output_size(*size, settings.scale), settings.clip_len,
        frames=frames, overlap=settings.overlap, max_memory=settings.max_memory, auto=settings.auto,
        reae_group=requested_group, offload=model.streams_weights, prompt_len=model.prompt_len,
    )  # fmt: skip
    if fit.chunk != settings.clip_len:
        notes.append(f"--auto: --chunk {settings.clip_len} would not fit in memory; using --chunk {fit.chunk}")
    if fit.reae_group != requested_group:
        latents = f"{fit.reae_group} latent{'s' if fit.reae_group > 1 else ''}"
        notes.append(f"decoding {latents} per ReAE pass (--reae-group {fit.reae_group}; same output) to fit in memory")
    return dataclasses.replace(settings, clip_len=fit.chunk, reae_group=fit.reae_group)


def _settings_identity(settings: "RestoreSettings") -> dict:
    """The settings that change the output's pixels or encoding (what a resumed run must share)."""
    keep = ("scale", "clip_len", "overlap", "stream", "skip_corrupt")
    identity = {**{k: getattr(settings, k) for k in keep}, "encode": dataclasses.asdict(settings.encode)}
    if settings.task != "sr" or settings.mask:  # only then: checkpoints of earlier sr runs stay valid
        identity["task"] = settings.task
        identity["mask"] = _file_identity(settings.mask) if settings.mask else None
    return identity


def _file_identity(path: str) -> list:
    """Path, size and modification time: a changed mask file is a different run."""
    try:
        stat = os.stat(path)
    except OSError:
        return [os.path.abspath(path)]
    return [os.path.abspath(path), stat.st_size, stat.st_mtime_ns]


def open_output(
    model: SwiftVR, target: str, size: tuple[int, int], info: VideoInfo, settings: "RestoreSettings"
) -> tuple[VideoWriter | ResumableOutput, Checkpoint | None]:
    """The writer for this run, and the checkpoint to resume from (None: start at frame 0)."""
    width, height = size
    if not settings.resume:
        writer = VideoWriter(target, width=width, height=height, source=info, options=settings.encode, overwrite=settings.overwrite)
        return writer, None
    fingerprint = run_fingerprint(info, _settings_identity(settings), model_fingerprint(model))
    writer = ResumableOutput(
        target, width=width, height=height, source=info, options=settings.encode,
        overwrite=settings.overwrite, fingerprint=fingerprint, device=model.device,
    )  # fmt: skip
    return writer, writer.start


def stop_early(
    writer: VideoWriter | ResumableOutput, group: StageGroup, target: str, settings: "RestoreSettings", error: BaseException
) -> None:
    """Clean up after a failure or interruption; tell the user what is left (as notes on ``error``)."""
    notes: list[str] = []
    kept = False
    if settings.keep_partial and isinstance(writer, VideoWriter) and not isinstance(error, OutputError):
        kept = _keep_partial(writer, group, target, settings.overwrite, notes)
    if not kept:
        writer.abort()
    if isinstance(writer, ResumableOutput):
        notes.extend(n for n in writer.notes if n.startswith("progress saved"))
    if notes:
        try:
            setattr(error, NOTES_ATTR, getattr(error, NOTES_ATTR, []) + notes)
        except AttributeError:  # an exception type without a __dict__
            pass


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
