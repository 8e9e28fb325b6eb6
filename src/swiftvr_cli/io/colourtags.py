"""Mapping between FFmpeg colour tags (AVColorSpace etc.) and our matrix names.

Untagged video is common; players then guess BT.709 for HD and BT.601 for
SD, and we guess the same way so colours match what users see.
"""

from __future__ import annotations

# AVColorSpace values.
SPC_RGB, SPC_BT709, SPC_UNSPECIFIED, SPC_FCC, SPC_BT470BG, SPC_SMPTE170M = 0, 1, 2, 4, 5, 6
SPC_SMPTE240M, SPC_BT2020_NCL, SPC_BT2020_CL = 7, 9, 10
# AVColorPrimaries / AVColorTransferCharacteristic "unspecified" and BT.2020 primaries.
PRI_UNSPECIFIED, PRI_BT2020 = 2, 9
TRC_UNSPECIFIED = 2
# AVColorRange values.
RANGE_UNSPECIFIED, RANGE_MPEG, RANGE_JPEG = 0, 1, 2

_MATRIX_OF_SPACE = {
    SPC_BT709: "bt709",
    SPC_FCC: "bt601",
    SPC_BT470BG: "bt601",
    SPC_SMPTE170M: "bt601",
    SPC_SMPTE240M: "bt709",
    SPC_BT2020_NCL: "bt2020",
    SPC_BT2020_CL: "bt2020",
}
# The tag we write when we pick a matrix ourselves.
SPACE_OF_MATRIX = {"bt601": SPC_SMPTE170M, "bt709": SPC_BT709, "bt2020": SPC_BT2020_NCL}


def default_matrix(width: int, height: int) -> str:
    """Player convention for untagged video: HD and larger is BT.709, SD is BT.601."""
    return "bt709" if width >= 1280 or height >= 720 else "bt601"


def matrix_from_tags(colorspace: int, primaries: int, width: int, height: int) -> str:
    """Matrix to decode with, from the stream's tags (guessing when untagged)."""
    if colorspace in _MATRIX_OF_SPACE:
        return _MATRIX_OF_SPACE[colorspace]
    if primaries == PRI_BT2020:
        return "bt2020"
    return default_matrix(width, height)


def is_known_matrix_tag(colorspace: int) -> bool:
    """Whether the source tag names a Y'CbCr matrix we can copy to the output."""
    return colorspace in _MATRIX_OF_SPACE


# FFmpeg's names for the raw tags (av_color_*_name, av_field_order), for `swiftvr info`.
_NAMES: dict[str, tuple[str, ...]] = {
    "color_range": ("unspecified", "tv (limited)", "pc (full)"),
    "color_primaries": (
        "reserved", "bt709", "unspecified", "reserved", "bt470m", "bt470bg", "smpte170m", "smpte240m", "film",
        "bt2020", "smpte428", "smpte431", "smpte432",
    ),
    "color_trc": (
        "reserved", "bt709", "unspecified", "reserved", "gamma22", "gamma28", "smpte170m", "smpte240m", "linear",
        "log100", "log316", "iec61966-2-4", "bt1361e", "iec61966-2-1 (sRGB)", "bt2020-10", "bt2020-12",
        "smpte2084 (PQ)", "smpte428", "arib-std-b67 (HLG)",
    ),
    "colorspace": (
        "gbr (RGB)", "bt709", "unspecified", "reserved", "fcc", "bt470bg", "smpte170m", "smpte240m", "ycgco",
        "bt2020nc", "bt2020c", "smpte2085", "chroma-derived-nc", "chroma-derived-c", "ictcp",
    ),
    "field_order": ("unknown", "progressive", "interlaced, top first", "interlaced, bottom first",
                    "interlaced, top coded first, bottom displayed first", "interlaced, bottom coded first, top displayed first"),
}  # fmt: skip
_EXTRA_NAMES = {("color_primaries", 22): "ebu3213"}


def tag_name(field: str, value: int) -> str | None:
    """FFmpeg's name of a raw colour / field-order tag (None if ``field`` is not such a tag)."""
    names = _NAMES.get(field)
    if names is None:
        return None
    if 0 <= value < len(names):
        return names[value]
    return _EXTRA_NAMES.get((field, value), f"unknown ({value})")
