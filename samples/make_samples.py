"""Rebuild the small real sample clips shipped in samples/ (run from the repo root).

bbb_160x90.mp4: the first 48 frames of Big Buck Bunny (from ../shared/data,
(c) Blender Foundation, CC-BY 3.0), area-downscaled to 160x90, x264 CRF 20,
25 fps, with a short generated stereo tone as audio so the demo shows audio
being kept.
bbb_val_320x180.mp4: frames 100..119 (held out from training), 320x180, x264
CRF 10 4:4:4: the clean reference of the CI quality test.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
import torch.nn.functional as F

SOURCE = Path("../shared/data/videos/bigbuckbunny_480p.mp4")
TARGET = Path("samples/bbb_160x90.mp4")
FRAMES, SIZE, FPS = 48, (90, 160), 25
# Frames 100..119 are the validation tail of the training data split (never trained on):
# a clean 320x180 reference for the CI quality test.
VAL_TARGET = Path("samples/bbb_val_320x180.mp4")
VAL_FRAMES, VAL_SIZE = range(100, 120), (180, 320)


def write_validation_clip(src: Path) -> None:
    with av.open(str(src)) as inp:
        frames = [f.to_ndarray(format="rgb24") for i, f in enumerate(inp.decode(video=0)) if i in VAL_FRAMES]
    clip = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float()
    small = F.interpolate(clip, size=VAL_SIZE, mode="area").round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    with av.open(str(VAL_TARGET), "w") as out:
        video = out.add_stream("libx264", rate=FPS, options={"crf": "10", "preset": "slow"})
        video.width, video.height, video.pix_fmt = VAL_SIZE[1], VAL_SIZE[0], "yuv444p"
        for rgb in small:
            for packet in video.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    print(f"wrote {VAL_TARGET} ({VAL_TARGET.stat().st_size} bytes)")


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    with av.open(str(src)) as inp:
        frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(FRAMES), inp.decode(video=0))]
    clip = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float()
    small = F.interpolate(clip, size=SIZE, mode="area").round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    with av.open(str(TARGET), "w") as out:
        video = out.add_stream("libx264", rate=FPS, options={"crf": "20", "preset": "slow"})
        video.width, video.height, video.pix_fmt = SIZE[1], SIZE[0], "yuv420p"
        audio = out.add_stream("aac", rate=48000, layout="stereo")
        for i, rgb in enumerate(small):
            for packet in video.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                out.mux(packet)
        samples_per_frame = 1024
        total = int(FRAMES / FPS * 48000)
        t = np.arange(total) / 48000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, total, samples_per_frame):
            chunk = np.stack([tone[start : start + samples_per_frame]] * 2)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = 48000
            frame.pts = start
            frame.time_base = Fraction(1, 48000)
            for packet in audio.encode(frame):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode():
                out.mux(packet)
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")
    write_validation_clip(src)


if __name__ == "__main__":
    main()
