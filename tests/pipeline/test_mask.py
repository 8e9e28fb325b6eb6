"""Fill masks (`--task inpaint --mask`): reading them, and their way through the pipeline."""

from __future__ import annotations

import dataclasses

import av
import numpy as np
import pytest
import torch

from swiftvr_cli.fill import fill_masked
from swiftvr_cli.io import EncodeOptions, InputError
from swiftvr_cli.io.mask import MaskReader, stack_masks
from swiftvr_cli.model.loading import load_embedded
from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState
from swiftvr_cli.pipeline.restorer import ChunkRestorer
from swiftvr_cli.pipeline.runner import RestoreSettings, restore_video
from tests import media
from tests.pipeline.interrupt import crash_after_checkpoint

SIZE = (32, 32)  # width, height


def moving_boxes(frames: int) -> list[media.Box]:
    """A 8x8 box stepping right 2 pixels a frame: a mask read out of step shows."""
    return [(2 + 2 * i, 12, 8, 8) for i in range(frames)]


def decoded_rgb(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.float64) for f in container.decode(video=0)]


def pts_of(path) -> list[int]:
    with av.open(str(path)) as container:
        return [f.pts for f in container.decode(video=0)]


# --- reading masks --------------------------------------------------------------------------------


def test_png_mask_is_luma_above_half_and_serves_every_frame(tmp_path):
    rgb = np.zeros((4, 8, 3), np.uint8)
    rgb[0, :] = 127  # grey just below half: keep
    rgb[1, :] = 128  # grey just above half: fill
    rgb[2, :] = (0, 255, 0)  # green, luma ~150: fill
    rgb[3, :] = (255, 0, 0)  # red, luma ~76: keep
    path = tmp_path / "mask.png"
    media.write_png(av.VideoFrame.from_ndarray(rgb, format="rgb24"), str(path))
    with MaskReader(str(path), 8, 4) as masks:
        assert masks.still
        first = masks.next()
        assert first.shape == (1, 4, 8) and first.dtype == torch.bool
        assert first[0, :, 0].tolist() == [False, True, True, False]
        for _ in range(50):  # any number of frames
            assert torch.equal(masks.next(), first)
        masks.finish()


def test_mask_video_gives_one_mask_per_frame_in_order(tmp_path):
    boxes = moving_boxes(5)
    path = media.make_mask_video(tmp_path / "mask.mkv", SIZE, boxes)
    with MaskReader(path, *SIZE) as masks:
        assert not masks.still
        for box in boxes:
            expected = torch.from_numpy(media.mask_array(SIZE, box) > 127)[None]
            assert torch.equal(masks.next(), expected)
        masks.finish()  # exactly as many frames as the input


def test_mask_video_shorter_or_longer_than_the_input_is_an_error(tmp_path):
    path = media.make_mask_video(tmp_path / "mask.mkv", SIZE, moving_boxes(3))
    with MaskReader(path, *SIZE) as masks:
        for _ in range(3):
            masks.next()
        with pytest.raises(InputError, match="mask video .*mask.mkv has 3 frames, the input has more"):
            masks.next()
    with MaskReader(path, *SIZE) as masks:
        masks.next()
        with pytest.raises(InputError, match="has more frames than the input"):
            masks.finish()


def test_mis_sized_and_missing_masks_are_input_errors(tmp_path):
    path = media.make_mask_image(tmp_path / "mask.png", (16, 8), (0, 0, 4, 4))
    with pytest.raises(InputError, match="mask .*mask.png is 16x8 but the video is 32x32"):
        MaskReader(path, *SIZE)
    with pytest.raises(InputError, match="nope.png.*file not found"):
        MaskReader(str(tmp_path / "nope.png"), *SIZE)
    (tmp_path / "junk.png").write_text("not an image")
    with pytest.raises(InputError, match="junk.png"):
        MaskReader(str(tmp_path / "junk.png"), *SIZE)


def test_stack_masks_moves_a_still_mask_once_and_repeats_for_padding():
    still = torch.zeros(1, 4, 4, dtype=torch.bool)
    still[0, 1, 1] = True
    out = stack_masks([still] * 3, "cpu")
    assert out.shape == (3, 1, 4, 4) and out.dtype == torch.float32 and out[:, 0, 1, 1].tolist() == [1, 1, 1]
    other = torch.ones(1, 4, 4, dtype=torch.bool)
    out = stack_masks([still, other, other], "cpu")
    assert out[0].sum() == 1 and out[1:].sum() == 32


# --- the restorer ---------------------------------------------------------------------------------


