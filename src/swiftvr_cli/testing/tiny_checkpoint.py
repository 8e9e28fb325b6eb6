"""Write a small random checkpoint in the official SwiftVR layout.

The layout (file names, tensor names, shapes, config keys) follows
``docs/checkpoints.md``; the sizes are shrunk so a whole restore runs in seconds on a CPU:

    <root>/reae.safetensors                                encoder.N.* / decoder.N.*
    <root>/prompt_embedding.safetensors                    prompt_emb [1, S, text_dim]
    <root>/transformer/config.json                         diffusers-style config
    <root>/transformer/diffusion_pytorch_model.safetensors DiT weights
      (or diffusion_pytorch_model-0000i-of-00002.safetensors + ...safetensors.index.json)

What the layout fixes and this module therefore does not let you change: the ReAE
encoder is 64 wide everywhere, images have 3 channels and the autoencoder patch is 2
(12 channels after pixel-unshuffle). The latent width (48 in the release) is a
parameter because the DiT reads it from the config, but note that the official ReAE
is built for 48 latent channels.

Weights are random but scaled so that a restore produces a varied picture (not all
0, all 1 or constant): every weight is normal with std ``init_scale / sqrt(fan_in)``,
biases are small, norm weights are near 1, modulation tables are small, the last
encoder conv gets an extra gain so latents have roughly unit spread, and the last
decoder bias is centred on 0.5 so the clamp to [0, 1] is not saturated.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file

# Fixed by the official ReAE layout (docs/checkpoints.md, ReAE tensors).
IMAGE_CHANNELS = 3
AE_PATCH = 2
ENCODER_WIDTH = 64
DECODER_OUT_WIDTH = 64  # decoder.20 maps n2 -> 64 before the final conv to 12 channels

REAE_FILE = "reae.safetensors"
PROMPT_FILE = "prompt_embedding.safetensors"
TRANSFORMER_DIR = "transformer"
CONFIG_FILE = "config.json"
DIT_FILE = "diffusion_pytorch_model.safetensors"
DIT_INDEX_FILE = "diffusion_pytorch_model.safetensors.index.json"
NUM_SHARDS = 2

# Bookkeeping keys diffusers writes next to the model arguments.
DIFFUSERS_CLASS_NAME = "WanTransformer3DModel"
DIFFUSERS_VERSION = "0.36.0"

Shape = tuple[int, ...]

# The encoder's ReLU stack shrinks the signal: with plain 1/sqrt(fan_in) weights the
# latents come out with std ~0.15 and the DiT update dwarfs them. This extra gain on
# the last encoder conv brings them to std ~0.9, so encoder and DiT both matter.
LATENT_PROJECTION = "encoder.17.weight"
LATENT_GAIN = 6.0


@dataclass(frozen=True)
class TinyCheckpointSpec:
    """Sizes of a tiny checkpoint; defaults are the smallest that still exercise
    every code path (2 layers so both the plain and the shifted window layer run)."""

    num_layers: int = 2
    num_heads: int = 2
    head_dim: int = 12  # 12 -> rotary split t/h/w = 4/4/4
    ffn_dim: int = 48
    text_dim: int = 32
    freq_dim: int = 16
    latent_channels: int = 48  # the official ReAE only exists for 48
    patch: tuple[int, int, int] = (1, 2, 2)
    window: tuple[int, int] = (4, 4)
    decoder_widths: tuple[int, int, int] = (24, 20, 16)  # release: (512, 256, 128)
    prompt_len: int = 8  # release: 512 (empty UMT5 prompt)

    @property
    def dim(self) -> int:
        """Model width D = heads x head_dim."""
        return self.num_heads * self.head_dim


# --------------------------------------------------------------------------- #
# Tensor tables                                                               #
# --------------------------------------------------------------------------- #


def _conv_shapes(prefix: str, n_in: int, n_out: int, bias: bool, k: int = 3) -> dict[str, Shape]:
    shapes = {f"{prefix}.weight": (n_out, n_in, k, k)}
    if bias:
        shapes[f"{prefix}.bias"] = (n_out,)
    return shapes


def _memblock_shapes(prefix: str, n: int) -> dict[str, Shape]:
    shapes: dict[str, Shape] = {}
    shapes.update(_conv_shapes(f"{prefix}.conv.0", 2 * n, n, bias=True))
    shapes.update(_conv_shapes(f"{prefix}.conv.2", n, n, bias=True))
    shapes.update(_conv_shapes(f"{prefix}.conv.4", n, n, bias=True))
    return shapes


def reae_tensor_shapes(
    decoder_widths: tuple[int, int, int] = (512, 256, 128), latent_channels: int = 48
) -> dict[str, Shape]:
    """Every tensor of ``reae.safetensors`` (docs/checkpoints.md, ReAE tensors), in stack order."""
    e = ENCODER_WIDTH
    n0, n1, n2 = decoder_widths
    unshuffled = IMAGE_CHANNELS * AE_PATCH**2
    s: dict[str, Shape] = {}

    # Encoder: conv, ReLU, then three (temporal pool, stride-2 conv, 3 memory blocks)
    # stages, then the projection to the latent width.
    s.update(_conv_shapes("encoder.0", unshuffled, e, bias=True))
    stage_starts = ((2, 2), (7, 2), (12, 1))  # (position of the pool, time factor)
    for pool_at, factor in stage_starts:
        s[f"encoder.{pool_at}.conv.weight"] = (e, e * factor, 1, 1)
        s.update(_conv_shapes(f"encoder.{pool_at + 1}", e, e, bias=False))
        for j in range(3):
            s.update(_memblock_shapes(f"encoder.{pool_at + 2 + j}", e))
    s.update(_conv_shapes("encoder.17", e, latent_channels, bias=True))

    # Decoder: clamp, conv, ReLU, then three (3 memory blocks, upsample, temporal
    # grow, conv) stages, ReLU, conv to image channels.
    s.update(_conv_shapes("decoder.1", latent_channels, n0, bias=True))
    for j in range(3):
        s.update(_memblock_shapes(f"decoder.{3 + j}", n0))
    s["decoder.7.proj.weight"] = (n0, n0, 1, 1)
    s.update(_conv_shapes("decoder.8", n0, n1, bias=False))
    for j in range(3):
        s.update(_memblock_shapes(f"decoder.{9 + j}", n1))
    s["decoder.13.conv3d.weight"] = (n1, n1, 3, 1, 1)
    s.update(_conv_shapes("decoder.14", n1, n2, bias=False))
    for j in range(3):
        s.update(_memblock_shapes(f"decoder.{15 + j}", n2))
    s["decoder.19.conv3d.weight"] = (n2, n2, 3, 1, 1)
    s.update(_conv_shapes("decoder.20", n2, DECODER_OUT_WIDTH, bias=False))
    s.update(_conv_shapes("decoder.22", DECODER_OUT_WIDTH, unshuffled, bias=True))
    return s


def _linear_shapes(prefix: str, n_in: int, n_out: int) -> dict[str, Shape]:
    return {f"{prefix}.weight": (n_out, n_in), f"{prefix}.bias": (n_out,)}


def dit_tensor_shapes(spec: TinyCheckpointSpec, cross_attn_norm: bool = True) -> dict[str, Shape]:
    """Every tensor of the DiT safetensors (docs/checkpoints.md, DiT tensors)."""
    d, c, f = spec.dim, spec.latent_channels, spec.ffn_dim
    pt, ph, pw = spec.patch
    s: dict[str, Shape] = {
        "patch_embedding.weight": (d, c, pt, ph, pw),
        "patch_embedding.bias": (d,),
    }
    s.update(_linear_shapes("condition_embedder.time_embedder.linear_1", spec.freq_dim, d))
    s.update(_linear_shapes("condition_embedder.time_embedder.linear_2", d, d))
    s.update(_linear_shapes("condition_embedder.time_proj", d, 6 * d))
    s.update(_linear_shapes("condition_embedder.text_embedder.linear_1", spec.text_dim, d))
    s.update(_linear_shapes("condition_embedder.text_embedder.linear_2", d, d))
    for i in range(spec.num_layers):
        b = f"blocks.{i}"
        s[f"{b}.scale_shift_table"] = (1, 6, d)
        for attn in ("attn1", "attn2"):
            for proj in ("to_q", "to_k", "to_v", "to_out.0"):
                s.update(_linear_shapes(f"{b}.{attn}.{proj}", d, d))
            s[f"{b}.{attn}.norm_q.weight"] = (d,)
            s[f"{b}.{attn}.norm_k.weight"] = (d,)
        if cross_attn_norm:
            s[f"{b}.norm2.weight"] = (d,)
            s[f"{b}.norm2.bias"] = (d,)
        s.update(_linear_shapes(f"{b}.ffn.net.0.proj", d, f))
        s.update(_linear_shapes(f"{b}.ffn.net.2", f, d))
    s.update(_linear_shapes("proj_out", d, c * pt * ph * pw))
    s["scale_shift_table"] = (1, 2, d)
    return s


def official_tensor_shapes(spec: TinyCheckpointSpec | None = None) -> dict[str, dict[str, Shape]]:
    """Tensor tables keyed by file: ``reae.safetensors``, ``prompt_embedding.safetensors``
    and ``transformer`` (all DiT tensors, whether stored in one file or sharded)."""
    spec = spec or TinyCheckpointSpec()
    return {
        REAE_FILE: reae_tensor_shapes(spec.decoder_widths, spec.latent_channels),
        PROMPT_FILE: {"prompt_emb": (1, spec.prompt_len, spec.text_dim)},
        TRANSFORMER_DIR: dit_tensor_shapes(spec),
    }


def dit_config(spec: TinyCheckpointSpec) -> dict:
    """``transformer/config.json`` contents: every key docs/checkpoints.md lists for the DiT
    configuration, plus the diffusers bookkeeping keys."""
    return {
        "_class_name": DIFFUSERS_CLASS_NAME,
        "_diffusers_version": DIFFUSERS_VERSION,
        "patch_size": list(spec.patch),
        "num_attention_heads": spec.num_heads,
        "attention_head_dim": spec.head_dim,
        "in_channels": spec.latent_channels,
        "out_channels": spec.latent_channels,
        "text_dim": spec.text_dim,
        "freq_dim": spec.freq_dim,
        "ffn_dim": spec.ffn_dim,
        "num_layers": spec.num_layers,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "eps": 1e-6,
        "image_dim": None,
        "added_kv_proj_dim": None,
        "rope_max_seq_len": 1024,
        "pos_embed_seq_len": None,
        "enable_swa": True,
        "self_attn_window_hw": list(spec.window),
        "use_torch_compile": False,
        "compile_mode": "default",
    }


# --------------------------------------------------------------------------- #
# Random values                                                               #
# --------------------------------------------------------------------------- #


def _random_tensor(name: str, shape: Shape, gen: torch.Generator, init_scale: float) -> torch.Tensor:
    """A float32 tensor for ``name``; the scale depends on the tensor's role."""
    noise = torch.randn(shape, generator=gen, dtype=torch.float32)
    if name.endswith("scale_shift_table"):
        return 0.1 * noise  # modulation offsets: small, so (1 + scale) stays near 1
    if name == "decoder.22.bias":
        return 0.5 + 0.1 * noise  # centre the decoded pixels inside the [0, 1] clamp
    if ".norm_q." in name or ".norm_k." in name or ".norm2.weight" in name:
        return 1.0 + 0.1 * noise
    if name.endswith(".bias"):
        return 0.05 * noise
    if name == "prompt_emb":
        return noise
    fan_in = math.prod(shape[1:])  # [out, in, *kernel] for linears and convs alike
    std = init_scale / math.sqrt(fan_in)
    if name == LATENT_PROJECTION:
        std *= LATENT_GAIN
    return noise * std


