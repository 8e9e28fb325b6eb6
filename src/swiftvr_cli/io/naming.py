"""How inputs are named in messages and told apart (stdin, images, files)."""

from __future__ import annotations

import os

from . import imageseq

STDIN = "-"


def display_name(source: str) -> str:
    return "stdin" if source == STDIN else repr(source)


def is_image_sequence(source: str) -> bool:
    """Folders and printf patterns are image sequences; everything else is a container."""
    if source == STDIN:
        return False
    return os.path.isdir(source) or (imageseq.is_pattern(source) and not os.path.isfile(source))
