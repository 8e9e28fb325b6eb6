"""Video I/O for swiftvr: probe, decode to integer planes, batch colour conversion, encode.

Runtime uses PyAV only (FFmpeg libraries in-process). Errors surface as
``InputError`` / ``OutputError`` (``BrokenPipe`` for a closed stdout) with
one-line messages meant for users.

The names below are imported on first use, so the CLI can check paths with
``io.targets`` before anything imports torch (seconds on a small machine).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

_HOMES = {
    "planes_to_rgb": "colour", "rgb_to_planes": "colour",
    "VideoReader": "decode", "frames_to_rgb": "decode",
    "EncodeOptions": "encode", "VideoWriter": "encode",
    "BrokenPipe": "errors", "InputError": "errors", "OutputError": "errors",
    "Frame": "frame", "VideoInfo": "probe", "probe": "probe", "quiet_broken_stdout": "stdio",
}  # fmt: skip

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Keeps ``io.probe`` the function: importing the submodule of the same name would
    otherwise rebind the package attribute to the module (the eager imports this
    replaces rebound it back)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "probe" and isinstance(value, types.ModuleType):
            return  # the module stays importable through sys.modules
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

if TYPE_CHECKING:
    from .colour import planes_to_rgb, rgb_to_planes
    from .decode import VideoReader, frames_to_rgb
    from .encode import EncodeOptions, VideoWriter
    from .errors import BrokenPipe, InputError, OutputError
    from .frame import Frame
    from .probe import VideoInfo, probe
    from .stdio import quiet_broken_stdout
