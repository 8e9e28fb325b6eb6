"""`--resume`: a killed restore continues from its last checkpoint instead of frame 0.

Layout, in a hidden folder beside the output (``.NAME.swiftvr-resume/``):

* ``seg-00000.EXT``...: complete small files, one per checkpoint, encoded
  with the run's settings (no audio; that is copied once at the end);
* ``state-NNNNN.safetensors``: the model's cross-chunk state after the
  last frame of the newest segment went in;
* ``journal.json``: what the folder holds, written last and atomically, so
  whatever a kill interrupts, the journal describes a consistent checkpoint.

A restart with the same input and settings skips (decodes, does not
restore) the frames already done, loads the state and goes on; at the end
the segments are joined without re-encoding and the folder is deleted.
Resumed frames are bit-identical to an uninterrupted run's: the model sees
exactly the same chunks and state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Sequence

import torch

from ..io import EncodeOptions, OutputError, VideoInfo, VideoWriter
from ..io.errors import describe_av_error
from ..io.join import join_segments
from ..hashing import FileIdentity
from ..io.safe_paths import check_own_dir, create_new_file, ensure_own_dir, fit_name, open_own_file, remove_own_file
from ..io.targets import classify, validate
from ..model.state_file import load_state, save_state, snapshot
from ..model.swiftvr import ChunkKind, RestoreState, SwiftVR

WORK_SUFFIX = ".swiftvr-resume"
JOURNAL = "journal.json"
VERSION = 1


# What a run writes into the work folder (segments' own temporary files included); nothing else is ever deleted.
_OUR_ENTRY = re.compile(r"(journal\.json(\.tmp\w*)?|seg-\d{5}\.\w+|state-\d{5}\.safetensors|\.seg-\d{5}\.swiftvr-tmp-\w+\.\w+)")


def work_dir_for(target: str) -> str:
    folder, name = os.path.split(os.path.abspath(target))
    return os.path.join(folder, f".{fit_name(name, len(WORK_SUFFIX) + 1)}{WORK_SUFFIX}")


def _remove_our_entries(folder: str, keep: set[str]) -> None:
    for name in os.listdir(folder):
        if name not in keep and _OUR_ENTRY.fullmatch(name):
            remove_own_file(os.path.join(folder, name))


def remove_work_dir(folder: str) -> None:
    """Delete a work folder of ours: only the files swiftvr puts there, then the folder if that emptied it.

    A link, another user's folder, or files someone else put inside are left alone.
    """
    try:
        if not os.path.basename(folder).endswith(WORK_SUFFIX) or not check_own_dir(folder):
            return
        _remove_our_entries(folder, set())
        os.rmdir(folder)
    except OSError:  # NotOursError included: never ours to delete
        pass


def model_fingerprint(model: SwiftVR) -> str:
    """Config, dtype, device type and a sample of every weight: cheap even for 5B parameters."""
    digest = hashlib.sha256(json.dumps(model.cfg.to_json_dict(), sort_keys=True).encode())
    digest.update(f"{model.dtype}|{model.device.type}".encode())
    for name, tensor in model.state_dict().items():
        if tensor.is_meta:  # streamed (--offload): the weights stay in their file, identified by the rest
            digest.update(name.encode())
            continue
        flat = tensor.detach().reshape(-1)
        sample = torch.cat([flat[:16], flat[-16:]]).float().cpu()
        digest.update(name.encode() + sample.numpy().tobytes())
    return digest.hexdigest()


def run_fingerprint(source: VideoInfo, settings: dict, model_id: str) -> str:
    """Same input file (path, size, mtime), same settings, same model -> same fingerprint."""
    identity = {
        "input": FileIdentity.of(source.path).as_list(),
        "settings": settings,
        "model": model_id,
        "version": VERSION,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Checkpoint:
    frames_in: int  # input frames the model has consumed
    frames_out: int  # restored frames saved in the segments
    state: RestoreState


class CheckpointClock:
    """Decides, on the restore thread, after which chunks to save the state."""

    def __init__(self, every: int, frames_in: int) -> None:
        self.every = max(1, every)
        self.frames_in = frames_in
        self._chunks = 0

    def after_chunk(self, kind: ChunkKind, frames: int, padding: bool, state: RestoreState) -> tuple[int, RestoreState] | None:
        """(input frames so far, state copy) when a checkpoint is due, else None."""
        self.frames_in += frames
        if kind is ChunkKind.LAST or padding:
            return None  # the end is near: nothing left worth saving
        self._chunks += 1
        if self._chunks % self.every:
            return None
        return self.frames_in, snapshot(state)


def _read_journal(folder: str) -> dict | None:
    try:
        with os.fdopen(open_own_file(os.path.join(folder, JOURNAL), os.O_RDONLY)) as handle:
            journal = json.load(handle)
    except FileNotFoundError:
        return None
    except OutputError:
        raise
    except (OSError, ValueError):
        return {}  # unreadable: treated as a mismatch
    return journal if isinstance(journal, dict) else {}


def _write_json(path: str, data: dict) -> None:
    temp = create_new_file(os.path.dirname(path), os.path.basename(path) + ".tmp").path
    try:
        with open(temp, "w") as handle:
            json.dump(data, handle, indent=1)
        os.replace(temp, path)
    except BaseException:
        remove_own_file(temp)
        raise


class ResumableOutput:
    """A writer that saves segments + state as it goes and joins them on ``close``.

    Drop-in for ``VideoWriter`` in the pipeline (``write``/``close``/
    ``abort``/``notes``), plus ``checkpoint``. ``start`` is the checkpoint
    to continue from, or None for a fresh run.
    """

    def __init__(
        self, target: str, size: tuple[int, int], source: VideoInfo, options: EncodeOptions, *,
        overwrite: bool, fingerprint: str, device: torch.device,
    ) -> None:  # fmt: skip
        """``size``: (width, height) of the restored frames."""
        width, height = size
        if classify(target).kind != "file" or source.source_kind != "file":
            raise OutputError("--resume needs a video file as input and as output (not a pipe or an image folder)")
        self.target, self.width, self.height, self.source = target, width, height, source
        self.options = options
        self.overwrite = overwrite
        self.notes: list[str] = []
        self.folder = work_dir_for(target)
        self._ext = os.path.splitext(target)[1]
        self._fingerprint = fingerprint
        self._segment: VideoWriter | None = None
        self._segment_frames = 0
        self._closed = False
        validate(classify(target), source, overwrite)
        try:
            self.start = self._open(device)
        except OSError as error:
            raise OutputError(f"cannot use the resume folder {self.folder!r}: {describe_av_error(error)}") from None

    def _open(self, device: torch.device) -> Checkpoint | None:
        check_own_dir(self.folder)  # a link or someone else's folder: refused, never cleaned
        journal = _read_journal(self.folder)
        if journal is not None and journal.get("fingerprint") != self._fingerprint:
            if not self.overwrite:
                raise OutputError(
                    f"cannot resume {self.target!r}: the saved progress in {self.folder!r} is from a different "
                    "input, model or settings; run with the same ones, or add --overwrite to discard it"
                )
            remove_work_dir(self.folder)
            journal = None
        if journal is None or not journal.get("segments"):
            ensure_own_dir(self.folder)
            self.journal = {"version": VERSION, "fingerprint": self._fingerprint, "input": self.source.path,
                            "target": self.target, "frames_in": 0, "frames_out": 0, "segments": [], "state": None}  # fmt: skip
            self._clean()
            _write_json(os.path.join(self.folder, JOURNAL), self.journal)
            return None
        self.journal = journal
        self._clean()
        state = load_state(os.path.join(self.folder, journal["state"]), device)
        segments = len(journal["segments"])
        self.notes.append(f"resumed at frame {journal['frames_out']} ({segments} saved segment{'s' if segments != 1 else ''})")
        return Checkpoint(journal["frames_in"], journal["frames_out"], state)

    def _clean(self) -> None:
        """Remove what a killed run left half-written (anything the journal does not list)."""
        _remove_our_entries(self.folder, {JOURNAL, *self.journal["segments"], self.journal.get("state")})

    @property
    def frames_written(self) -> int:
        return self.journal["frames_out"] + self._segment_frames

    def prepare(self, rgb01: torch.Tensor) -> torch.Tensor:
        """Frames stay RGB here: the segments' encoders open lazily (see `VideoWriter.prepare`)."""
        return rgb01.float()

    def write(self, rgb01: torch.Tensor, pts: Sequence[int | None]) -> None:
        if self._segment is None:
            name = f"seg-{len(self.journal['segments']):05d}{self._ext}"
            options = dataclasses.replace(self.options, copy_streams=False)
            self._segment = VideoWriter(
                os.path.join(self.folder, name), width=self.width, height=self.height,
                source=self.source, options=options, overwrite=True,
            )  # fmt: skip
            self._segment_name = name
        self._segment.write(rgb01, pts)
        self._segment_frames += rgb01.shape[0]

    def _finish_segment(self) -> None:
        if self._segment is None:
            return
        self._segment.close()
        for note in self._segment.notes:
            if note not in self.notes:
                self.notes.append(note)
        self.journal["segments"].append(self._segment_name)
        self.journal["frames_out"] += self._segment_frames
        self._segment, self._segment_frames = None, 0

    def checkpoint(self, frames_in: int, state: RestoreState) -> None:
        """Close the current segment and record it with the state that follows it."""
        self._finish_segment()
        old = self.journal.get("state")
        name = f"state-{len(self.journal['segments']):05d}.safetensors"
        try:
            save_state(state, os.path.join(self.folder, name))
            self.journal.update(frames_in=frames_in, state=name)
            _write_json(os.path.join(self.folder, JOURNAL), self.journal)
        except OSError as error:  # disk full: the journal on disk still describes the last good checkpoint
            raise OutputError(f"cannot save a checkpoint in {self.folder!r}: {describe_av_error(error)}") from None
        if old and old != name:
            remove_own_file(os.path.join(self.folder, old))

    def close(self) -> None:
        """Join the segments into the target and delete the work folder."""
        if self._closed:
            return
        self._closed = True
        self._finish_segment()
        join_segments(
            [os.path.join(self.folder, s) for s in self.journal["segments"]], self.target, self.source,
            self.options, overwrite=self.overwrite, notes=self.notes,
        )  # fmt: skip
        remove_work_dir(self.folder)

    def abort(self) -> None:
        """Drop the unfinished segment; the saved ones stay for the next --resume."""
        if self._closed:
            return
        self._closed = True
        if self._segment is not None:
            self._segment.abort()
            self._segment = None
        try:
            saved = _read_journal(self.folder) or {}  # what is on disk, not what this run meant to save (disk full)
        except OutputError:
            saved = {}
        if not saved.get("segments"):
            remove_work_dir(self.folder)  # nothing saved: leave no clutter
        else:
            frames = saved.get("frames_out", 0)
            self.notes.append(f"progress saved in {self.folder!r} ({frames} frames); run again with --resume to continue")