class RecordingModel:
    """Stands in for SwiftVR: records what restore_chunk receives."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def restore_chunk(self, frames, kind, state, *, size, clip_len, overlap=0, mask=None, reae_group=0):
        self.calls.append({"frames": frames.clone(), "mask": None if mask is None else mask.clone()})
        return frames / 255.0, state


def test_restorer_fills_the_masked_pixels_then_gives_the_model_the_mask():
    model = RecordingModel()
    restorer = ChunkRestorer(model, (8, 8), clip_len=4)
    frames = torch.rand(5, 3, 8, 8) * 255
    mask = torch.zeros(5, 1, 8, 8)
    mask[:, :, 2:5, 2:5] = 1
    restorer.restore(frames, ChunkKind.FIRST, RestoreState(), mask=mask)
    seen = model.calls[-1]
    assert torch.equal(seen["mask"], mask)
    assert torch.allclose(seen["frames"], fill_masked(frames, mask))
    keep = mask.expand(-1, 3, -1, -1) == 0
    assert torch.equal(seen["frames"][keep], frames[keep])  # known pixels untouched
    restorer.restore(frames, ChunkKind.FIRST, RestoreState())  # no mask: frames as given
    assert model.calls[-1]["mask"] is None and torch.equal(model.calls[-1]["frames"], frames)


# --- whole videos ---------------------------------------------------------------------------------


LOSSLESS = EncodeOptions(crf=0, preset="ultrafast")


def test_mask_video_follows_its_frames_through_the_pipeline(tmp_path, detail_weights):
    """Frame i is filled where mask frame i says and nowhere else (the model keeps the known pixels)."""
    frames = 11  # FIRST (8) + LAST (3, padded to 5): padding repeats the last mask
    src = media.make_video(tmp_path / "in.mp4", frames=frames, size=SIZE)
    boxes = moving_boxes(frames)
    mask = media.make_mask_video(tmp_path / "mask.mkv", SIZE, boxes)
    out = tmp_path / "out.mp4"
    model = load_embedded(detail_weights)
    settings = RestoreSettings(scale=1, clip_len=4, task="inpaint", mask=mask, encode=LOSSLESS)
    summary = restore_video(model, src, str(out), settings)
    assert summary.frames == frames and summary.output_size == SIZE
    assert pts_of(out) == pts_of(src)
    for i, (ours, theirs) in enumerate(zip(decoded_rgb(out), decoded_rgb(src))):
        inside = media.mask_array(SIZE, boxes[i]) > 0
        near = np.zeros_like(inside)  # chroma subsampling blurs the box's edge a little
        x, y, w, h = boxes[i]
        near[max(0, y - 2) : y + h + 2, max(0, x - 2) : x + w + 2] = True
        diff = np.abs(ours - theirs).mean(axis=-1)
        away = diff[~near]  # only colour conversion rounding (RGB <-> 4:2:0) changes these
        assert away.mean() < 0.5 and away.max() <= 8, f"frame {i}: pixels away from the mask changed"
        assert diff[inside].mean() > 8, f"frame {i}: the masked box was not filled"


def test_resume_with_a_mask_video_matches_an_uninterrupted_run(tmp_path, detail_weights, monkeypatch):
    """Frames skipped on resume still consume their mask frames."""
    frames = 14
    src = media.make_video(tmp_path / "in.mp4", frames=frames, size=SIZE)
    mask = media.make_mask_video(tmp_path / "mask.mkv", SIZE, moving_boxes(frames))
    model = load_embedded(detail_weights)
    settings = RestoreSettings(scale=1, clip_len=4, task="inpaint", mask=mask, encode=LOSSLESS, checkpoint_every=1)
    reference = tmp_path / "reference.mp4"
    restore_video(model, src, str(reference), settings)

    target = tmp_path / "out" / "out.mp4"
    target.parent.mkdir()
    resumable = dataclasses.replace(settings, resume=True)
    saved = crash_after_checkpoint(monkeypatch, model, src, str(target), resumable, after=2)
    assert not target.exists() and saved == [8, 12]

    summary = restore_video(model, src, str(target), resumable)
    assert any(note.startswith("resumed at frame") for note in summary.notes)
    assert pts_of(target) == pts_of(src)
    ours, theirs = decoded_rgb(target), decoded_rgb(reference)
    assert len(ours) == len(theirs) == frames
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert np.array_equal(a, b), f"frame {i} differs from the uninterrupted run"


def test_resume_refuses_progress_saved_with_another_mask(tmp_path, detail_weights, monkeypatch):
    from swiftvr_cli.io import OutputError

    src = media.make_video(tmp_path / "in.mp4", frames=14, size=SIZE)
    first = media.make_mask_image(tmp_path / "a.png", SIZE, (4, 4, 8, 8))
    second = media.make_mask_image(tmp_path / "b.png", SIZE, (16, 16, 8, 8))
    model = load_embedded(detail_weights)
    settings = RestoreSettings(scale=1, clip_len=4, task="inpaint", mask=first, encode=LOSSLESS, resume=True, checkpoint_every=1)
    target = tmp_path / "out.mp4"
    crash_after_checkpoint(monkeypatch, model, src, str(target), settings)
    with pytest.raises(OutputError, match="different input, model or settings"):
        restore_video(model, src, str(target), dataclasses.replace(settings, mask=second))
    summary = restore_video(model, src, str(target), settings)  # the same mask continues
    assert any(note.startswith("resumed at frame") for note in summary.notes)
