"""Tiny test media made with PyAV (importable by any test folder).

Frames show a moving sine stripe (red), a vertical ramp (green) and a
scrolling checkerboard (blue), so order and motion are recognisable.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np

ASS_HEADER = (
    "[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n"
    "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
    "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
    "MarginL, MarginR, MarginV, Encoding\n"
    "Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
).encode()


def pattern_rgb(index: int, width: int, height: int, frames: int = 12) -> np.ndarray:
    """Float [H,W,3] RGB in [0,1] for frame ``index``."""
    x = np.arange(width, dtype=np.float64)[None, :]
    y = np.arange(height, dtype=np.float64)[:, None]
    red = 0.5 + 0.4 * np.sin(2 * np.pi * (x / width + index / max(frames, 1)))
    green = np.broadcast_to(y / max(height - 1, 1), (height, width))
    blue = (((x // 8 + y // 8 + index) % 2) * 0.6 + 0.2)
    red, blue = np.broadcast_to(red, (height, width)), np.broadcast_to(blue, (height, width))
    return np.stack([red, green, blue], axis=-1)


def moving_waves(frames: int = 20, height: int = 60, width: int = 80) -> np.ndarray:
    """[T, H, W, 3] uint8: a noisy pattern moving 2 px a frame, real work for x264's motion
    search and macroblock tree (where its run-to-run variation showed)."""
    yy, xx = np.mgrid[0:height, 0:width]
    waves = [np.stack([128 + 60 * np.sin((xx + 2 * i) / 5.0 + c) + 40 * np.cos(yy / 7.0) for c in range(3)], -1) for i in range(frames)]
    noise = np.random.default_rng(0).normal(0, 8, (frames, height, width, 3))
    return np.clip(np.stack(waves) + noise, 0, 255).astype(np.uint8)


def gray_ramp(width: int, height: int) -> np.ndarray:
    """Float [H,W,3] diagonal grey ramp: many distinct levels, no chroma."""
    x = np.arange(width, dtype=np.float64)[None, :] / max(width - 1, 1)
    y = np.arange(height, dtype=np.float64)[:, None] / max(height - 1, 1)
    grey = (0.05 + 0.9 * (0.7 * x + 0.3 * y))
    return np.repeat(grey[..., None], 3, axis=-1)


def vfr_pts(frames: int, fps: int) -> list[int]:
    """Millisecond timestamps alternating half and 1.5x the nominal frame period."""
    period = 1000 / fps
    stamps, t = [], 0.0
    for i in range(frames):
        stamps.append(round(t))
        t += period * (0.5 if i % 2 == 0 else 1.5)
    return stamps


def video_frame(rgb: np.ndarray, pix_fmt: str) -> av.VideoFrame:
    deep = any(tag in pix_fmt for tag in ("10", "12", "16"))
    if deep:
        frame = av.VideoFrame.from_ndarray(np.round(rgb * 65535).astype(np.uint16), format="rgb48le")
    else:
        frame = av.VideoFrame.from_ndarray(np.round(rgb * 255).astype(np.uint8), format="rgb24")
    return frame.reformat(format=pix_fmt)


def _audio_stream(container: av.container.OutputContainer, codec: str) -> av.audio.stream.AudioStream:
    if codec == "pcm_u8":
        return container.add_stream(codec, rate=8000, layout="mono")
    return container.add_stream(codec, rate=48000, layout="stereo")


def _write_audio(container: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float) -> None:
    rate = stream.codec_context.sample_rate
    layout, fmt = ("mono", "u8") if stream.codec_context.name == "pcm_u8" else ("stereo", "fltp")
    chunk = 1024
    total = int(rate * seconds)
    rng = np.random.default_rng(7)
    for start in range(0, total, chunk):
        n = min(chunk, total - start)
        t = (start + np.arange(n)) / rate
        wave = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(n)
        channels = 1 if layout == "mono" else 2
        if fmt == "u8":
            data = np.clip(128 + 100 * wave, 0, 255).astype(np.uint8)[None, :]
        else:
            data = np.repeat(wave.astype(np.float32)[None, :], channels, axis=0)
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout=layout)
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _subtitle_stream(container: av.container.OutputContainer) -> av.stream.Stream:
    stream = container.add_stream("subrip")
    stream.codec_context.subtitle_header = ASS_HEADER
    return stream


def _write_subtitles(
    container: av.container.OutputContainer, stream: av.stream.Stream, texts: list[str], seconds: float
) -> None:
    from av.subtitles.subtitle import SubtitleSet

    step = seconds / max(len(texts), 1)
    for i, text in enumerate(texts):
        start_ms = int(i * step * 1000)
        subtitle = SubtitleSet.create(f"0,0,Default,,0,0,0,,{text}".encode(), 0, int(step * 900), pts=start_ms)
        packet = stream.codec_context.encode_subtitle(subtitle)
        packet.stream = stream
        packet.time_base = stream.time_base
        container.mux(packet)


def make_video(
    path: str | os.PathLike,
    frames: int = 12,
    size: tuple[int, int] = (64, 48),
    fps: int = 25,
    audio: bool = False,
    subtitles: bool = False,
    vfr: bool = False,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    audio_codec: str = "aac",
    content: str = "pattern",
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
    title: str | None = None,
    chapters: bool = False,
) -> str:
    """Write a short test video and return its path.

    ``content="gray"`` gives a smooth grey ramp (useful for bit-depth checks).
    ``options`` go to the video encoder, ``container_options`` to the muxer
    (e.g. ``{"movflags": "+faststart"}``). Subtitles need a Matroska path.
    ``chapters`` adds two chapters splitting the clip in half.
    """
    path = os.fspath(path)
    width, height = size
    with av.open(path, "w", options=container_options or {}) as container:
        if title:
            container.metadata["title"] = title
        if chapters:
            half = round(frames / fps * 500)
            container.set_chapters([
                {"id": 1, "start": 0, "end": half, "time_base": Fraction(1, 1000), "metadata": {"title": "One"}},
                {"id": 2, "start": half, "end": 2 * half, "time_base": Fraction(1, 1000), "metadata": {"title": "Two"}},
            ])
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        time_base = Fraction(1, 1000) if vfr else Fraction(1, fps)
        stream.codec_context.time_base = time_base
        opts = {"x265-params": "log-level=error"} if codec == "libx265" else {}
        opts.update(options or {})
        if opts:
            stream.options = opts
        if rotation:
            stream.set_display_rotation(rotation)
        audio_stream = _audio_stream(container, audio_codec) if audio else None
        subtitle_stream = _subtitle_stream(container) if subtitles else None
        stamps = vfr_pts(frames, fps) if vfr else list(range(frames))
        for i in range(frames):
            rgb = gray_ramp(width, height) if content == "gray" else pattern_rgb(i, width, height, frames)
            frame = video_frame(rgb, pix_fmt)
            frame.pts = stamps[i]
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        seconds = frames / fps
        if audio_stream is not None:
            _write_audio(container, audio_stream, seconds)
        if subtitle_stream is not None:
            _write_subtitles(container, subtitle_stream, ["Hello", "World"], seconds)
    return path


def make_audio_only(path: str | os.PathLike, seconds: float = 0.5, cover: bool = False) -> str:
    """An AAC file; ``cover`` adds album art (a PNG video stream flagged attached_pic)."""
    path = os.fspath(path)
    with av.open(path, "w") as container:
        art = None
        if cover:
            art = container.add_stream("png")
            art.width, art.height, art.pix_fmt = 32, 32, "rgb24"
            art.disposition = av.stream.Disposition.attached_pic
        audio = _audio_stream(container, "aac")
        if art is not None:
            picture = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 128, np.uint8), format="rgb24")
            for packet in art.encode(picture):
                packet.pts = packet.dts = 0
                container.mux(packet)
        _write_audio(container, audio, seconds)
    return path


def make_images(
    folder: str | os.PathLike,
    count: int = 5,
    size: tuple[int, int] = (64, 48),
    names: str = "%05d.png",
    bits: int = 8,
    start: int = 0,
) -> list[str]:
    """Write ``count`` pattern images named by ``names`` % index; return their paths."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    width, height = size
    paths = []
    for i in range(count):
        rgb = pattern_rgb(i, width, height, count)
        if bits == 16:
            frame = av.VideoFrame.from_ndarray(np.round(rgb * 65535).astype(np.uint16), format="rgb48le")
            frame = frame.reformat(format="rgb48be")
        else:
            frame = av.VideoFrame.from_ndarray(np.round(rgb * 255).astype(np.uint8), format="rgb24")
        path = os.path.join(folder, names % (start + i))
        write_png(frame, path)
        paths.append(path)
    return paths


