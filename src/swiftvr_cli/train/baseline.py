"""The comparison baseline for the embedded model: a plain single-frame
residual CNN at low resolution (~355k parameters, x4 only).

It is what a minimal super-resolution model looks like on this hardware:
convolutions on the LQ frame, pixel-shuffle up, added to the bicubic upscale.
Trained on the same data and degradations as ours, for a fixed wall-clock
budget, so the two can be compared honestly on the same validation clips.

    python -m swiftvr_cli.train.baseline --minutes 25 --run-dir runs/baseline
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .data import REAL_MOTION, ClipSampler, SamplerConfig, make_split, validation_clips
from .degrade import degrade_clip, degrade_fixed
from .trainer import SR_MIX, draw_sr_degradation, init_relu_stack


class ResidualSRCNN(nn.Module):
    """conv 3->64, 9 x conv 64->64 (ReLU), conv 64->3*s^2, pixel shuffle, + bicubic (362k parameters)."""

    def __init__(self, scale: int = 4, width: int = 64, depth: int = 10) -> None:
        super().__init__()
        self.scale = scale
        layers: list[nn.Module] = [nn.Conv2d(3, width, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 1):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(width, 3 * scale * scale, 3, padding=1))
        self.body = nn.Sequential(*layers)
        init_relu_stack(self.body)  # the same initialisation as our detail branch

    def forward(self, lq: torch.Tensor) -> torch.Tensor:
        """[N, 3, h, w] in [0, 1] -> [N, 3, s*h, s*w]."""
        up = F.interpolate(lq, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return (up + F.pixel_shuffle(self.body(lq - 0.5), self.scale)).clamp(0, 1)  # centred, as ours


@torch.no_grad()
def validate_baseline(model: ResidualSRCNN, clips) -> float:
    from ..metrics import psnr

    gains = []
    for _, clip in clips:
        lq = degrade_fixed(clip, "x4")
        out = model(lq)
        base = F.interpolate(lq, size=clip.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
        gains.append(psnr(out, clip, y_only=True) - psnr(base, clip, y_only=True))
    return sum(gains) / len(gains)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--run-dir", default="runs/baseline")
    parser.add_argument("--minutes", type=float, default=25.0, help="training budget in CPU minutes of this process")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--mix", default="real", choices=sorted(SR_MIX), help="the SR training mix (as ours: `mix` in the trainer's config)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    run = Path(args.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    model = ResidualSRCNN().to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    generator = torch.Generator().manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train_sources, _ = make_split(args.data_dir)
    sampling = SamplerConfig(motion=REAL_MOTION) if args.mix.startswith("real") else SamplerConfig()
    sampler = ClipSampler(train_sources, 1, args.patch, args.seed, sampling)
    clips = validation_clips(args.data_dir, clip_len=12)
    # CPU time, not wall-clock time: on a shared machine the budget stays the same
    deadline = time.process_time() + 60 * args.minutes
    step, history = 0, []
    while time.process_time() < deadline:
        hq = torch.cat([sampler.sample(generator) for _ in range(args.batch)])  # [N, 3, P, P]
        lq = torch.cat([degrade_clip(f[None], draw_sr_degradation(4, generator, args.mix), generator) for f in hq])  # ours' mix
        loss = F.mse_loss(model(lq), hq)  # the same loss as ours (see trainer.clip_loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 200 == 0:
            gain = validate_baseline(model, clips)
            history.append({"step": step, "loss": loss.item(), "x4_gain_db": gain})
            print(f"step {step} loss {loss.item():.4f} x4 gain {gain:.3f} dB", flush=True)
    gain = validate_baseline(model, clips)
    result = {"parameters": params, "steps": step, "minutes": args.minutes, "x4_gain_db": gain, "history": history}
    (run / "result.json").write_text(json.dumps(result, indent=1))
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(run / "baseline.safetensors"))
    print(json.dumps({k: v for k, v in result.items() if k != "history"}))


if __name__ == "__main__":
    main()
