"""Image-sequence naming: finding input frames and naming output frames.

Frames in a folder are ordered by the number in their name (so frame_2
precedes frame_10), then by name; printf patterns such as
``frames/%05d.png`` select the files whose number fits the pattern.
"""

from __future__ import annotations

import math
import os
import re

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
DEFAULT_OUTPUT_PATTERN = "%08d.png"
_PATTERN = re.compile(r"%(0?)(\d*)d")
_DIGITS = re.compile(r"(\d+)")


def is_pattern(path: str) -> bool:
    """True for printf-style frame patterns (``%d``, ``%05d``) in the file name."""
    return len(_PATTERN.findall(os.path.basename(path))) == 1


def is_image_file(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _sort_key(name: str) -> tuple[float, str]:
    """Numeric stem first (last run of digits), then the name as a tie-breaker."""
    numbers = _DIGITS.findall(os.path.splitext(name)[0])
    return (float(int(numbers[-1])) if numbers else math.inf, name)


def list_directory(directory: str) -> list[str]:
    """Image files directly inside ``directory``, in frame order."""
    names = [
        n
        for n in os.listdir(directory)
        if is_image_file(n) and not n.startswith(".") and os.path.isfile(os.path.join(directory, n))
    ]
    return [os.path.join(directory, n) for n in sorted(names, key=_sort_key)]


def pattern_regex(pattern_name: str) -> re.Pattern[str]:
    """Regex matching file names produced by a printf pattern (number captured)."""
    match = _PATTERN.search(pattern_name)
    if match is None:
        raise ValueError(f"not a frame pattern: {pattern_name!r}")
    zero, width = match.group(1), match.group(2)
    if not width:
        digits = r"\d+"
    elif zero:
        digits = rf"\d{{{int(width)},}}"
    else:
        digits = r" *\d+"
    head = re.escape(pattern_name[: match.start()])
    tail = re.escape(pattern_name[match.end() :])
    return re.compile(rf"^{head}({digits}){tail}$")


def list_pattern(pattern: str) -> list[str]:
    """Existing files matching a printf pattern, in numeric order."""
    directory = os.path.dirname(pattern) or "."
    regex = pattern_regex(os.path.basename(pattern))
    if not os.path.isdir(directory):
        return []
    found: list[tuple[int, str]] = []
    for name in os.listdir(directory):
        match = regex.match(name)
        if match and os.path.isfile(os.path.join(directory, name)):
            found.append((int(match.group(1)), name))
    return [os.path.join(directory, name) for _, name in sorted(found)]


def list_frames(source: str) -> list[str]:
    """The frame files of an image folder or printf pattern, in frame order ([] if none)."""
    return list_directory(source) if os.path.isdir(source) else list_pattern(source)


def output_names(input_files: list[str]) -> list[str] | None:
    """PNG names for the outputs of these input frames: the same stems (``00001.jpg`` ->
    ``00001.png``), so restored frames line up with the originals; None if two inputs
    would share a name (``a.jpg`` and ``a.png``)."""
    names = [os.path.splitext(os.path.basename(path))[0] + ".png" for path in input_files]
    return names if len(set(names)) == len(names) else None


def frame_name(pattern_name: str, index: int) -> str:
    """Output file name of frame ``index`` (0-based) under a printf pattern."""
    return pattern_name % index
