"""Clip sources, split and sampling on a tiny synthetic data folder (plus the real one if present)."""

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from swiftvr_cli.train import data as Dt

REAL_DATA = Path(os.environ.get("SWIFTVR_DATA", "/work/shared/data"))
VIDEO_FRAMES = 32


def _write_jpeg(path: Path, img: np.ndarray) -> None:
    enc = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height, enc.pix_fmt = img.shape[1], img.shape[0], "yuvj444p"
    enc.time_base = Fraction(1, 25)
    enc.options = {"qmin": "2", "qmax": "2"}
    frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuvj444p")
    path.write_bytes(b"".join(bytes(p) for p in list(enc.encode(frame)) + list(enc.encode(None))))


def _level(i: int) -> int:
    """Grey level that encodes the frame index of the test video."""
    return 40 + 4 * i


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    (root / "photos").mkdir()
    (root / "videos").mkdir()
    rng = np.random.default_rng(0)
    names = ["alpha_full720", "alpha_s960_00", "bravo", "charlie_s1280_01", "charlie_s1280_10", "delta", "echo_full720"]
    for name in names:
        img = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
        _write_jpeg(root / "photos" / f"{name}.jpg", img)
    with av.open(str(root / "videos" / "clip.mp4"), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"crf": "0", "preset": "ultrafast"}
        for i in range(VIDEO_FRAMES):
            img = np.full((48, 64, 3), _level(i), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    return root


def test_source_names() -> None:
    assert Dt.photo_source_name(Path("plasma_Kite_s1280_12.jpg")) == "plasma_Kite"
    assert Dt.photo_source_name(Path("jxl_flower_full720.jpg")) == "jxl_flower"
    assert Dt.photo_source_name(Path("skimage_coffee.jpg")) == "skimage_coffee"


def test_split_by_source_and_video_tail(data_dir: Path) -> None:
    train, val = Dt.make_split(data_dir)
    train_photos = {s.name for s in train if isinstance(s, Dt.PhotoSource)}
    val_photos = {s.name for s in val if isinstance(s, Dt.PhotoSource)}
    assert val_photos == {"echo"}  # 5 sources sorted, index 4
    assert train_photos == {"alpha", "bravo", "charlie", "delta"}
    assert len(next(s for s in train if s.name == "alpha").paths) == 2
    (train_video,) = [s for s in train if isinstance(s, Dt.VideoSource)]
    (val_video,) = [s for s in val if isinstance(s, Dt.VideoSource)]
    assert (train_video.start, train_video.stop) == (0, VIDEO_FRAMES - Dt.VIDEO_VAL_TAIL)
    assert (val_video.start, val_video.stop) == (VIDEO_FRAMES - Dt.VIDEO_VAL_TAIL, VIDEO_FRAMES)


def test_sampler_shapes_and_determinism(data_dir: Path) -> None:
    train, _ = Dt.make_split(data_dir)
    sampler = Dt.ClipSampler(train, clip_len=5, patch=32, seed=0)
    clips = [sampler.sample(torch.Generator().manual_seed(3)) for _ in range(2)]
    assert clips[0].shape == (5, 3, 32, 32) and clips[0].dtype == torch.float32
    assert torch.equal(clips[0], clips[1])
    assert 0.0 <= float(clips[0].min()) and float(clips[0].max()) <= 1.0
    a = Dt.ClipSampler(train, 5, 32, seed=1).batch(3)
    b = Dt.ClipSampler(train, 5, 32, seed=1).batch(3)
    assert a.shape == (3, 5, 3, 32, 32) and torch.equal(a, b)


def test_video_windows_never_reach_the_validation_tail(data_dir: Path) -> None:
    train, _ = Dt.make_split(data_dir)
    videos = [s for s in train if isinstance(s, Dt.VideoSource)]
    sampler = Dt.ClipSampler(videos, clip_len=4, patch=32, seed=0)
    first_val_level = _level(VIDEO_FRAMES - Dt.VIDEO_VAL_TAIL)
    seen = set()
    for _ in range(40):
        levels = (sampler.sample().mean(dim=(1, 2, 3)) * 255).round()
        assert float(levels.max()) < first_val_level - 1
        seen.update(levels.tolist())
    assert max(seen) >= first_val_level - 6  # windows do reach the last training frames


def test_photo_motion_is_smooth_and_static_without_motion(data_dir: Path) -> None:
    image = Dt.read_image(data_dir / "photos" / "bravo.jpg")
    still = Dt.MotionConfig(max_speed=0, max_accel=0, max_zoom=0, max_rotation=0)
    clip = Dt.synth_motion_clip(image, 4, (40, 48), still, torch.Generator().manual_seed(0))
    assert clip.shape == (4, 3, 40, 48)
    assert all(torch.equal(clip[0], clip[t]) for t in range(4))
    moving = Dt.MotionConfig(max_speed=3.0, scale=(1.0, 1.0))
    clip = Dt.synth_motion_clip(image, 4, (40, 48), moving, torch.Generator().manual_seed(0))
    assert not torch.equal(clip[0], clip[1])
    # a path larger than the photo is shrunk to fit instead of sampling outside it
    big = Dt.synth_motion_clip(image, 3, (88, 118), Dt.MotionConfig(scale=(1.8, 1.8)), torch.Generator())
    assert big.shape == (3, 3, 88, 118)


def test_validation_clips_are_fixed(data_dir: Path) -> None:
    first = Dt.validation_clips(data_dir, clip_len=5, size=(48, 32))
    again = Dt.validation_clips(data_dir, clip_len=5, size=(48, 32))
    assert [n for n, _ in first] == ["photo_echo", "video_clip"]
    for (_, a), (_, b) in zip(first, again):
        assert a.shape == (5, 3, 32, 48) and torch.equal(a, b)
    levels = (first[1][1].mean(dim=(1, 2, 3)) * 255).round().tolist()
    assert levels[0] == pytest.approx(_level(VIDEO_FRAMES - Dt.VIDEO_VAL_TAIL), abs=1)


@pytest.mark.skipif(not (REAL_DATA / "photos").is_dir(), reason="shared training data not present")
def test_real_split_has_no_source_overlap() -> None:
    train, val = Dt.make_split(REAL_DATA)
    train_names = {s.name for s in train if isinstance(s, Dt.PhotoSource)}
    val_names = {s.name for s in val if isinstance(s, Dt.PhotoSource)}
    assert val_names and train_names and not train_names & val_names
    val_files = {p.name for s in val if isinstance(s, Dt.PhotoSource) for p in s.paths}
    assert all(Dt.photo_source_name(Path(f)) in val_names for f in val_files)
    for video in (s for s in val if isinstance(s, Dt.VideoSource)):
        assert video.num_frames == Dt.VIDEO_VAL_TAIL


def test_shutter_blurs_the_ground_truth_along_the_path(data_dir: Path) -> None:
    """With the shutter open the ground truth is softer along the motion, the path the same."""
    image = Dt.read_image(data_dir / "photos" / "bravo.jpg")
    fast = dict(max_speed=0.0, fast_prob=1.0, fast_speed=12.0, max_accel=0, max_zoom=0, max_rotation=0, scale=(1.0, 1.0))
    sharp = Dt.synth_motion_clip(image, 3, (32, 32), Dt.MotionConfig(**fast), torch.Generator().manual_seed(3))
    blurred = Dt.synth_motion_clip(image, 3, (32, 32), Dt.MotionConfig(**fast, shutter=(1.0, 1.0)), torch.Generator().manual_seed(3))

    def detail(clip: torch.Tensor) -> float:
        return float((clip[..., 1:, :] - clip[..., :-1, :]).abs().mean() + (clip[..., 1:] - clip[..., :-1]).abs().mean())

    assert blurred.shape == sharp.shape == (3, 3, 32, 32)
    assert detail(blurred) < 0.8 * detail(sharp)
    # the average brightness is kept: the shutter integrates, it does not darken
    assert abs(float(blurred.mean() - sharp.mean())) < 0.02


def test_fast_camera_moves_as_fast_as_asked() -> None:
    """Speeds are in output pixels per frame: a pan drawn at exactly 8 px/frame moves the
    content by 8 px (in whatever direction) from one frame to the next."""
    rng = np.random.default_rng(1)
    image = torch.from_numpy(rng.integers(0, 256, (3, 200, 200), dtype=np.uint8))
    cfg = Dt.MotionConfig(max_speed=8.0, fast_prob=1.0, fast_speed=8.0, max_accel=0, max_zoom=0, max_rotation=0, scale=(1.0, 1.0), supersample=1)
    clip = Dt.synth_motion_clip(image, 2, (48, 48), cfg, torch.Generator().manual_seed(0))
    r = 10
    errors = {}
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            a = clip[1, :, r + dy : 48 - r + dy, r + dx : 48 - r + dx]
            errors[(dx, dy)] = float((a - clip[0, :, r:-r, r:-r]).abs().mean())
    dx, dy = min(errors, key=errors.get)
    assert abs((dx * dx + dy * dy) ** 0.5 - 8.0) < 1.0


def test_video_weights_choose_how_often_each_video_is_cut(data_dir: Path) -> None:
    (video,) = [s for s in Dt.make_split(data_dir)[0] if isinstance(s, Dt.VideoSource)]
    early = Dt.VideoSource("early", video.path, 0, 8, video.width, video.height)  # frames 0-7: levels below _level(8)
    late = Dt.VideoSource("late", video.path, 12, 20, video.width, video.height)

    def late_share(weights: dict[str, float]) -> float:
        config = Dt.SamplerConfig(video_weights=weights, reverse_prob=0.0)
        sampler = Dt.ClipSampler([early, late], clip_len=2, patch=32, seed=0, config=config)
        firsts = [float(sampler.sample()[0].mean()) * 255 for _ in range(200)]
        return sum(level > _level(10) for level in firsts) / len(firsts)

    assert 0.4 <= late_share({}) <= 0.6
    assert 0.65 <= late_share({"late": 3.0}) <= 0.85
    assert late_share({"early": 0.0}) == 1.0
    with pytest.raises(ValueError, match="not among the training videos"):
        Dt.ClipSampler([early, late], 2, 32, config=Dt.SamplerConfig(video_weights={"photo": 2.0}))
    with pytest.raises(ValueError, match="non-negative"):
        Dt.ClipSampler([early, late], 2, 32, config=Dt.SamplerConfig(video_weights={"late": -1.0}))
