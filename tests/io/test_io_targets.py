"""Output classification and frame naming."""

from __future__ import annotations

import pytest

from swiftvr_cli.io import OutputError, probe
from swiftvr_cli.io.imageseq import frame_name, is_pattern, pattern_regex
from swiftvr_cli.io.targets import classify, temp_file_for, validate


def test_classify(tmp_path):
    (tmp_path / "existing").mkdir()
    assert classify("-").kind == "stdout"
    assert classify(str(tmp_path / "out.mp4")).kind == "file"
    assert classify(str(tmp_path / "out") + "/").kind == "images"
    assert classify(str(tmp_path / "out")).kind == "images"  # no extension: a folder of frames
    assert classify(str(tmp_path / "existing")).pattern == "%08d.png"
    target = classify(str(tmp_path / "frames" / "f_%05d.png"))
    assert (target.kind, target.path, target.pattern) == ("images", str(tmp_path / "frames"), "f_%05d.png")


def test_patterns():
    assert is_pattern("x/%05d.png") and is_pattern("%d.png") and not is_pattern("x.png")
    regex = pattern_regex("f_%05d.png")
    assert regex.match("f_00012.png") and regex.match("f_123456.png") and not regex.match("f_12.png")
    assert frame_name("%08d.png", 7) == "00000007.png"


def test_only_png_sequences(cfr_mp4, tmp_path):
    with pytest.raises(OutputError, match="PNG"):
        validate(classify(str(tmp_path / "%04d.jpg")), probe(cfr_mp4), overwrite=False)


def test_temp_name_keeps_extension(tmp_path):
    temp = temp_file_for(str(tmp_path / "movie.mkv")).path
    assert temp.startswith(str(tmp_path / ".movie.swiftvr-tmp")) and temp.endswith(".mkv")
