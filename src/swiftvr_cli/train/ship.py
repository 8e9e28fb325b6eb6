"""Copy a training run's best model into `weights/` under its shipped name.

    python -m swiftvr_cli.train.ship runs/detail weights/swiftvr-tiny.json [--strength 0.8]

The json keeps the run's training record and validation scores (from the
run's `best.json`), a fresh sha256 of the shipped safetensors file and, if
given, the validated default `--strength`. A latent path that adds exactly
nothing (a zero decoder output layer: only the detail branch was trained) is
left out, so the file holds only what runs and the config says what the model is.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ..model.loading import load_embedded, random_model, save_embedded
from ..model.swiftvr import SwiftVR


def _decoder_output_is_zero(model: SwiftVR) -> bool:
    last = model.reae.decoder[-1]
    return not (bool(last.weight.any()) or (last.bias is not None and bool(last.bias.any())))


def drop_silent_latent_path(model: SwiftVR) -> SwiftVR:
    """The same function without the encoder, DiT and decoder, when they add exactly nothing
    (residual model, zero decoder output layer); the model itself otherwise."""
    if not model.cfg.has_latent_path or not model.cfg.reae.residual or not model.cfg.reae.detail_width:
        return model
    if not _decoder_output_is_zero(model):
        return model
    slim = random_model(model.cfg.without_latent_path())
    own = slim.state_dict()
    slim.load_state_dict({key: value for key, value in model.state_dict().items() if key in own})
    slim.prompt_emb = torch.zeros(1, model.cfg.dit.text_dim)
    slim.default_strength = model.default_strength
    return slim


def ship(run_dir: str | Path, target: str | Path, strength: float | None = None, best: str = "best.json") -> Path:
    source = Path(run_dir) / best
    meta = json.loads(source.read_text())
    model = drop_silent_latent_path(load_embedded(source))
    extra = {key: value for key, value in meta.items() if key not in ("config", "sha256")}
    if strength is not None:
        extra["inference"] = {**extra.get("inference", {}), "strength": strength}
    return save_embedded(model, target, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("target", help="weights json to write, e.g. weights/swiftvr-tiny.json")
    parser.add_argument("--strength", type=float, default=None, help="the validated default --strength to store")
    parser.add_argument("--best", default="best.json", help="which exported model of the run (default best.json)")
    args = parser.parse_args()
    print(ship(args.run_dir, args.target, args.strength, args.best))


if __name__ == "__main__":
    main()