def write_png(frame: av.VideoFrame, path: str) -> None:
    """Encode one frame (rgb24 or rgb48be) as a PNG file."""
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = frame.width, frame.height, frame.format.name
    with open(path, "wb") as handle:
        for packet in encoder.encode(frame):
            handle.write(bytes(packet))


def packets_of(path: str | os.PathLike, kind: str) -> list[bytes]:
    """Payloads of every packet of the first stream of ``kind`` ("audio", "subtitle", "video")."""
    with av.open(os.fspath(path)) as container:
        streams = [s for s in container.streams if s.type == kind]
        if not streams:
            return []
        return [bytes(p) for p in container.demux(streams[0]) if p.size]


def frame_times(path: str | os.PathLike) -> list[float]:
    """Presentation times (seconds) of every decoded video frame."""
    with av.open(os.fspath(path)) as container:
        return [float(f.pts * f.time_base) for f in container.decode(video=0)]


SHORT_LAST_RATE = 15360  # ticks per second of ``variable_rate_mp4``'s time base
SHORT_LAST_STAMPS = (0, 1000, 1400, 2600, 3000)  # ``short_last_frame_mp4``'s pts from its start
SHORT_LAST_END = 3150  # where its last frame stops showing
# The last 8 frames of a real variable-rate camera clip (OpenCV's tree sample), its end 1024 ticks
# after the last frame: the kind of timing that showed the joins' stretched end.
CAMERA_STAMPS = (0, 8192, 14336, 21504, 27648, 34816, 41984, 48128)
CAMERA_END = 49152


