"""How far can this model size go on one real clip? An oracle, not a training recipe.

Fine-tunes a model on ONE real video's own training frames only, with exactly one
held-out row's degradation, and validates (picks its best step) on that video's
held-out tail: everything a general model cannot have. What it reaches bounds what
the shipped model could reach on that clip with this architecture; a row target above
it is out of this model's reach, not a matter of more training.

    .venv/bin/python benchmarks/clip_oracle.py --clip opencv_tree_240p \\
        --init runs/base6.safetensors --run-dir runs/oracle_tree
    .venv/bin/python benchmarks/eval_embedded.py --data-dir runs/oracle_tree/data \\
        --weights runs/oracle_tree/best.json --tasks x4-area

The run resumes where it stopped (the trainer checkpoints). Only the x4-area row is
supported: its degradation, a plain area downscale without a codec, replaces the
trainer's draw of plain downscales.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from swiftvr_cli.train import trainer
from swiftvr_cli.train.degrade import DegradeConfig

DATA_DIR = Path("../shared/data")


PLAIN_DOWNSCALE = trainer.downscale_degradation


def area_downscale(scale: int, codec_prob: float = 0.0) -> DegradeConfig:
    """The x4-area row's degradation (`swiftvr_cli.degradations`): the trainer's plain
    downscale with the area kernel only and no codec pass."""
    return dataclasses.replace(PLAIN_DOWNSCALE(scale, codec_prob=0.0), resize_modes=("area",))


def one_clip_data(clip: str, data_dir: Path, folder: Path) -> Path:
    """A data folder holding only ``clip`` (a link): same train/held-out split, no photos."""
    source = (data_dir / "videos" / f"{clip}.mp4").resolve()
    if not source.exists():
        raise SystemExit(f"no video {clip!r} in {data_dir / 'videos'}")
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    (folder / "videos").mkdir(exist_ok=True)
    link = folder / "videos" / source.name
    if not link.exists():
        link.symlink_to(source)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", required=True, help="a video of the data folder, without .mp4")
    parser.add_argument("--init", required=True, help="the weights to start from (the shipped base expert's)")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--minutes", type=float, default=40.0, help="time budget (the run checkpoints and resumes)")
    parser.add_argument("--seed", type=int, default=121)
    args = parser.parse_args()

    data = one_clip_data(args.clip, args.data_dir, args.run_dir / "data")
    cfg = trainer.TrainConfig(
        preset="tiny-deep", data_dir=str(data), run_dir=str(args.run_dir), steps=args.steps, batch=4, clip_len=4,
        patch=160, scales={4: 1.0}, lr=args.lr, min_lr=args.lr / 10, warmup=50, luma_weight=2.0, seed=args.seed,
        checkpoint_every=250, eval_every=250, time_budget_s=args.minutes * 60, threads=1, init_from=args.init,
        detail_only=True, mix="oracle-area", echo=2, video_share=1.0, validate_on=("x4-area",),
    )  # fmt: skip
    trainer.SR_MIX["oracle-area"] = trainer.SrMix(downscale=1.0, clean=0.0, light=0.0, downscale_codec=0.0)
    trainer.downscale_degradation = area_downscale  # the row's own degradation, nothing else
    args.run_dir.mkdir(parents=True, exist_ok=True)
    (args.run_dir / "cfg.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1))
    trainer.Trainer(cfg).fit(on_step=lambda step, loss: print(f"step {step} loss {loss:.4f}", flush=True) if step % 50 == 0 else None)


if __name__ == "__main__":
    main()
