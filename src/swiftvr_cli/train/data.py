"""Clean (ground-truth) training clips and a fixed validation set.

The data folder holds ``photos/*.jpg`` and ``videos/*.mp4`` (see the data README). Clips
come from two kinds of source:

* **photos**, animated with a smooth synthetic camera path (sub-pixel pan that may curve,
  slight zoom and roll), rendered by supersampled bicubic warping so every frame has the
  same sharpness whatever its sub-pixel phase;
* **videos**, as random windows of consecutive frames (optionally every 2nd frame for faster
  motion) with a random crop.

Split (fixed, by source so no content leaks): source photos sorted by name, every 5th one
(index 4, 9, 14, ...) is validation; the last 20 frames of every video are validation only
and training windows never reach them. Files are decoded once with PyAV and cached as uint8.
Validation photo clips use the most textured of a few seeded camera paths.
"""

from __future__ import annotations

import bisect
import math
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import av
import numpy as np
import torch
import torch.nn.functional as F

Range = tuple[float, float]

VAL_EVERY = 5
VAL_OFFSET = 4
VIDEO_VAL_TAIL = 20
_PHOTO_KEY = re.compile(r"^(?P<key>.+?)(?:_full720|_s\d+_\d+)$")


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class PhotoSource:
    """All files cut from one source photograph (tiles and full frame share content)."""

    name: str
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class VideoSource:
    """Frames ``[start, stop)`` of one video file."""

    name: str
    path: Path
    start: int
    stop: int
    width: int
    height: int

    @property
    def num_frames(self) -> int:
        return self.stop - self.start


Source = Union[PhotoSource, VideoSource]


def photo_source_name(path: Path) -> str:
    """Source-photo key of a file: the stem without ``_full720`` / ``_s<size>_<tile>``."""
    stem = Path(path).stem
    match = _PHOTO_KEY.match(stem)
    return match.group("key") if match else stem


