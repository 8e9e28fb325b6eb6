"""`make demo`: restores the sample and shows it beside bicubic (PNG and clip), through
the pipeline itself, not the CLI's test runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av

from tests import media

PROBE = """
import sys
from swiftvr_cli.demo import main
code = main(sys.argv[1:])
print("exit", code, "typer.testing" in sys.modules)
"""


def test_demo_writes_a_labelled_side_by_side_png_and_clip(tmp_path):
    sample = media.make_video(tmp_path / "sample.mp4", frames=5, size=(40, 24))  # small: the demo's path, quickly
    out = tmp_path / "demo"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--sample", sample, "--output-dir", str(out)], capture_output=True, text=True, env=env, timeout=300
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "exit 0 False" in done.stdout  # no typer.testing.CliRunner inside
    printed = {line.split(":", 1)[0].strip(): Path(line.split(":", 1)[1].strip()) for line in done.stdout.splitlines() if ":" in line}
    png, clip = printed["side by side (frame)"], printed["side by side (clip)"]
    assert png.exists() and clip.exists() and printed["restored video"].exists()
    with av.open(str(png)) as c:
        image = next(c.decode(video=0)).to_ndarray(format="rgb24")
    width = 2 * 160 + 4  # bicubic | swiftvr, x4 of 40 px, a 4-pixel gap
    assert image.shape[1] == width
    label = image[:18]  # the label strip above the tiles: white text on black
    assert (label == 255).any() and (label == 0).mean() > 0.5
    with av.open(str(clip)) as c:
        stream = c.streams.video[0]
        assert (stream.width, stream.height) == (width, image.shape[0])
        assert sum(1 for _ in c.decode(video=0)) == 5
