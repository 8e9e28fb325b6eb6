"""Choosing the encoder, its pixel format, options and colour tags.

Odd sizes: x264/x265/NVENC reject 4:2:0 with an odd width or height, so
for those we switch to the matching 4:4:4 format (yuv444p / yuv444p10le)
and say so in the writer's notes. The picture keeps its exact size (no
padding or cropping); the cost is that some hardware players cannot play
4:4:4 H.264/HEVC. Other encoders (SVT-AV1, VP9, FFV1, raw) handle odd 4:2:0.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from fractions import Fraction

import av

from .colourtags import PRI_UNSPECIFIED, RANGE_JPEG, RANGE_MPEG, SPACE_OF_MATRIX, TRC_UNSPECIFIED
from .colourtags import default_matrix, is_known_matrix_tag
from .errors import OutputError
from .options import EncodeOptions
from .pixfmt import LAYOUTS, WRITABLE_YUV, PixelLayout
from .probe import VideoInfo

KNOWN_VIDEO_ENCODERS = ("libx264", "libx265", "libsvtav1", "h264_nvenc", "hevc_nvenc")
EVEN_SIZE_420 = frozenset({"libx264", "libx265", "h264_nvenc", "hevc_nvenc"})
NVENC = frozenset({"h264_nvenc", "hevc_nvenc"})
# x264-style preset names -> SVT-AV1 preset numbers (lower is slower/better).
SVT_PRESETS = {
    "placebo": "2", "veryslow": "3", "slower": "4", "slow": "5", "medium": "6",
    "fast": "8", "faster": "9", "veryfast": "10", "superfast": "11", "ultrafast": "12",
}
DEFAULT_FPS = Fraction(25)


@dataclass(frozen=True)
class ColourPlan:
    """How RGB becomes Y'CbCr, and the tags that tell players so."""

    matrix: str
    full_range: bool
    colorspace: int
    color_primaries: int
    color_trc: int

    @property
    def color_range(self) -> int:
        return RANGE_JPEG if self.full_range else RANGE_MPEG


@dataclass(frozen=True)
class EncoderPlan:
    codec: str
    layout: PixelLayout
    codec_options: dict[str, str]
    colour: ColourPlan


def available_encoders() -> list[str]:
    """Encoders from our short list that this FFmpeg build has."""
    return [name for name in KNOWN_VIDEO_ENCODERS if name in av.codecs_available]


def _alternatives() -> str:
    return ", ".join(available_encoders()) or "none"


def encoder_error(codec: str, reason: str) -> OutputError:
    return OutputError(f"cannot use video encoder {codec!r}: {reason}; available: {_alternatives()}")


def plan_colour(source: VideoInfo, width: int, height: int) -> ColourPlan:
    """Reuse the source's matrix, range and tags; RGB sources get the player default."""
    if source.is_rgb:
        matrix = default_matrix(width, height)
        return ColourPlan(matrix, False, SPACE_OF_MATRIX[matrix], PRI_UNSPECIFIED, TRC_UNSPECIFIED)
    matrix = source.color_matrix
    space = source.colorspace if is_known_matrix_tag(source.colorspace) else SPACE_OF_MATRIX[matrix]
    return ColourPlan(matrix, source.full_range, space, source.color_primaries, source.color_trc)


def _codec(name: str) -> av.Codec:
    if name not in av.codecs_available:
        raise encoder_error(name, "not in this FFmpeg build")
    try:
        codec = av.Codec(name, "w")
    except Exception:  # PyAV raises several types for unknown encoders
        raise encoder_error(name, "not an encoder") from None
    if codec.type != "video":
        raise encoder_error(name, "not a video encoder")
    return codec


def _pick_layout(
    codec: av.Codec, options: EncodeOptions, source: VideoInfo, width: int, height: int, notes: list[str]
) -> PixelLayout:
    supported = {f.name for f in codec.video_formats} if codec.video_formats else set(WRITABLE_YUV)
    usable = [name for name in WRITABLE_YUV if name in supported]
    if not usable:
        raise encoder_error(codec.name, f"it takes none of the pixel formats we write ({', '.join(WRITABLE_YUV)})")
    if options.pix_fmt is not None:
        if options.pix_fmt not in usable:
            raise OutputError(
                f"cannot encode pixel format {options.pix_fmt!r} with {codec.name}; use one of: {', '.join(usable)}"
            )
        name = options.pix_fmt
    else:
        name = "yuv420p10le" if source.bit_depth > 8 and "yuv420p10le" in usable else "yuv420p"
        if name not in usable:
            name = usable[0]
    odd = width % 2 or height % 2
    if odd and LAYOUTS[name].layout == "yuv420" and codec.name in EVEN_SIZE_420:
        full = name.replace("420", "444")
        if full not in usable:
            raise OutputError(f"cannot encode {width}x{height} with {codec.name}: 4:2:0 needs an even width and height")
        notes.append(
            f"{width}x{height} is odd-sized, which {codec.name} cannot store as 4:2:0; encoded as {full} instead"
        )
        name = full
    return LAYOUTS[name]


@functools.cache
def _cpu_has_avx512() -> bool:
    """Whether the CPU (and OS) run the AVX-512 subset x264 uses (F, CD, BW, DQ, VL)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        try:  # numpy 1.x
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:  # a build without the table: x264 detects for itself
            return False
    return bool(__cpu_features__.get("AVX512_SKX", False))


def x264_reproducible_options() -> dict[str, str]:
    """x264 options that make the same input give the same bitstream on every run.

    x264's AVX-512 kernels (in the x264 that PyAV 18 bundles) do not: on an AVX-512 Xeon,
    encodes of the same frames differed from run to run. Its AVX2 kernels do not vary, and
    every CPU with AVX-512 has AVX2, so there x264 is told to use those. Restores and the
    evaluation's degraded inputs are then the same bytes each time.
    """
    return {"x264-params": "asm=AVX2"} if _cpu_has_avx512() else {}


def _codec_options(codec: str, options: EncodeOptions, notes: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    crf, preset = options.crf, options.preset
    if codec in ("libx264", "libx265"):
        if crf is not None:
            out["crf"] = str(crf)
        if preset:
            out["preset"] = preset
        if codec == "libx264":
            out.update(x264_reproducible_options())
        if codec == "libx265":
            out["x265-params"] = "log-level=error"
    elif codec == "libsvtav1":
        if crf is not None:
            out["crf"] = str(crf)
        if preset:
            out["preset"] = preset if preset.isdigit() else SVT_PRESETS.get(preset, SVT_PRESETS["medium"])
        os.environ.setdefault("SVT_LOG", "1")  # errors only; its info banner goes straight to stderr
    elif codec in NVENC:
        if crf is not None:
            out.update({"rc": "vbr", "cq": str(crf)})
        if preset:
            out["preset"] = preset
    elif codec == "libvpx-vp9":
        if crf is not None:
            out.update({"crf": str(crf), "b": "0"})
    elif (crf is not None or preset) and codec != "rawvideo":
        notes.append(f"crf/preset are not applied to {codec}; using its defaults")
    return out


def plan_encoder(
    options: EncodeOptions, source: VideoInfo, width: int, height: int, *, force_codec: str | None, notes: list[str]
) -> EncoderPlan:
    """Validate the requested encoder and work out everything needed to open it."""
    name = force_codec or options.codec
    codec = _codec(name)
    layout = _pick_layout(codec, options, source, width, height, notes)
    return EncoderPlan(name, layout, _codec_options(name, options, notes), plan_colour(source, width, height))
