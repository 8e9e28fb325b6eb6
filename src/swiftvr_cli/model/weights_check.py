"""Checking a weights config and its tensors before anything large is allocated.

A weights json is data from wherever the user got it: a typo or a hostile
file must give one line and exit 5, not a 12 GB allocation, a model with a
billion layers, or NaN frames with exit 0. So, before the model is built:

* every size in the config is an integer within bounds (``config_from_json``);
* the config is covered by its own sha256 when the json carries one
  (``config_sha256``, written by ``save_embedded``), as the tensors are by ``sha256``;
* the tensors' shapes, read from the safetensors header, are compared with
  the shapes the config implies, built on the meta device (no memory);

and once, at load, every tensor must be a float tensor where the model
has floats, and finite (``check_tensors``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from typing import Any, Mapping

import torch

from .config import DiTConfig, SwiftVRConfig

# Far above any real model (the official one: 30 layers, width 3072, ffn 14336), far below
# what would exhaust memory on the meta device or in the prompt embedding.
MAX_SIZE = 1 << 17
MAX_LAYERS = 1024


class ConfigError(ValueError):
    """The weights config cannot describe a model we can build."""


def config_digest(config: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _check_fields(part: object, label: str) -> None:
    """Sizes are integers within bounds, flags booleans, epsilons positive finite numbers."""
    for f in fields(part):  # type: ignore[arg-type]
        value, kind, name = getattr(part, f.name), str(f.type), f"{label}.{f.name}"
        if kind == "int" or kind.startswith("tuple[int"):
            values = value if isinstance(value, tuple) else (value,)
            if kind != "int" and len(values) != kind.count("int"):
                raise ConfigError(f"{name} must hold {kind.count('int')} integers, not {list(values)}")
            top = MAX_LAYERS if "layers" in f.name else MAX_SIZE
            for v in values:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ConfigError(f"{name} must be an integer, not {v!r}")
                if not 0 <= v <= top:
                    raise ConfigError(f"{name} = {v} is out of range (0..{top})")
        elif kind == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, not {value!r}")
        elif kind == "float" and (isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1):
            raise ConfigError(f"{name} must be a small positive number, not {value!r}")


def config_from_json(meta: Any) -> SwiftVRConfig:
    """The model config of a weights json, checked (ConfigError says what is wrong)."""
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise ConfigError("it has no 'config' object")
    raw = meta["config"]
    if meta.get("config_sha256") and config_digest(raw) != meta["config_sha256"]:
        raise ConfigError("its config does not match its config_sha256 (edited or corrupt)")
    if not isinstance(raw.get("dit", {}), dict) or not isinstance(raw.get("reae", {}), dict):
        raise ConfigError("'config.dit' and 'config.reae' must be objects")
    try:
        cfg = SwiftVRConfig.from_json_dict(raw)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ConfigError(str(exc)) from None
    _check_fields(cfg.dit, "dit")
    _check_fields(cfg.reae, "reae")
    if isinstance(cfg.pad_multiple, bool) or cfg.pad_multiple < 1 or cfg.pad_multiple > MAX_SIZE:
        raise ConfigError(f"pad_multiple = {cfg.pad_multiple} is out of range (1..{MAX_SIZE})")
    if cfg.use_dit and (cfg.dit.num_attention_heads < 1 or cfg.dit.attention_head_dim < 1 or min(cfg.dit.patch_size) < 1):
        raise ConfigError("dit.num_attention_heads, attention_head_dim and patch_size must be >= 1")
    return cfg


def check_dit_config(cfg: DiTConfig) -> DiTConfig:
    """Bounds of an official ``transformer/config.json`` (raises ConfigError)."""
    _check_fields(cfg, "dit")
    return cfg


def check_shapes(expected: Mapping[str, torch.Tensor], found: Mapping[str, tuple[int, ...]], source: str) -> None:
    """The file's tensor shapes (from its header) against the model's; raises ConfigError."""
    for key, tensor in expected.items():
        if key not in found:
            raise ConfigError(f"missing tensor '{key}' in {source}")
        if tuple(found[key]) != tuple(tensor.shape):
            raise ConfigError(f"tensor '{key}' in {source} has shape {list(found[key])}, the config expects {list(tensor.shape)}")


def check_tensors(expected: Mapping[str, torch.Tensor], tensors: Mapping[str, torch.Tensor], sources: Mapping[str, str]) -> None:
    """Float tensors where the model has floats, and no NaN or infinity; raises ConfigError."""
    for key, tensor in tensors.items():
        where = sources.get(key.split(".")[0], "the weights")
        want = expected.get(key)
        if want is not None and want.is_floating_point() and not tensor.is_floating_point():
            raise ConfigError(f"tensor '{key}' in {where} is {str(tensor.dtype).replace('torch.', '')}, not floating point")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ConfigError(f"tensor '{key}' in {where} holds NaN or infinite values (corrupt weights)")
