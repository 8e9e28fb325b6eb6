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


def drop_silent_latent_path(model: SwiftVR) -> SwiftVR:
    """The same function without the encoder, DiT and decoder, when they add exactly nothing
    (residual model, zero decoder output layer); the model itself otherwise."""
    if not model.cfg.has_latent_path or not model.cfg.reae.detail_width:
        return model
    with torch.no_grad():  # the model's own test (it answers False while gradients are on)
        if not model.latent_path_silent():
            return model
    slim = random_model(model.cfg.without_latent_path())
    own = slim.state_dict()
    slim.load_state_dict({key: value for key, value in model.state_dict().items() if key in own})
    slim.prompt_emb = torch.zeros(1, model.cfg.dit.text_dim)
    slim.default_strength = model.default_strength
    return slim


def from_checkpoint(run_dir: Path) -> tuple[SwiftVR, dict]:
    """The model of a run's last checkpoint (not only its best validation step), with the
    run's training record."""
    from ..model.presets import preset
    from .trainer import model_tensors

    meta = json.loads((run_dir / "checkpoint.json").read_text())
    model = random_model(preset(meta["config"]["preset"]))
    model.load_state_dict(model_tensors(run_dir / "checkpoint.safetensors"))
    return model.eval(), {"training": {"steps": meta["step"], "config": meta["config"]}}


def ship(run_dir: str | Path, target: str | Path, strength: float | None = None, best: str = "best.json") -> Path:
    """``best``: the run's exported json (best.json), or "checkpoint" for its last state."""
    if best == "checkpoint":
        model, meta = from_checkpoint(Path(run_dir))
    else:
        source = Path(run_dir) / best
        meta = json.loads(source.read_text())
        model = load_embedded(source)
    model = drop_silent_latent_path(model)
    extra = {key: value for key, value in meta.items() if key not in ("config", "sha256", "config_sha256")}
    if strength is not None:
        extra["inference"] = {**extra.get("inference", {}), "strength": strength}
    return save_embedded(model, target, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("target", help="weights json to write, e.g. weights/swiftvr-tiny.json")
    parser.add_argument("--strength", type=float, default=None, help="the validated default --strength to store")
    parser.add_argument("--best", default="best.json", help="which model of the run: an exported json (default best.json) or 'checkpoint' (its last state)")
    args = parser.parse_args()
    print(ship(args.run_dir, args.target, args.strength, args.best))


if __name__ == "__main__":
    main()
