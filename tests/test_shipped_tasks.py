"""The shipped same-size task models (--task clean / deblur / denoise / inpaint) on a real
held-out clip: guards against regressions, the issue targets (strict xfails where this
clip does not reach them yet), and every task end to end through the CLI."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from swiftvr_cli.cli import app
from swiftvr_cli.evaluation import load_clip, restore_with_baselines
from swiftvr_cli.metrics import flicker, psnr
from swiftvr_cli.model.loading import load_model
from swiftvr_cli.tasks import degradation_weights
from tests import media

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "bbb_val_320x180.mp4"  # held out from training
# Measured with the shipped weights at their default --strength (chosen on held-out real
# footage, see weights/README.md) on this clip, PSNR-Y (flicker): crf35 30.84 (1.08) vs the input
# 30.46 (1.13); deblur 30.95 (0.833) vs unsharp 29.43 (0.855) and the blurred input 28.13;
# denoise 33.82 (3.75) vs a light Gaussian blur 31.56 (3.06) and the noisy input 29.48 (9.64);
# inpaint 35.98 (0.077) vs the push-pull fill 35.56 (0.079).
# preset -> (its simple baseline, guards: least gain over the degraded input and over the
# baseline, the issue's target over the baseline, whether this clip reaches the target yet,
# most flicker relative to the baseline's)
EXPECT = {
    "crf35": ("input", 0.1, 0.1, 0.7, False, 1.3),  # --task clean on x264 CRF 35
    "deblur": ("unsharp", 1.8, 0.8, 1.0, True, 1.3),
    # +2.3 dB over the blur, but at strength 0.9 a little of the noise stays: more flicker than the blur's
    "denoise": ("gaussian", 2.3, 0.4, 1.0, False, 1.6),
    # strength 0.15: at 1.0 the model adds +2.1 dB here, but loses frames of one held-out real clip
    "inpaint": ("fill", 14.0, 0.3, 1.0, False, 1.3),
}


@pytest.fixture(scope="module")
def clean_clip():
    return load_clip(str(SAMPLE), max_frames=13)[..., :176, :320]


@pytest.fixture(scope="module")
def results(clean_clip):
    """preset -> (PSNR-Y of ours, of the baseline, of the degraded input; flicker of ours, of the baseline)."""
    out = {}
    for preset, (baseline, *_) in EXPECT.items():
        model = load_model(degradation_weights(preset))  # the weights its `--task` uses
        clean, lq, outputs = restore_with_baselines(model, clean_clip, preset, clip_len=8)
        ours, base = outputs["ours"], outputs[baseline]
        out[preset] = (
            psnr(ours, clean, y_only=True), psnr(base, clean, y_only=True), psnr(lq, clean, y_only=True),
            flicker(ours, clean), flicker(base, clean),
        )  # fmt: skip
    return out


@pytest.mark.parametrize("preset", list(EXPECT))
def test_task_guards_against_the_degraded_input_and_the_baseline(results, preset):
    ours, baseline, degraded, ours_flicker, baseline_flicker = results[preset]
    _, over_input, over_baseline, _, _, most_flicker = EXPECT[preset]
    assert ours - degraded > over_input, f"{preset}: {ours - degraded:+.2f} dB over the degraded input"
    assert ours - max(baseline, degraded) > over_baseline, f"{preset}: {ours - max(baseline, degraded):+.2f} dB over the baseline"
    assert ours_flicker <= most_flicker * baseline_flicker


@pytest.mark.parametrize(
    "preset",
    [p if reached else pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="issue target not reached on this clip yet"))
     for p, (*_, reached, _) in EXPECT.items()],
)  # fmt: skip
def test_task_reaches_the_issue_target(results, preset):
    ours, baseline, degraded, ours_flicker, baseline_flicker = results[preset]
    assert ours - max(baseline, degraded) >= EXPECT[preset][3] and ours_flicker <= baseline_flicker


def _write_mask(path: Path, width: int, height: int) -> str:
    mask = np.zeros((height, width, 3), dtype=np.uint8)
    mask[10:30, width - 60 : width - 10] = 255  # a "logo" box
    frame = av.VideoFrame.from_ndarray(mask, format="rgb24")
    with av.open(str(path), "w", format="image2") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        for packet in list(stream.encode(frame)) + list(stream.encode()):
            container.mux(packet)
    return str(path)


@pytest.mark.parametrize("task", ["sr", "clean", "deblur", "denoise", "inpaint"])
def test_every_task_runs_end_to_end_with_the_shipped_weights(tmp_path, task):
    src = media.make_video(tmp_path / "in.mp4", frames=9, size=(96, 64), audio=True)
    out = tmp_path / "out.mp4"
    args = ["restore", src, str(out), "--task", task, "--device", "cpu", "--chunk", "8", "-q"]
    if task == "inpaint":
        args += ["--mask", _write_mask(tmp_path / "mask.png", 96, 64)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        frames = [f for f in container.decode(stream)]
        assert len(container.streams.audio) == 1
    assert len(frames) == 9
    expected = (384, 256) if task == "sr" else (96, 64)
    assert (frames[0].width, frames[0].height) == expected
    if task == "inpaint":  # pixels outside the mask are kept (up to the output codec)
        restored = torch.from_numpy(frames[4].to_ndarray(format="rgb24")).float()
        with av.open(src) as container:
            original = torch.from_numpy(next(f for i, f in enumerate(container.decode(video=0)) if i == 4).to_ndarray(format="rgb24")).float()
        kept = (restored[40:, :40] - original[40:, :40]).abs().mean()  # far from the mask: only codec error
        filled = (restored[10:30, 36:86] - original[10:30, 36:86]).abs().mean()  # the masked box
        assert kept < 8 and kept < filled
