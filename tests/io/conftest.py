"""Shared fixtures for the I/O tests: tiny videos made on the fly with PyAV."""

from __future__ import annotations

import pytest

from tests import media


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread):
    """Every test here runs with one torch thread (see tests/conftest.py)."""


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def cfr_mp4(media_dir) -> str:
    return media.make_video(media_dir / "cfr.mp4", frames=12, size=(64, 48), audio=True, rotation=90)


@pytest.fixture(scope="session")
def vfr_mkv(media_dir) -> str:
    return media.make_video(media_dir / "vfr.mkv", frames=12, size=(64, 48), vfr=True, audio=True, subtitles=True)


@pytest.fixture(scope="session")
def ten_bit_mkv(media_dir) -> str:
    return media.make_video(
        media_dir / "ten.mkv", frames=3, size=(160, 96), codec="libx265", pix_fmt="yuv420p10le", content="gray"
    )


@pytest.fixture(scope="session")
def odd_mkv(media_dir) -> str:
    return media.make_video(media_dir / "odd.mkv", frames=4, size=(333, 187), codec="ffv1", pix_fmt="yuv420p")
