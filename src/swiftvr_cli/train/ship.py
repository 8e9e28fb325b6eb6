"""Copy a training run's best model into `weights/` under its shipped name.

    python -m swiftvr_cli.train.ship runs/detail weights/swiftvr-tiny.json [--strength 0.8]
    python -m swiftvr_cli.train.ship runs/a runs/b weights/swiftvr-tiny.json   # their average

The json keeps the run's training record and validation scores (from the
run's `best.json`), a fresh sha256 of the shipped safetensors file and, if
given, the validated default `--strength`. A latent path that adds exactly
nothing (a zero decoder output layer: only the detail branch was trained) is
left out, so the file holds only what runs and the config says what the model is.

Several runs fine-tuned from one shared state can be shipped as the average of their
weights (a "model soup"): it often scores above each of them, at no cost when it runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ..model.loading import load_embedded, random_model, save_embedded
from ..model.swiftvr import SwiftVR
from .trainer import load_expert, model_tensors


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

    meta = json.loads((run_dir / "checkpoint.json").read_text())
    model = random_model(preset(meta["config"]["preset"]))
    model.load_state_dict(model_tensors(run_dir / "checkpoint.safetensors"))
    return model.eval(), {"training": {"steps": meta["step"], "config": meta["config"]}}


def from_run(run_dir: Path, best: str = "best.json") -> tuple[SwiftVR, dict]:
    """A run's model and record: ``best`` is its exported json (best.json), or "checkpoint"
    for its last state."""
    if best == "checkpoint":
        return from_checkpoint(run_dir)
    source = run_dir / best
    return load_embedded(source), json.loads(source.read_text())


def average_runs(run_dirs: list[Path], best: str = "best.json") -> tuple[SwiftVR, dict]:
    """The parameter-wise mean of several runs' models of one architecture, with each run's
    training record (their validation scores describe them, not the mean, so none is kept)."""
    loaded = [from_run(run_dir, best) for run_dir in run_dirs]
    model = loaded[0][0]
    for other, _ in loaded[1:]:
        if other.cfg != model.cfg:
            raise ValueError(f"cannot average runs of different architectures: {', '.join(map(str, run_dirs))}")
    states = [m.state_dict() for m, _ in loaded]
    model.load_state_dict({name: sum(s[name] for s in states) / len(states) for name in states[0]})
    record = [{"run": str(run_dir), **meta.get("training", {})} for run_dir, (_, meta) in zip(run_dirs, loaded)]
    return model, {"training": {"average_of": record}}


def ship(
    run_dir: str | Path | list,
    target: str | Path,
    strength: float | None = None,
    best: str = "best.json",
    route_offset: float | None = None,
    specialist: str | Path | None = None,
    base: str | Path | None = None,
) -> Path:
    """``run_dir``: one run folder, or a list of them to ship their average (`average_runs`);
    ``best``: each run's exported json (best.json), or "checkpoint" for its last state.
    For a routed model (`model.routing`): ``route_offset``, its decision offset, chosen on
    training frames by benchmarks/route_offset.py; ``specialist``, weights (json or
    safetensors) whose detail branch replaces its specialist expert; ``base``, the same for
    its base expert. The router reads the input alone, so a router trained beside one pair
    of experts serves later ones."""
    runs = [Path(r) for r in run_dir] if isinstance(run_dir, list) else [Path(run_dir)]
    model, meta = from_run(runs[0], best) if len(runs) == 1 else average_runs(runs, best)
    model = drop_silent_latent_path(model)
    extra = {key: value for key, value in meta.items() if key not in ("config", "sha256", "config_sha256")}
    if strength is not None:
        extra["inference"] = {**extra.get("inference", {}), "strength": strength}
    if route_offset is not None or specialist is not None or base is not None:
        if model.router is None:
            raise ValueError("route_offset, specialist and base are for a routed model (preset tiny-routed)")
        with torch.no_grad():
            if route_offset is not None:
                model.router.offset.fill_(route_offset)
                extra["inference"] = {**extra.get("inference", {}), "route_offset": route_offset}
            for role, expert, weights in (("specialist", "alt", specialist), ("base", "body", base)):
                if weights is not None:
                    load_expert(model, model_tensors(Path(weights).with_suffix(".safetensors")), expert)
                    extra[role] = str(weights)
                    extra.pop("validation", None)  # the run's scores were of its own experts
    return save_embedded(model, target, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", help="a run folder, or several to ship the average of their models")
    parser.add_argument("target", help="weights json to write, e.g. weights/swiftvr-tiny.json")
    parser.add_argument("--strength", type=float, default=None, help="the validated default --strength to store")
    parser.add_argument("--route-offset", type=float, default=None, help="a routed model's decision offset (log-odds)")
    parser.add_argument("--specialist", default=None, help="a routed model's specialist expert: weights whose detail branch replaces it")
    parser.add_argument("--base", default=None, help="a routed model's base expert: weights whose detail branch replaces it")
    parser.add_argument("--best", default="best.json", help="which model of the run: an exported json (default best.json) or 'checkpoint' (its last state)")
    args = parser.parse_args()
    print(ship(args.run_dirs, args.target, args.strength, args.best, args.route_offset, args.specialist, args.base))


if __name__ == "__main__":
    main()