def _count_frames(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = stream.frames or sum(1 for _ in container.decode(video=0))
        return count, stream.width, stream.height


def make_split(data_dir: str | Path) -> tuple[list[Source], list[Source]]:
    """Fixed train/validation split of ``data_dir`` (see module docstring)."""
    data_dir = Path(data_dir)
    groups: dict[str, list[Path]] = {}
    for path in sorted((data_dir / "photos").glob("*.jpg")):
        groups.setdefault(photo_source_name(path), []).append(path)
    train: list[Source] = []
    val: list[Source] = []
    for i, name in enumerate(sorted(groups)):
        source = PhotoSource(name, tuple(groups[name]))
        (val if i % VAL_EVERY == VAL_OFFSET else train).append(source)
    for path in sorted((data_dir / "videos").glob("*.mp4")):
        count, width, height = _count_frames(path)
        cut = max(0, count - VIDEO_VAL_TAIL)
        if cut > 0:
            train.append(VideoSource(path.stem, path, 0, cut, width, height))
        val.append(VideoSource(path.stem, path, cut, count, width, height))
    if not train and not val:
        raise FileNotFoundError(f"no photos/*.jpg or videos/*.mp4 under {data_dir}")
    return train, val


# --------------------------------------------------------------------------- decoding


def read_image(path: Path) -> torch.Tensor:
    """Decode an image file with PyAV to ``[3, H, W]`` uint8 RGB."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1).contiguous()


def read_video(path: Path) -> torch.Tensor:
    """Decode every frame of a video to ``[N, 3, H, W]`` uint8 RGB."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous()


class FrameStore:
    """Decodes each file once and keeps it in memory as uint8 (whole data set: ~0.3 GB)."""

    def __init__(self) -> None:
        self._photos: dict[Path, torch.Tensor] = {}
        self._videos: dict[Path, torch.Tensor] = {}

    def photo(self, path: Path) -> torch.Tensor:
        if path not in self._photos:
            self._photos[path] = read_image(path)
        return self._photos[path]

    def video(self, path: Path) -> torch.Tensor:
        if path not in self._videos:
            self._videos[path] = read_video(path)
        return self._videos[path]


# --------------------------------------------------------------------------- random draws


def _rand(g: torch.Generator) -> float:
    return float(torch.rand((), generator=g))


def _uniform(g: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * _rand(g)


def _randint(g: torch.Generator, lo: int, hi: int) -> int:
    """Uniform integer in ``[lo, hi]``."""
    return min(hi, lo + int(_rand(g) * (hi - lo + 1)))


# --------------------------------------------------------------------------- synthetic motion


@dataclass(frozen=True)
class MotionConfig:
    """Camera path for photo clips. Speeds are in output pixels per frame."""

    max_speed: float = 4.0
    max_accel: float = 0.25  # curves and eases the pan
    max_zoom: float = 0.01  # relative scale change per frame
    max_rotation: float = 0.3  # degrees per frame
    scale: Range = (1.0, 1.8)  # source pixels per output pixel; >= 1 keeps the GT sharp
    supersample: int = 2  # render at 2x and box-average: a camera pixel's integration
    # Real cameras also pan fast: with this probability the speed is drawn from
    # [max_speed, fast_speed] instead of [0, max_speed].
    fast_prob: float = 0.0
    fast_speed: float = 30.0
    # Fraction of the frame interval the shutter is open, drawn per clip. Above 0 the
    # ground truth is the average of sub-frames along the path (motion blur), so soft
    # moving content is taught as something to keep, not to sharpen.
    shutter: Range = (0.0, 0.0)
    max_subframes: int = 12


# Camera speeds and shutters of real footage: half the clips pan at 4-30 px/frame, with a
# shutter open for up to the whole frame interval.
REAL_MOTION = MotionConfig(fast_prob=0.5, fast_speed=30.0, shutter=(0.0, 1.0))

# Gentle motion for validation clips, and how many seeded paths to choose from per photo.
VAL_MOTION = MotionConfig(max_speed=3.0, max_accel=0.15, max_zoom=0.008, max_rotation=0.2, scale=(1.2, 1.6))
VAL_CANDIDATES = 8


def _rotation(theta: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)  # [T, 2, 2]


def synth_motion_clip(
    image: torch.Tensor, clip_len: int, size: tuple[int, int], cfg: MotionConfig, g: torch.Generator
) -> torch.Tensor:
    """Film ``image`` (``[3, H, W]`` uint8) with a moving virtual camera.

    Returns ``[clip_len, 3, h, w]`` float in [0, 1] for ``size=(h, w)``. If the path does not
    fit in the photo, the whole path (offsets and scale) is shrunk until it does.
    """
    h, w = size
    src_h, src_w = image.shape[-2:]
    tc = torch.arange(clip_len, dtype=torch.float64) - (clip_len - 1) / 2
    s0 = math.exp(_uniform(g, math.log(cfg.scale[0]), math.log(cfg.scale[1])))
    fast = cfg.fast_prob > 0 and _rand(g) < cfg.fast_prob
    speed = _uniform(g, cfg.max_speed, cfg.fast_speed) if fast else _uniform(g, 0.0, cfg.max_speed)
    heading = _uniform(g, 0.0, 2 * math.pi)
    accel, accel_dir = _uniform(g, 0.0, cfg.max_accel), _uniform(g, 0.0, 2 * math.pi)
    zoom = _uniform(g, -cfg.max_zoom, cfg.max_zoom)
    roll = math.radians(_uniform(g, -cfg.max_rotation, cfg.max_rotation))

    shutter = _uniform(g, *cfg.shutter) if cfg.shutter[1] > 0 else 0.0
    # Sub-frames sample the open shutter about every 1.5 output pixels of travel.
    subframes = max(1, min(cfg.max_subframes, math.ceil(speed * shutter / 1.5) + 1)) if shutter > 0 else 1
    if subframes > 1:
        tc = (tc[:, None] + shutter * (torch.linspace(0.0, 1.0, subframes, dtype=torch.float64) - 0.5)).flatten()

    vel = torch.tensor([math.cos(heading), math.sin(heading)], dtype=torch.float64) * speed
    acc = torch.tensor([math.cos(accel_dir), math.sin(accel_dir)], dtype=torch.float64) * accel
    offset = (vel * tc[:, None] + 0.5 * acc * tc[:, None] ** 2) * s0  # [T*S, 2] source px
    scale = s0 * (1.0 + zoom) ** tc  # [T*S]
    rot = _rotation(roll * tc)  # [T*S, 2, 2]

    corners = torch.tensor([[-w / 2, -h / 2], [w / 2, -h / 2], [-w / 2, h / 2], [w / 2, h / 2]], dtype=torch.float64)
    pts = offset[:, None] + scale[:, None, None] * torch.einsum("tij,cj->tci", rot, corners)
    lo, hi = pts.reshape(-1, 2).min(0).values, pts.reshape(-1, 2).max(0).values
    margin = 2.0  # bicubic support
    avail = torch.tensor([src_w - 2 * margin, src_h - 2 * margin], dtype=torch.float64)
    shrink = float(torch.clamp(avail / (hi - lo), max=1.0).min())
    offset, scale, lo, hi = offset * shrink, scale * shrink, lo * shrink, hi * shrink
    cx = _uniform(g, margin - float(lo[0]), src_w - margin - float(hi[0]))
    cy = _uniform(g, margin - float(lo[1]), src_h - margin - float(hi[1]))

    # Crop the region the path covers so the warp touches only what it needs.
    x0, y0 = max(0, math.floor(cx + lo[0] - margin)), max(0, math.floor(cy + lo[1] - margin))
    x1, y1 = min(src_w, math.ceil(cx + hi[0] + margin)), min(src_h, math.ceil(cy + hi[1] + margin))
    region = image[:, y0:y1, x0:x1].float() / 255.0

    ss = cfg.supersample
    u = (torch.arange(w * ss, dtype=torch.float64) + 0.5) / ss - w / 2
    v = (torch.arange(h * ss, dtype=torch.float64) + 0.5) / ss - h / 2
    vv, uu = torch.meshgrid(v, u, indexing="ij")
    local = torch.stack([uu, vv], -1)  # [h*ss, w*ss, 2] output px
    src = torch.einsum("tij,hwj->thwi", rot, local) * scale[:, None, None, None]
    src = src + offset[:, None, None] + torch.tensor([cx - x0, cy - y0], dtype=torch.float64)
    norm = torch.tensor([region.shape[-1], region.shape[-2]], dtype=torch.float64)
    grid = (2.0 * src / norm - 1.0).float()
    frames = F.grid_sample(
        region[None].expand(grid.shape[0], -1, -1, -1), grid, mode="bicubic", padding_mode="border", align_corners=False
    )
    frames = F.avg_pool2d(frames, ss)
    if subframes > 1:  # the shutter integrates the sub-frames
        frames = frames.unflatten(0, (clip_len, subframes)).mean(1)
    return frames.clamp(0.0, 1.0)


# --------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class SamplerConfig:
    video_prob: float = 0.3  # share of clips from videos when both kinds are present
    video_strides: tuple[int, ...] = (1, 2)  # temporal subsampling choices for video windows
    flips: bool = True  # horizontal / vertical flips
    rot90: bool = True  # transpose (square patches only)
    reverse_prob: float = 0.5  # play the clip backwards
    motion: MotionConfig = field(default_factory=MotionConfig)
    # Relative weights of named videos when a clip comes from video (1 for the rest): footage
    # of a kind that one video alone carries (an old codec's blocks in its ground truth) can
    # be seen more often without repeating the others.
    video_weights: dict[str, float] = field(default_factory=dict)


def augment(clip: torch.Tensor, cfg: SamplerConfig, g: torch.Generator) -> torch.Tensor:
    """Same random flip / rotation for every frame, optional time reversal."""
    if cfg.flips and _rand(g) < 0.5:
        clip = clip.flip(-1)
    if cfg.flips and _rand(g) < 0.5:
        clip = clip.flip(-2)
    if cfg.rot90 and clip.shape[-1] == clip.shape[-2] and _rand(g) < 0.5:
        clip = clip.transpose(-1, -2)
    if _rand(g) < cfg.reverse_prob:
        clip = clip.flip(0)
    return clip.contiguous()


class ClipSampler:
    """Random clean clips ``[T, 3, P, P]`` in [0, 1] from photo and video sources."""

    def __init__(
        self,
        sources: list[Source],
        clip_len: int,
        patch: int,
        seed: int = 0,
        config: SamplerConfig | None = None,
    ) -> None:
        if clip_len < 1 or patch < 1:
            raise ValueError("clip_len and patch must be positive")
        self.photos = [s for s in sources if isinstance(s, PhotoSource)]
        self.videos = [s for s in sources if isinstance(s, VideoSource)]
        if not self.photos and not self.videos:
            raise ValueError("no sources to sample from")
        for video in self.videos:
            if video.num_frames < clip_len or min(video.width, video.height) < patch:
                raise ValueError(f"video {video.name} is too short or small for {clip_len}x{patch}px clips")
        self.clip_len = clip_len
        self.patch = patch
        self.config = config or SamplerConfig()
        self._video_cumulative = self._cumulative_weights(self.config.video_weights)
        self.generator = torch.Generator().manual_seed(seed)
        self.store = FrameStore()

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """One clip; uses the sampler's own seeded generator unless one is given."""
        g = generator if generator is not None else self.generator
        use_video = bool(self.videos) and (not self.photos or _rand(g) < self.config.video_prob)
        clip = self._from_video(g) if use_video else self._from_photo(g)
        return augment(clip, self.config, g)

    def batch(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` clips stacked to ``[n, T, 3, P, P]``."""
        return torch.stack([self.sample(generator) for _ in range(n)])

    def _from_photo(self, g: torch.Generator) -> torch.Tensor:
        source = self.photos[_randint(g, 0, len(self.photos) - 1)]
        path = source.paths[_randint(g, 0, len(source.paths) - 1)]
        image = self.store.photo(path)
        return synth_motion_clip(image, self.clip_len, (self.patch, self.patch), self.config.motion, g)

    def _cumulative_weights(self, weights: dict[str, float]) -> list[float] | None:
        """Running sums of the videos' sampling weights; None when all are equal."""
        if not weights:
            return None
        names = {video.name for video in self.videos}
        unknown = sorted(set(weights) - names)
        if unknown:
            raise ValueError(f"video_weights names {unknown}, not among the training videos {sorted(names)}")
        if any(w < 0 or not math.isfinite(w) for w in weights.values()):
            raise ValueError("video_weights must be finite and non-negative")
        running, total = [], 0.0
        for video in self.videos:
            total += weights.get(video.name, 1.0)
            running.append(total)
        if total <= 0:
            raise ValueError("video_weights leave no video to sample")
        return running

    def _pick_video(self, g: torch.Generator) -> VideoSource:
        if self._video_cumulative is None:
            return self.videos[_randint(g, 0, len(self.videos) - 1)]
        u = _rand(g) * self._video_cumulative[-1]
        return self.videos[min(bisect.bisect_right(self._video_cumulative, u), len(self.videos) - 1)]

    def _from_video(self, g: torch.Generator) -> torch.Tensor:
        source = self._pick_video(g)
        strides = [s for s in self.config.video_strides if (self.clip_len - 1) * s < source.num_frames] or [1]
        stride = strides[_randint(g, 0, len(strides) - 1)]
        span = (self.clip_len - 1) * stride + 1
        first = source.start + _randint(g, 0, source.num_frames - span)
        top = _randint(g, 0, source.height - self.patch)
        left = _randint(g, 0, source.width - self.patch)
        frames = self.store.video(source.path)[first : first + span : stride]
        return frames[:, :, top : top + self.patch, left : left + self.patch].float() / 255.0


# --------------------------------------------------------------------------- validation


def _representative_photo(source: PhotoSource) -> Path:
    """The full frame if there is one, else the native photo, else the first tile."""
    for path in source.paths:
        if path.stem.endswith("_full720") or path.stem == source.name:
            return path
    return source.paths[0]


def _texture(clip: torch.Tensor) -> float:
    """Mean absolute luma gradient of the middle frame (0..1 scale)."""
    y = clip[clip.shape[0] // 2].mean(0)
    return float((y[1:] - y[:-1]).abs().mean() + (y[:, 1:] - y[:, :-1]).abs().mean())


def _val_photo_clip(image: torch.Tensor, name: str, clip_len: int, size: tuple[int, int]) -> torch.Tensor:
    """The most textured of ``VAL_CANDIDATES`` camera paths seeded by the photo's name:
    flat sky or bokeh says little about restoration quality."""
    seed = zlib.crc32(name.encode())
    candidates = [
        synth_motion_clip(image, clip_len, size, VAL_MOTION, torch.Generator().manual_seed(seed + k))
        for k in range(VAL_CANDIDATES)
    ]
    return max(candidates, key=_texture)


def validation_clips(
    data_dir: str | Path, clip_len: int = 9, size: tuple[int, int] = (256, 192)
) -> list[tuple[str, torch.Tensor]]:
    """Deterministic validation clips ``(name, [T, 3, H, W])`` with ``size=(W, H)``.

    One synthetic-motion clip per validation photo (see ``_val_photo_clip``) and the first
    ``clip_len`` held-out frames of each video, centre-cropped.
    """
    width, height = size
    _, val = make_split(data_dir)
    store = FrameStore()
    clips: list[tuple[str, torch.Tensor]] = []
    for source in val:
        if isinstance(source, PhotoSource):
            image = store.photo(_representative_photo(source))
            clip = _val_photo_clip(image, source.name, clip_len, (height, width))
            clips.append((f"photo_{source.name}", clip))
        else:
            if source.num_frames < clip_len or source.height < height or source.width < width:
                raise ValueError(f"held-out part of {source.name} is too short or small")
            frames = store.video(source.path)[source.start : source.start + clip_len]
            clips.append((f"video_{source.name}", centre_box(frames, source, width, height)))
    return clips


REAL_EVAL_SIZE = (384, 288)  # (W, H): the largest crop of real footage that models are judged on


def centre_box(frames: torch.Tensor, source: VideoSource, width: int, height: int) -> torch.Tensor:
    """uint8 frames [T, 3, H, W] of ``source`` -> their centre ``width`` x ``height``, in [0, 1]."""
    top, left = (source.height - height) // 2, (source.width - width) // 2
    return frames[:, :, top : top + height, left : left + width].float() / 255.0


def centre_crop(frames: torch.Tensor, source: VideoSource, max_size: tuple[int, int] = REAL_EVAL_SIZE) -> torch.Tensor:
    """uint8 frames [T, 3, H, W] of ``source`` -> their centre crop of at most ``max_size=(W, H)``
    (multiples of 8), in [0, 1]."""
    width, height = (min(m, s) // 8 * 8 for m, s in zip(max_size, (source.width, source.height)))
    return centre_box(frames, source, width, height)


def real_validation_clips(
    data_dir: str | Path, clip_len: int = VIDEO_VAL_TAIL, max_size: tuple[int, int] = REAL_EVAL_SIZE
) -> list[tuple[str, torch.Tensor]]:
    """The held-out real footage: the last ``clip_len`` frames of every video (never seen in
    training), centre-cropped to at most ``max_size=(W, H)`` (multiples of 8), as
    ``(name, [T, 3, H, W])`` in [0, 1]. Real frames are soft where the camera moved or
    defocused, which synthetic pans over photos never are: what a shipped model is judged on."""
    _, val = make_split(data_dir)
    store = FrameStore()
    clips: list[tuple[str, torch.Tensor]] = []
    for source in val:
        if not isinstance(source, VideoSource):
            continue
        frames = store.video(source.path)[source.start : source.start + clip_len]
        clips.append((source.name, centre_crop(frames, source, max_size)))
    return clips