def _random_state(
    shapes: dict[str, Shape], gen: torch.Generator, init_scale: float, dtype: torch.dtype
) -> dict[str, torch.Tensor]:
    return {
        name: _random_tensor(name, shape, gen, init_scale).to(dtype).contiguous()
        for name, shape in shapes.items()
    }


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _write_dit(state: dict[str, torch.Tensor], out_dir: Path, sharded: bool) -> None:
    meta = {"format": "pt"}
    if not sharded:
        save_file(state, str(out_dir / DIT_FILE), metadata=meta)
        return
    names = list(state)
    per_shard = math.ceil(len(names) / NUM_SHARDS)
    weight_map: dict[str, str] = {}
    for k in range(NUM_SHARDS):
        shard_name = f"diffusion_pytorch_model-{k + 1:05d}-of-{NUM_SHARDS:05d}.safetensors"
        part = {n: state[n] for n in names[k * per_shard : (k + 1) * per_shard]}
        save_file(part, str(out_dir / shard_name), metadata=meta)
        weight_map.update({n: shard_name for n in part})
    index = {
        "metadata": {"total_size": sum(_nbytes(t) for t in state.values())},
        "weight_map": weight_map,
    }
    (out_dir / DIT_INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")


def write_tiny_official_checkpoint(
    root: Path,
    *,
    num_layers: int = 2,
    num_heads: int = 2,
    head_dim: int = 12,
    ffn_dim: int = 48,
    text_dim: int = 32,
    freq_dim: int = 16,
    latent_channels: int = 48,
    patch: tuple[int, int, int] = (1, 2, 2),
    window: tuple[int, int] = (4, 4),
    decoder_widths: tuple[int, int, int] = (24, 20, 16),
    prompt_len: int = 8,
    seed: int = 0,
    dtype: torch.dtype = torch.bfloat16,
    sharded: bool = False,
    init_scale: float = 1.0,
) -> Path:
    """Write a complete random checkpoint in the official layout under ``root``.

    Args:
        root: directory to create (parents too); existing files are overwritten.
        sharded: store the DiT as two shards plus the diffusers index json.
        dtype: storage dtype of every tensor (the release uses bf16).
        init_scale: multiplies the std of every weight matrix / kernel.
    Returns:
        ``root`` as a Path.
    """
    spec = TinyCheckpointSpec(
        num_layers=num_layers, num_heads=num_heads, head_dim=head_dim, ffn_dim=ffn_dim,
        text_dim=text_dim, freq_dim=freq_dim, latent_channels=latent_channels,
        patch=tuple(patch), window=tuple(window), decoder_widths=tuple(decoder_widths),
        prompt_len=prompt_len,
    )
    root = Path(root)
    tdir = root / TRANSFORMER_DIR
    tdir.mkdir(parents=True, exist_ok=True)
    # Leftovers of an earlier sharded / unsharded write would confuse loaders.
    for old in tdir.glob("diffusion_pytorch_model*"):
        old.unlink()

    tables = official_tensor_shapes(spec)
    gen = torch.Generator().manual_seed(seed)
    reae = _random_state(tables[REAE_FILE], gen, init_scale, dtype)
    dit = _random_state(tables[TRANSFORMER_DIR], gen, init_scale, dtype)
    prompt = _random_state(tables[PROMPT_FILE], gen, init_scale, dtype)

    save_file(reae, str(root / REAE_FILE), metadata={"format": "pt"})
    save_file(prompt, str(root / PROMPT_FILE), metadata={"format": "pt"})
    _write_dit(dit, tdir, sharded)
    (tdir / CONFIG_FILE).write_text(json.dumps(dit_config(spec), indent=2) + "\n")
    return root
