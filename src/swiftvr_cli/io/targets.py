"""Where output goes, and the safety checks before anything is written.

Outputs are written under a temporary name next to the target and renamed
on success, so a crash never leaves a half-written file under the real
name. We refuse to overwrite the input or existing outputs by accident.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import imageseq
from .errors import OutputError, describe_av_error
from .naming import STDIN, is_image_sequence
from .safe_paths import TEMP_RANDOM, OwnFile, create_new_dir, create_new_file, fit_name, remove_own_file

if TYPE_CHECKING:  # light at run time: the CLI checks paths before torch is imported
    from .probe import VideoInfo

STDOUT = "-"
TEMP_MARK = ".swiftvr-tmp"


@dataclass(frozen=True)
class Target:
    """A classified output: a media file, stdout, or a folder of numbered PNGs."""

    kind: str  # "file" | "stdout" | "images"
    path: str  # the file, the image folder, or "-"
    pattern: str = ""  # image file-name pattern, e.g. "%08d.png"
    pattern_given: bool = False  # the user wrote the pattern (else: a folder, numbered by default)
    names: tuple[str, ...] = ()  # frame file names, in order, when they follow the input's

    def frame_regex(self) -> re.Pattern[str]:
        return imageseq.pattern_regex(self.pattern)

    def frame_name(self, index: int) -> str:
        """File name of output frame ``index`` (0-based)."""
        return self.names[index] if index < len(self.names) else imageseq.frame_name(self.pattern, index)


def named_like_source(target: Target, source_kind: str, source_path: str) -> Target:
    """An image-folder output of an image-sequence input keeps the input's frame names
    (``00001.png`` in -> ``00001.png`` out); a pattern the user gave is followed as written."""
    if target.kind != "images" or target.pattern_given or source_kind != "images":
        return target
    names = imageseq.output_names(imageseq.list_frames(source_path))
    return dataclasses.replace(target, names=tuple(names)) if names else target


def classify(target: str) -> Target:
    """Image folder if the path is a folder, ends with '/', has no extension, or is an image-name pattern.

    A video name that merely contains '%d' ('50%d.mp4') is a file: only image names are frame patterns.
    """
    if target == STDOUT:
        return Target("stdout", STDOUT)
    ext = os.path.splitext(target)[1]
    if imageseq.is_pattern(target) and (not ext or imageseq.is_image_file(target)):
        return Target("images", os.path.dirname(target) or ".", os.path.basename(target), pattern_given=True)
    if target.endswith(("/", os.sep)) or os.path.isdir(target):
        return Target("images", target.rstrip("/" + os.sep) or os.sep, imageseq.DEFAULT_OUTPUT_PATTERN)
    if not os.path.splitext(os.path.basename(target))[1] and not os.path.isfile(target):
        return Target("images", target, imageseq.DEFAULT_OUTPUT_PATTERN)
    return Target("file", target)


def _same_path(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _source_dir(source_kind: str, source_path: str) -> str | None:
    if source_kind != "images":
        return None
    return source_path if os.path.isdir(source_path) else os.path.dirname(source_path) or "."


def source_kind_of(source: str) -> str:
    """"stdin", "images" or "file", as the decoder will open it (see `sources.open_source`)."""
    if source == STDIN:
        return "stdin"
    return "images" if is_image_sequence(source) else "file"


OVERWRITE_HINT = "add -y/--overwrite to replace"


def _check_parent(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise OutputError(f"cannot write {path!r}: folder {parent!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {path!r}: folder {parent!r} is not writable")
    try:  # access() says yes to root everywhere; only creating a file proves it (read-only mounts, /proc)
        remove_own_file(create_new_file(parent, ".swiftvr-write-test-").path)
    except OSError as error:
        raise OutputError(f"cannot write {path!r}: folder {parent!r} is not writable ({describe_av_error(error)})") from None


def existing_frames(target: Target) -> list[str]:
    """Files in the target folder that our frame naming would overwrite."""
    if not os.path.isdir(target.path):
        return []
    regex = target.frame_regex()
    return sorted(n for n in os.listdir(target.path) if regex.match(n) or n in target.names)


def validate(target: Target, source: VideoInfo, overwrite: bool) -> None:
    """Raise OutputError unless writing ``target`` is safe."""
    check_paths(target, source.source_kind, source.path, overwrite)


def check_paths(target: Target, source_kind: str, source_path: str, overwrite: bool) -> None:
    """`validate` from the input's kind and path alone, so it can run before the input is
    opened or the model loaded: a refused output is reported at once."""
    target = named_like_source(target, source_kind, source_path)
    if target.kind == "stdout":
        return
    if target.kind == "file":
        _check_parent(target.path)
        if source_kind == "file" and _same_path(target.path, source_path):
            raise OutputError(f"cannot write {target.path!r}: it is the input file")
        if os.path.exists(target.path) and not overwrite:
            raise OutputError(f"cannot write {target.path!r}: it already exists ({OVERWRITE_HINT} it)")
        return
    if os.path.splitext(target.pattern)[1].lower() != ".png":
        raise OutputError(f"cannot write {target.pattern!r}: image sequences are written as PNG (use a .png pattern)")
    if os.path.exists(target.path) and not os.path.isdir(target.path):
        raise OutputError(f"cannot write images into {target.path!r}: it is a file")
    _check_parent(target.path)
    src_dir = _source_dir(source_kind, source_path)
    if src_dir is not None and _same_path(target.path, src_dir):
        raise OutputError(f"cannot write images into {target.path!r}: it is the input folder")
    if existing_frames(target) and not overwrite:
        raise OutputError(f"cannot write images into {target.path!r}: it already holds frames ({OVERWRITE_HINT} them)")


def temp_prefix(name: str) -> str:
    """Start of the temporary names for ``name`` (random letters and the extension follow)."""
    return f".{os.path.splitext(name)[0]}{TEMP_MARK}-"


def is_temp_of(entry: str, name: str) -> bool:
    """Is the folder entry ``entry`` one of the temporary files ``temp_file_for`` makes for ``name``?"""
    ext = os.path.splitext(name)[1]
    prefix = fit_name(temp_prefix(name), len(os.fsencode(ext)) + TEMP_RANDOM)
    middle = entry[len(prefix) : len(entry) - len(ext)] if entry.startswith(prefix) and entry.endswith(ext) else ""
    return middle.isalnum() and middle.isascii()  # random hex now, a pid in older versions


def temp_file_for(path: str) -> OwnFile:
    """Create a hidden, unguessably named sibling that keeps the extension (FFmpeg guesses the muxer from it)."""
    folder, name = os.path.split(os.path.abspath(path))
    return create_new_file(folder, temp_prefix(name), os.path.splitext(name)[1])


def temp_dir_for(directory: str) -> str:
    """Create a hidden, unguessably named sibling folder of ``directory``."""
    folder, name = os.path.split(os.path.abspath(directory))
    return create_new_dir(folder, f".{name}{TEMP_MARK}-")


def partial_path(path: str) -> str:
    """Where ``--keep-partial`` puts an unfinished output: ``out.partial.mp4`` beside ``out.mp4``."""
    stem, ext = os.path.splitext(path)
    return f"{stem}.partial{ext}"
