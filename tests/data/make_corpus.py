"""Bad and unusual inputs for the reliability tests, generated on demand.

Nothing here is committed as media: ``build(folder)`` writes every case into
a (temporary) folder in a few seconds, so the repository stays small. Run it
by hand to inspect the files: ``python tests/data/make_corpus.py OUTDIR``.
"""

from __future__ import annotations

import os
import sys
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

if __package__ in (None, ""):  # run as a script: make `tests.media` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import media  # noqa: E402

SIZE = (48, 32)  # small enough that the fast test model restores a clip in about a second


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _packets(path: Path) -> list[av.Packet]:
    with av.open(str(path)) as container:
        return [p for p in container.demux(video=0) if p.size]


def corrupt_middle(source: Path, target: Path, seed: int = 1) -> Path:
    """Overwrite the middle video packet with random bytes, as a bad disk sector would.

    The container stays valid; the codec data (the NAL length fields included)
    is garbage, so decoders report it instead of silently concealing a few
    flipped bits.
    """
    packets = _packets(source)
    middle = packets[len(packets) // 2]
    data = bytearray(source.read_bytes())
    start, length = middle.pos, middle.size
    data[start : start + length] = np.random.default_rng(seed).integers(0, 256, length, dtype=np.uint8).tobytes()
    return _write(target, bytes(data))


def two_video_streams(path: Path, frames: int = 6) -> Path:
    """Matroska with stream 0 at 48x32 and stream 1 at 32x48 (so the pick is visible in the output)."""
    with av.open(str(path), "w") as container:
        streams = []
        for width, height in (SIZE, SIZE[::-1]):
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            streams.append(stream)
        for i in range(frames):
            for stream in streams:
                rgb = media.pattern_rgb(i, stream.width, stream.height, frames)
                frame = av.VideoFrame.from_ndarray(np.round(rgb * 255).astype(np.uint8), format="rgb24")
                frame = frame.reformat(format="yuv420p")
                frame.pts, frame.time_base = i, Fraction(1, 25)
                container.mux(stream.encode(frame))
        for stream in streams:
            container.mux(stream.encode(None))
    return path


def huge_png(path: Path, side: int = 8000) -> Path:
    """A valid side x side grey PNG (a one-frame video to FFmpeg), written in ~0.1 s and ~70 kB."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])  # 8-bit greyscale
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * side  # filter byte + mid-grey pixels
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return _write(path, b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def y4m(width: int, height: int, frames: int, rgb_index: int = 0) -> bytes:
    """A raw 4:2:0 YUV4MPEG2 stream (what `ffmpeg -f yuv4mpegpipe` sends)."""
    out = [f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\n".encode()]
    for i in range(frames):
        rgb = media.pattern_rgb(rgb_index + i, width, height, frames)
        frame = av.VideoFrame.from_ndarray(np.round(rgb * 255).astype(np.uint8), format="rgb24").reformat(format="yuv420p")
        out.append(b"FRAME\n" + frame.to_ndarray().tobytes())  # planes without line padding
    return b"".join(out)


def build(folder: str | os.PathLike) -> dict[str, Path]:
    """Write every case into ``folder``; returns case name -> path."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Path] = {}

    def add(name: str, path: Path | str) -> None:
        cases[name] = Path(path)

    add("missing", d / "missing.mp4")
    (d / "empty_dir").mkdir(exist_ok=True)
    add("directory", d / "empty_dir")
    add("unreadable", media.make_video(d / "unreadable.mp4", frames=3, size=SIZE))
    add("zero_byte", _write(d / "zero.mp4", b""))
    add("text_as_mp4", _write(d / "notes.mp4", b"this is a shopping list, not a video\n" * 20))
    # Fixed bytes, not made here: a 30-frame clip (make_video, x264 with one thread and no
    # B-frames, +faststart) cut after 60 % of its bytes. Made in the test process, the clip's
    # bytes were seen to differ late in a full suite (2 of ~15 runs; cause not found), which
    # moved the cut to another frame and broke the frame-exact checks below.
    add("truncated", _write(d / "truncated.mp4", (Path(__file__).parent / "truncated.mp4").read_bytes()))
    add("clean", media.make_video(d / "clean.mp4", frames=20, size=SIZE))
    add("corrupt", corrupt_middle(cases["clean"], d / "corrupt.mp4"))
    add("audio_only", media.make_audio_only(d / "sound.m4a"))
    add("two_video_streams", two_video_streams(d / "two_streams.mkv"))
    add("one_frame", media.make_video(d / "one_frame.mp4", frames=1, size=SIZE))
    add("odd_333x187", media.make_video(d / "odd_333x187.mkv", frames=2, size=(333, 187), codec="ffv1"))
    add("tiny_1x1", media.make_video(d / "tiny_1x1.mkv", frames=3, size=(1, 1), codec="ffv1", pix_fmt="yuv444p"))
    add("huge_8000x8000", huge_png(d / "huge_8000x8000.png"))
    add("rotated", media.make_video(d / "phone.mp4", frames=6, size=SIZE, rotation=90, audio=True))
    add("interlaced", media.make_video(d / "interlaced.mkv", frames=6, size=SIZE, options={"x264-params": "interlaced=1:tff=1"}))
    # 64 wide: libx265 corrupts the heap below 64 pixels of width (FFmpeg/x265 of PyAV's wheel)
    add("hevc_10bit", media.make_video(d / "hevc10.mkv", frames=5, size=(64, 48), codec="libx265", pix_fmt="yuv420p10le", content="gray"))
    add("vfr", media.make_video(d / "vfr.mkv", frames=12, size=SIZE, vfr=True, audio=True))
    add("bad_y4m", _write(d / "bad.y4m", b"YUV4MPEG2 W-5 Hbanana F25:1\nFRAME\n" + b"\x10" * 64))
    stream = y4m(*SIZE, frames=6)
    frame_bytes = SIZE[0] * SIZE[1] * 3 // 2 + len(b"FRAME\n")
    add("y4m_cut", _write(d / "cut.y4m", stream[: len(stream) - frame_bytes // 2]))  # 5 whole frames + half of one
    add("clip", media.make_video(d / "clip.mp4", frames=30, size=SIZE, audio=True))
    return cases


if __name__ == "__main__":
    for name, path in build(sys.argv[1] if len(sys.argv) > 1 else "corpus").items():
        print(f"{name:20s} {path}")