def short_last_frame_mp4(path: str | os.PathLike, start: int = 0) -> str:
    """Five frames at a variable rate, the last shown for 150 ticks, while one average
    frame (what a muxer guesses) would be 630. Off whole milliseconds, as a 1/15360 time
    base usually is."""
    return variable_rate_mp4(path, [start + t for t in SHORT_LAST_STAMPS], start + SHORT_LAST_END)


def variable_rate_mp4(path: str | os.PathLike, stamps: list[int], end: int) -> str:
    """Frames at ``stamps`` (1/15360 s), the last one shown until ``end``; the moving
    pattern. MPEG-4 part 2: no frame reordering, so each packet's duration is its own
    frame's."""
    path = os.fspath(path)
    time_base = Fraction(1, SHORT_LAST_RATE)
    ends = [*stamps[1:], end]
    # MP4's default movie timescale (1000) would move a start off whole milliseconds
    with av.open(path, "w", options={"movie_timescale": str(SHORT_LAST_RATE)}) as container:
        stream = container.add_stream("mpeg4", rate=15)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = time_base
        for i, pts in enumerate(stamps):
            frame = video_frame(pattern_rgb(i, 64, 48, len(stamps)), "yuv420p")
            frame.pts, frame.time_base = pts, time_base
            for packet in [*stream.encode(frame), *(stream.encode(None) if i == len(stamps) - 1 else [])]:
                packet.duration = ends[stamps.index(packet.pts)] - packet.pts
                container.mux(packet)
    return path


Box = tuple[int, int, int, int]  # x, y, width, height


def mask_array(size: tuple[int, int], box: Box) -> np.ndarray:
    """uint8 [H, W] fill mask: 255 (fill) inside ``box``, 0 elsewhere."""
    width, height = size
    x, y, w, h = box
    mask = np.zeros((height, width), np.uint8)
    mask[y : y + h, x : x + w] = 255
    return mask


def make_mask_image(path: str | os.PathLike, size: tuple[int, int], box: Box) -> str:
    """A black PNG with a white ``box`` (the pixels to fill)."""
    path = os.fspath(path)
    grey = mask_array(size, box)
    write_png(av.VideoFrame.from_ndarray(np.repeat(grey[..., None], 3, axis=-1), format="rgb24"), path)
    return path


def make_mask_video(path: str | os.PathLike, size: tuple[int, int], boxes: list[Box], fps: int = 25) -> str:
    """A lossless (FFV1, grey) mask video: frame i is black with a white ``boxes[i]``."""
    path = os.fspath(path)
    width, height = size
    with av.open(path, "w") as container:
        stream = container.add_stream("ffv1", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "gray"
        for i, box in enumerate(boxes):
            frame = av.VideoFrame.from_ndarray(mask_array(size, box), format="gray")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
