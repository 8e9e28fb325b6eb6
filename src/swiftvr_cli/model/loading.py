"""Loading weights: the official SwiftVR folder and our own `weights/NAME`.

Safetensors only (no pickle), read lazily and straight to the target device
and dtype; the model is built on the meta device first so a 5B checkpoint
never exists twice in memory. Every error names the file and the tensor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..hashing import file_sha256
from .config import DiTConfig, ReAEConfig, SwiftVRConfig
from .offload import BLOCK_PREFIX, BlockFiles, BlockStream
from .swiftvr import MAX_STRENGTH, SwiftVR
from .weights_check import ConfigError, check_dit_config, check_shapes, check_tensors, config_digest, config_from_json

OFFICIAL_REAE = "reae.safetensors"
OFFICIAL_PROMPT = "prompt_embedding.safetensors"
OFFICIAL_DIT_DIR = "transformer"
OFFICIAL_DIT_FILE = "diffusion_pytorch_model.safetensors"
IGNORED_DIT_KEYS = ("norm_added_q",)  # present in some diffusers exports, unused here


class WeightsError(Exception):
    """A weights folder or file is missing, incomplete or does not fit the model."""


def _open(path: Path):
    try:
        return safe_open(str(path), framework="pt", device="cpu")
    except FileNotFoundError:
        raise WeightsError(f"missing weights file: {path}") from None
    except Exception as exc:  # truncated or not a safetensors file
        raise WeightsError(f"cannot read weights file {path}: {exc}") from None


def read_tensors(
    path: Path, prefix: str = "", device="cpu", dtype: torch.dtype | None = None, skip: Callable[[str], bool] | None = None
) -> dict[str, torch.Tensor]:
    """All tensors of one safetensors file (but those whose prefixed key `skip` names), optionally cast, keys prefixed.

    The file is memory-mapped: a tensor already in `dtype` on the CPU is the mapping
    itself (no copy; pages are read when first used), a cast or a move copies one
    tensor at a time, so loading never holds the weights twice.
    """
    out = {}
    with _open(path) as f:
        for key in f.keys():
            if skip is not None and skip(prefix + key):
                continue
            try:
                t = f.get_tensor(key)
            except Exception as exc:
                raise WeightsError(f"cannot read tensor '{key}' from {path}: {exc}") from None
            if dtype is not None and t.is_floating_point():
                t = t.to(dtype)
            out[prefix + key] = t.to(device)
    return out


def tensor_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    with _open(path) as f:
        return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}


def dit_weight_files(folder: Path) -> list[Path]:
    """The DiT safetensors: one file, or the diffusers sharded variant with an index."""
    single = folder / OFFICIAL_DIT_FILE
    if single.exists():
        return [single]
    index = folder / (OFFICIAL_DIT_FILE + ".index.json")
    if not index.exists():
        raise WeightsError(f"missing weights file: {single} (nor a sharded {index.name})")
    try:
        weight_map = json.loads(index.read_text())["weight_map"]
    except (ValueError, KeyError) as exc:
        raise WeightsError(f"bad shard index {index}: {exc}") from None
    return [folder / name for name in sorted(set(weight_map.values()))]


def reae_config_from_shapes(shapes: dict[str, tuple[int, ...]], base: ReAEConfig = ReAEConfig()) -> ReAEConfig:
    """Decoder stage widths are read from the checkpoint, not assumed."""
    try:
        n0 = shapes["decoder.1.weight"][0]
        n1 = shapes["decoder.8.weight"][0]
        n2 = shapes["decoder.14.weight"][0]
        out_width = shapes["decoder.20.weight"][0]
        enc_width = shapes["encoder.0.weight"][0]
        latent = shapes["encoder.17.weight"][0]
    except KeyError as exc:
        raise WeightsError(f"ReAE weights lack tensor {exc.args[0]!r}") from None
    return ReAEConfig(
        latent_channels=latent,
        encoder_width=enc_width,
        decoder_widths=(n0, n1, n2),
        decoder_out_width=out_width,
        residual=base.residual,
        detail_width=base.detail_width,
        detail_layers=base.detail_layers,
        detail_grid=base.detail_grid,
        detail_experts=base.detail_experts,
    )


def assign_weights(
    model: torch.nn.Module, tensors: dict[str, torch.Tensor], sources: dict[str, str], ignore=(), deferred: dict[str, tuple[int, ...]] | None = None
) -> None:
    """Strict load with messages that name the tensor and the file it came from.

    `deferred`: shapes of tensors checked now but loaded later (streamed DiT blocks);
    the module keeps them on the meta device.
    """
    expected = model.state_dict()
    try:
        check_tensors(expected, tensors, sources)
    except ConfigError as exc:
        raise WeightsError(str(exc)) from None
    deferred = deferred or {}
    found = {**{k: tuple(v.shape) for k, v in tensors.items()}, **deferred}
    for key in expected:
        if key not in found:
            raise WeightsError(f"missing tensor '{key}' (expected in {sources.get(key.split('.')[0], 'the weights')})")
    for key, shape in found.items():
        if key not in expected:
            if any(part in key for part in ignore):
                continue
            raise WeightsError(f"unexpected tensor '{key}' in {sources.get(key.split('.')[0], 'the weights')}")
        if shape != tuple(expected[key].shape):
            raise WeightsError(
                f"tensor '{key}' in {sources.get(key.split('.')[0], 'the weights')} has shape "
                f"{list(shape)}, the config expects {list(expected[key].shape)}"
            )
    loaded = {k: v for k, v in tensors.items() if k in expected}
    model.load_state_dict(loaded, strict=not deferred, assign=True)


STREAMED = "transformer." + BLOCK_PREFIX  # the DiT blocks: what `--offload` leaves in the file


def _is_streamed(key: str) -> bool:
    return key.startswith(STREAMED)


def stream_blocks(model: SwiftVR, key_files: dict[str, tuple[Path, str]], device, dtype: torch.dtype) -> None:
    """Leave the DiT blocks in their files and stream them one ahead of use (`--offload`)."""
    files = BlockFiles.from_keys({k: v for k, v in key_files.items() if _is_streamed(k)}, "transformer.")
    model.transformer.block_stream = BlockStream(files, device, dtype)


def _header_shapes(
    paths: dict[Path, str], keep: Callable[[str], bool]
) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[Path, str]]]:
    """Shapes and places (file, key in it) of the tensors `keep` names, from the headers only ({file: key prefix})."""
    shapes, files = {}, {}
    for path, prefix in paths.items():
        for key, shape in tensor_shapes(path).items():
            if keep(prefix + key):
                shapes[prefix + key], files[prefix + key] = shape, (path, key)
    return shapes, files


def _finish(model: SwiftVR, prompt: torch.Tensor, device, dtype) -> SwiftVR:
    if prompt.is_floating_point() and not bool(torch.isfinite(prompt).all()):
        raise WeightsError("the prompt embedding holds NaN or infinite values (corrupt weights)")
    model.prompt_emb = prompt.to(device=device, dtype=dtype)
    model.eval().requires_grad_(False)
    return model.use_channels_last()


def _official_config(root: Path) -> SwiftVRConfig:
    """The DiT config from `transformer/config.json`, the ReAE widths from the tensor shapes."""
    config_path = root / OFFICIAL_DIT_DIR / "config.json"
    try:
        dit_cfg = check_dit_config(DiTConfig.from_json_dict(json.loads(config_path.read_text())))
    except FileNotFoundError:
        raise WeightsError(f"missing {config_path}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise WeightsError(f"bad config {config_path}: {exc}") from None
    return SwiftVRConfig(dit=dit_cfg, reae=reae_config_from_shapes(tensor_shapes(root / OFFICIAL_REAE)))


def load_official(folder: str | Path, device="cpu", dtype: torch.dtype = torch.float32, offload: bool = False) -> SwiftVR:
    """Load an official SwiftVR release folder exactly as published (shard by shard, memory-mapped).

    offload: the DiT blocks stay in their files and are streamed during inference.
    """
    root = Path(folder)
    if not root.is_dir():
        raise WeightsError(f"weights folder not found: {root}")
    cfg = _official_config(root)
    reae_path = root / OFFICIAL_REAE
    prompt_path = root / OFFICIAL_PROMPT
    prompts = read_tensors(prompt_path)
    if "prompt_emb" not in prompts:
        raise WeightsError(f"{prompt_path} has no tensor 'prompt_emb'")
    prompt = prompts["prompt_emb"]
    prompt = prompt[0] if prompt.dim() == 3 else prompt  # [1, S, text_dim] -> [S, text_dim]
    with torch.device("meta"):
        model = SwiftVR(cfg)
    tensors = read_tensors(reae_path, "reae.", device, dtype)
    sources = {"reae": str(reae_path), "transformer": str(root / OFFICIAL_DIT_DIR)}
    shards = dit_weight_files(root / OFFICIAL_DIT_DIR)
    skip = _is_streamed if offload else None
    for shard in shards:
        tensors.update(read_tensors(shard, "transformer.", device, dtype, skip))
    deferred, files = _header_shapes({shard: "transformer." for shard in shards}, _is_streamed) if offload else ({}, {})
    assign_weights(model, tensors, sources, ignore=IGNORED_DIT_KEYS, deferred=deferred)
    if offload:
        stream_blocks(model, files, device, dtype)
    return _finish(model, prompt, device, dtype)


def _weights_meta(json_path: Path) -> dict:
    try:
        return json.loads(json_path.read_text())
    except FileNotFoundError:
        raise WeightsError(f"missing weights config: {json_path}") from None
    except ValueError as exc:
        raise WeightsError(f"bad weights config {json_path}: {exc}") from None


def load_embedded(
    json_path: str | Path, device="cpu", dtype: torch.dtype = torch.float32, verify: bool = True, offload: bool = False
) -> SwiftVR:
    """Load our own weights: `NAME.json` (config + sha256) beside `NAME.safetensors`."""
    json_path = Path(json_path)
    meta = _weights_meta(json_path)
    weights_path = json_path.with_suffix(".safetensors")
    if not weights_path.exists():
        raise WeightsError(f"missing weights file: {weights_path}")
    try:  # sizes checked before anything is built or allocated
        cfg = config_from_json(meta)
    except ConfigError as exc:
        raise WeightsError(f"bad weights config {json_path}: {exc}") from None
    if verify and meta.get("sha256") and file_sha256(weights_path) != meta["sha256"]:
        raise WeightsError(f"{weights_path} does not match the sha256 in {json_path.name} (corrupt or replaced)")
    offload = offload and cfg.use_dit
    try:
        with torch.device("meta"):
            model = SwiftVR(cfg)
        check_shapes(model.state_dict(), tensor_shapes(weights_path), str(weights_path))
    except (ConfigError, ValueError, TypeError, RuntimeError, ZeroDivisionError, IndexError) as exc:
        raise WeightsError(f"bad weights config {json_path}: {exc}") from None
    tensors = read_tensors(weights_path, "", device, dtype, _is_streamed if offload else None)
    prompt = tensors.pop("prompt_emb", torch.zeros(1, cfg.dit.text_dim))
    deferred, files = _header_shapes({weights_path: ""}, _is_streamed) if offload else ({}, {})
    assign_weights(model, tensors, {"reae": str(weights_path), "transformer": str(weights_path)}, deferred=deferred)
    model.default_strength = _default_strength(meta, json_path)
    if offload:
        stream_blocks(model, files, device, dtype)
    return _finish(model, prompt, device, dtype)


def _default_strength(meta: dict, json_path: Path) -> float:
    """The validated default --strength stored with our weights (1 when there is none)."""
    inference = meta.get("inference") or {}
    value = inference.get("strength", 1.0) if isinstance(inference, dict) else inference
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= MAX_STRENGTH:
        raise WeightsError(f"bad inference strength {value!r} in {json_path.name} (must be 0..{MAX_STRENGTH:g})")
    return float(value)


def save_embedded(model: SwiftVR, json_path: str | Path, extra: dict | None = None) -> Path:
    """Write `NAME.safetensors` + `NAME.json` (config, sha256, any extra metadata)."""
    json_path = Path(json_path)
    weights_path = json_path.with_suffix(".safetensors")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    tensors["prompt_emb"] = model.prompt_emb.detach().cpu().contiguous()
    save_file(tensors, str(weights_path))
    config = model.cfg.to_json_dict()
    meta = {"config": config, "config_sha256": config_digest(config), "sha256": file_sha256(weights_path)}
    meta.update(extra or {})
    json_path.write_text(json.dumps(meta, indent=2) + "\n")
    return weights_path


def random_model(cfg: SwiftVRConfig, device="cpu", dtype: torch.dtype = torch.float32, seed: int = 0, prompt_len: int = 16) -> SwiftVR:
    """A randomly initialised model (benchmarks of any config without a download).

    Benchmarks of the official config use prompt_len=512, the length of the
    release's empty-prompt embedding, so cross-attention costs the same.
    """
    torch.manual_seed(seed)
    with torch.device(device):
        model = SwiftVR(cfg, torch.randn(prompt_len, cfg.dit.text_dim) if cfg.use_dit else None)
    return model.to(dtype).eval().requires_grad_(False).use_channels_last()


def load_model(weights: str | Path | None, device="cpu", dtype: torch.dtype = torch.float32, offload: bool = False) -> SwiftVR:
    """`--weights` resolution: an official folder, one of our json files, or the embedded default."""
    if weights is None:
        return load_embedded(default_weights_path(), device, dtype, offload=offload)
    path = Path(weights)
    if is_official_folder(path):
        return load_official(path, device, dtype, offload)
    return load_embedded(embedded_json(path), device, dtype, offload=offload)


def model_config(weights: str | Path | None) -> tuple[SwiftVRConfig, int]:
    """(config, prompt length) of `--weights` from its headers and json only: no tensor is read."""
    if weights is not None and is_official_folder(Path(weights)):
        prompt = tensor_shapes(Path(weights) / OFFICIAL_PROMPT).get("prompt_emb", (1, 1))
        return _official_config(Path(weights)), prompt[-2] if len(prompt) > 1 else 1
    json_path = default_weights_path() if weights is None else embedded_json(Path(weights))
    meta = _weights_meta(json_path)
    try:
        cfg = config_from_json(meta)
    except ConfigError as exc:
        raise WeightsError(f"bad weights config {json_path}: {exc}") from None
    prompt = tensor_shapes(json_path.with_suffix(".safetensors")).get("prompt_emb", (1, 1))
    return cfg, prompt[-2] if len(prompt) > 1 else 1


def is_official_folder(path: Path) -> bool:
    return path.is_dir() and ((path / OFFICIAL_DIT_DIR).is_dir() or (path / OFFICIAL_REAE).exists())


def embedded_json(path: Path) -> Path:
    """The json of our own weights named by `--weights` (a folder holding one, the json or the safetensors)."""
    if path.is_dir():
        jsons = sorted(path.glob("*.json"))
        if len(jsons) == 1:
            return jsons[0]
        raise WeightsError(f"{path} is neither an official SwiftVR folder nor holds one weights json")
    return path.with_suffix(".json") if path.suffix == ".safetensors" else path


def default_weights_path() -> Path:
    """The embedded default shipped in the repository's `weights/` folder."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "weights" / "swiftvr-tiny.json"
        if candidate.exists():
            return candidate
    packaged = here.parent.parent / "weights" / "swiftvr-tiny.json"
    return packaged
