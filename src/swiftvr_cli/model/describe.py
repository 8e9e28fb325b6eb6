"""`swiftvr info --weights`: what a weights file is, in words, before anyone relies on it."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .swiftvr import SwiftVR


def architecture(model: SwiftVR) -> str:
    """One line that names the model for what runs, not for the family it belongs to."""
    cfg = model.cfg
    if not cfg.has_latent_path:
        grid = cfg.reae.detail_grid
        where = "the input's own pixel grid at x4" if grid == 4 else f"1/{grid} of the output size"
        experts = (
            "in two experts (for plain and for compressed or soft input) whose weights a router blends per frame, "
            if cfg.reae.detail_experts == 2
            else ""
        )
        return (
            f"detail branch only: a causal CNN ({cfg.reae.detail_layers} layers, width {cfg.reae.detail_width}, at {where}) "
            f"{experts}that sees the current and the previous frame and adds a correction to the {cfg.upscale_mode} upscale; "
            "no latent path (no autoencoder or DiT)"
        )
    with torch.no_grad():
        silent = model.latent_path_silent()
    parts = [f"ReAE encoder/decoder ({cfg.reae.latent_channels} latent channels)"]
    if cfg.use_dit:
        parts.append(f"MFSWA DiT ({cfg.dit.num_layers} layers, {cfg.dit.num_attention_heads} heads)")
    if cfg.reae.detail_width:
        parts.append(f"detail branch (width {cfg.reae.detail_width})")
    text = "SwiftVR: " + ", ".join(parts)
    return text + "; the latent path adds exactly nothing (zero decoder output): it runs as the detail branch alone" if silent else text


def describe_weights(model: SwiftVR, weights_json: Path | None) -> dict:
    """What `info --weights` shows: architecture, size, the default --strength and, for our
    own weights, what the json records of training and validation."""
    details: dict = {
        "weights": str(weights_json) if weights_json else "official checkpoint",
        "model": architecture(model),
        "parameters": sum(p.numel() for p in model.parameters()),
        "default_strength": model.default_strength,
        "upscale": model.cfg.upscale_mode,
    }
    if weights_json is not None and weights_json.suffix == ".json" and weights_json.is_file():
        meta = json.loads(weights_json.read_text())
        training = meta.get("training") or {}
        if "steps" in training:
            details["training_steps"] = training["steps"]
        if training.get("average_of"):  # shipped as the mean of several runs' weights (train.ship)
            steps = ", ".join(str(run.get("steps", "?")) for run in training["average_of"])
            details["training"] = f"the average of {len(training['average_of'])} runs' weights (steps {steps})"
        if meta.get("validation"):
            details["validation"] = meta["validation"]
    return details
