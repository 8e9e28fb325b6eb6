"""Video I/O for swiftvr: probe, decode to integer planes, batch colour conversion, encode.

Runtime uses PyAV only (FFmpeg libraries in-process). Errors surface as
``InputError`` / ``OutputError`` (``BrokenPipe`` for a closed stdout) with
one-line messages meant for users.
"""

from .colour import planes_to_rgb, rgb_to_planes
from .decode import VideoReader, frames_to_rgb
from .encode import EncodeOptions, VideoWriter
from .errors import BrokenPipe, InputError, OutputError
from .frame import Frame
from .probe import VideoInfo, probe
from .stdio import quiet_broken_stdout

__all__ = [
    "BrokenPipe",
    "EncodeOptions",
    "Frame",
    "InputError",
    "OutputError",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "frames_to_rgb",
    "planes_to_rgb",
    "probe",
    "quiet_broken_stdout",
    "rgb_to_planes",
]
