"""``VideoWriter``: one front door for file, stdout and PNG-sequence outputs.

Files are written under a hidden temporary name and renamed on ``close``;
``abort`` (or leaving the ``with`` block by an exception) deletes them, so
the target path only ever holds a complete output.
"""

from __future__ import annotations

import os
from typing import Sequence

import torch

from .colour import YUVFrames
from .errors import OutputError, describe_av_error
from .image_sink import ImageSink
from .options import EncodeOptions
from .probe import VideoInfo
from .safe_paths import OwnFile, move_into_place, remove_own_file
from .stdin_side import current_tap
from .stdio import PipeWriter, stdout_buffer
from .targets import Target, classify, named_like_source, temp_file_for, validate
from .video_sink import Y4M, ContainerSink

__all__ = ["EncodeOptions", "VideoWriter"]


class VideoWriter:
    """Encode [T,3,H,W] RGB batches in [0,1] to ``target``.

    ``target`` is a media file, "-" for stdout (y4m unless
    ``options.container_format`` says otherwise), or an image folder / printf
    pattern for PNGs. ``notes`` collects user-facing remarks (re-encoded
    audio, odd-size handling, ...).
    """

    def __init__(
        self,
        target: str,
        *,
        width: int,
        height: int,
        source: VideoInfo,
        options: EncodeOptions | None = None,
        overwrite: bool = False,
    ) -> None:
        if width <= 0 or height <= 0:
            raise OutputError(f"cannot write a {width}x{height} video")
        self.options = options or EncodeOptions()
        self.width, self.height = width, height
        self.notes: list[str] = []
        self.target: Target = named_like_source(classify(target), source.source_kind, source.path)
        validate(self.target, source, overwrite)
        self._overwrite = overwrite
        self._temp: OwnFile | None = None
        self._done = False
        self._sink = self._open(source)

    def _open(self, source: VideoInfo) -> ContainerSink | ImageSink:
        kind, opts = self.target.kind, self.options
        raw_pipe = kind == "stdout" and (opts.container_format or Y4M) == Y4M
        if source.rotation and (kind == "images" or raw_pipe):
            self.notes.append(
                f"the source's rotation tag ({source.rotation} degrees) cannot be stored in "
                f"{'PNG files' if kind == 'images' else 'y4m'}; the frames are written as stored, unrotated"
            )
        if kind == "images":  # a >8-bit source (16-bit PNGs, 10-bit video) keeps its depth: 16-bit PNGs
            pix_fmt = opts.pix_fmt or ("rgb48" if source.bit_depth > 8 else None)
            return ImageSink(self.target, width=self.width, height=self.height, pix_fmt=pix_fmt)
        side = source.path if source.source_kind == "file" else current_tap() if source.source_kind == "stdin" else None
        common = dict(
            width=self.width, height=self.height, source=source, options=opts, notes=self.notes, side_source=side
        )
        if kind == "stdout":
            pipe = PipeWriter(stdout_buffer())
            return ContainerSink(pipe, label="stdout", container_format=opts.container_format or Y4M, **common)
        try:
            self._temp = temp_file_for(self.target.path)
        except OSError as error:
            raise OutputError(f"cannot write {self.target.path!r}: {describe_av_error(error)}") from None
        try:
            label = repr(self.target.path)
            return ContainerSink(self._temp.path, label=label, container_format=opts.container_format, **common)
        except BaseException:
            self._remove_temp()
            raise

    @property
    def frames_written(self) -> int:
        return self._sink.frames_written

    def prepare(self, rgb01: torch.Tensor) -> torch.Tensor | YUVFrames:
        """What `write` takes, computed on the frames' device: the encoder's integer planes
        (the colour conversion runs on the GPU that restored them), or RGB for image output."""
        self._check_rgb(rgb01)
        if isinstance(self._sink, ImageSink):
            return rgb01.float()
        return self._sink.to_planes(rgb01)

    def _check_rgb(self, rgb01: torch.Tensor) -> None:
        if rgb01.dim() != 4 or tuple(rgb01.shape[1:]) != (3, self.height, self.width):
            raise ValueError(f"expected [T,3,{self.height},{self.width}] RGB, got {tuple(rgb01.shape)}")

    def write(self, frames: torch.Tensor | YUVFrames, pts: Sequence[int | None]) -> None:
        """Encode a batch (RGB [T,3,H,W] in [0,1], or `prepare`'s output); ``pts`` are source
        timestamps (None: derived from the frame rate)."""
        if self._done:
            raise OutputError("cannot write: the output is already closed")
        if isinstance(frames, YUVFrames):
            if isinstance(self._sink, ImageSink) or tuple(frames.y.shape[1:]) != (self.height, self.width):
                raise ValueError(f"these planes are not this output's ({self.width}x{self.height} video)")
        else:
            self._check_rgb(frames)
        if len(pts) != len(frames):
            raise ValueError(f"got {len(pts)} timestamps for {len(frames)} frames")
        if isinstance(self._sink, ImageSink):
            self._sink.write(frames)
        else:
            self._sink.write(frames, pts)

    def close(self) -> None:
        """Finish the output and move it into place."""
        if self._done:
            return
        self._done = True
        self._finish_sink()
        if self._temp is not None:
            self._commit()

    def _finish_sink(self) -> None:
        """Close the encoder/muxer; if that fails, nothing half-written stays behind."""
        try:
            self._sink.close()
        except BaseException:
            self._sink.abort()
            self._remove_temp()
            raise

    def keep_partial(self, path: str) -> None:
        """Finish what was written so far under ``path`` (``--keep-partial`` after an early stop)."""
        if self._temp is None or self._done:
            raise OutputError("only an unfinished video file can be kept as a partial output")
        self._done = True
        self._finish_sink()
        self._commit(path)

    def _commit(self, final: str | None = None) -> None:
        final = final or self.target.path
        if os.path.exists(final) and not self._overwrite:
            self._remove_temp()
            raise OutputError(f"cannot write {final!r}: it appeared while we were encoding; not replacing it")
        try:
            move_into_place(self._temp, final)
        except OutputError:
            self._remove_temp()
            raise
        except OSError as error:
            self._remove_temp()
            raise OutputError(f"cannot move the output into {final!r}: {describe_av_error(error)}") from None
        self._temp = None

    def abort(self) -> None:
        """Stop and delete everything written so far."""
        if self._done:
            return
        self._done = True
        self._sink.abort()
        self._remove_temp()

    def _remove_temp(self) -> None:
        if self._temp is not None:
            if self._temp.intact():
                remove_own_file(self._temp.path)
            self._temp = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
