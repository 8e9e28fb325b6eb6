"""`python -m swiftvr_cli.train [--config train.json] [--key value ...]`: train, resumable."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields

from .trainer import TrainConfig, Trainer

TYPES = {"str": str, "int": int, "float": float}  # for optional fields (default None)


def parse_config(argv: list[str] | None = None) -> TrainConfig:
    parser = argparse.ArgumentParser(description="Train the embedded SwiftVR model (resumes from run_dir).")
    parser.add_argument("--config", help="JSON file with TrainConfig fields")
    for f in fields(TrainConfig):
        if f.name not in ("scales", "tasks", "validate_on", "train_only", "video_weights"):  # structured: from --config only
            parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None)
    args = parser.parse_args(argv)
    values = json.load(open(args.config)) if args.config else {}
    if "scales" in values:
        values["scales"] = {int(k): float(v) for k, v in values["scales"].items()}
    for key in ("tasks", "video_weights"):
        if key in values:
            values[key] = {str(k): float(v) for k, v in values[key].items()}
    for key in ("validate_on", "train_only"):
        if values.get(key):
            values[key] = tuple(values[key])
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        raw = getattr(args, f.name, None)
        if raw is not None:
            default = getattr(defaults, f.name)
            kind = type(default) if default is not None else next(t for n, t in TYPES.items() if n in str(f.type))
            values[f.name] = kind(raw) if kind is not bool else raw.lower() in ("1", "true", "yes")
    return TrainConfig(**values)


def main(argv: list[str] | None = None) -> None:
    cfg = parse_config(argv)
    Trainer(cfg).fit(on_step=lambda step, loss: print(f"step {step} loss {loss:.4f}", flush=True) if step % 50 == 0 else None)


if __name__ == "__main__":
    main()
