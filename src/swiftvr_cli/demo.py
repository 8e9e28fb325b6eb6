"""`make demo`: restore the shipped real sample x4 with the embedded default model, then
show it beside the plain method it must beat (the input upscaled with bicubic): a
labelled side-by-side PNG of one frame and a short side-by-side clip.

It calls the pipeline itself (`restore_video`), as `swiftvr restore` does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SAMPLE = Path("samples/bbb_160x90.mp4")
OUTPUT_DIR = Path("demo_output")
SCALE = 4
CLIP_FRAMES = 48  # the side-by-side clip: about two seconds


def restore_sample(sample: Path, restored: Path):
    """`swiftvr restore SAMPLE RESTORED --scale 4 -y` with the embedded default model."""
    from .model.loading import load_model
    from .pipeline.runner import RestoreSettings, restore_video
    from .progress import FrameProgress

    model = load_model(None)
    with FrameProgress(label=sample.name) as progress:
        return restore_video(model, str(sample), str(restored), RestoreSettings(scale=SCALE, overwrite=True), on_progress=progress.update)


def write_comparison(sample: Path, restored: Path, png: Path, clip: Path, frames: int = CLIP_FRAMES) -> None:
    """Bicubic | swiftvr, labelled: every frame into CLIP, the middle one into PNG."""
    import torch.nn.functional as F

    from .evaluation import iter_clip
    from .io import EncodeOptions, VideoWriter, probe
    from .sidebyside import save_png, side_by_side

    info = probe(str(sample), count_frames=True)
    middle = min(frames, info.frame_count or frames) // 2
    writer = None
    try:
        for index, (low, ours) in enumerate(zip(iter_clip(str(sample), frames), iter_clip(str(restored), frames))):
            bicubic = F.interpolate(low, size=ours.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
            tiles = {f"input, bicubic x{SCALE}": bicubic[0], f"swiftvr x{SCALE}": ours[0]}
            image = side_by_side(tiles, scale=2)
            if index == middle:
                save_png(image, png)
            if writer is None:  # the source's frame rate; no audio (the clip is for looking, and may be cut short)
                options = EncodeOptions(crf=16, preset="veryfast", copy_streams=False)
                writer = VideoWriter(str(clip), width=image.shape[-1], height=image.shape[-2], source=info, options=options, overwrite=True)
            writer.write(image[None], [None])
        if writer is not None:
            writer.close()
            writer = None
    finally:
        if writer is not None:
            writer.abort()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m swiftvr_cli.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR)
    args = parser.parse_args(argv)
    if not args.sample.exists():
        print(f"sample {args.sample} not found: run `make demo` from the repository root", file=sys.stderr)
        return 1
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    restored = out / f"{args.sample.stem}_restored_x{SCALE}.mp4"
    png, clip = out / f"{args.sample.stem}_side_by_side.png", out / f"{args.sample.stem}_side_by_side.mp4"
    print(f"swiftvr restore {args.sample} {restored} --scale {SCALE} -y", file=sys.stderr)
    summary = restore_sample(args.sample, restored)
    print(f"restored {summary.frames} frames in {summary.seconds:.1f}s ({summary.fps:.1f} fps)", file=sys.stderr)
    write_comparison(args.sample, restored, png, clip)
    print(f"restored video:         {restored.resolve()}")
    print(f"side by side (frame):   {png.resolve()}")
    print(f"side by side (clip):    {clip.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
