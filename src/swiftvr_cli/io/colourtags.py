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
