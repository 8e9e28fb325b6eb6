"""One frozen dataclass per model part.

The DiT config mirrors the keys of the official diffusers-style
`transformer/config.json`, so an official checkpoint and our own small
configurations are described the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class DiTConfig:
    """Wan-style video DiT. Defaults are the official SwiftVR (Wan2.2-TI2V-5B) sizes."""

    patch_size: tuple[int, int, int] = (1, 2, 2)  # (t, h, w); latent is already 4x/16x compressed
    num_attention_heads: int = 24
    attention_head_dim: int = 128
    in_channels: int = 48
    out_channels: int = 48
    text_dim: int = 4096  # UMT5 embedding width of the fixed (empty) prompt
    freq_dim: int = 256  # sinusoidal timestep embedding size
    ffn_dim: int = 14336
    num_layers: int = 30
    cross_attn_norm: bool = True
    qk_norm: str = "rms_norm_across_heads"  # RMS over the full width, not per head
    eps: float = 1e-6
    rope_max_seq_len: int = 1024  # informational: rotary angles are computed, never stored
    window: tuple[int, int] = (16, 16)  # MFSWA window in tokens (config key self_attn_window_hw)

    @property
    def dim(self) -> int:
        return self.num_attention_heads * self.attention_head_dim

    @classmethod
    def from_json_dict(cls, raw: dict[str, Any]) -> "DiTConfig":
        """Read an official `transformer/config.json` (ignores `_*` bookkeeping keys)."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key.startswith("_"):
                continue
            if key == "self_attn_window_hw":
                values["window"] = tuple(value)
            elif key == "patch_size":
                values["patch_size"] = tuple(value)
            elif key in known:
                values[key] = value
        if values.get("qk_norm") not in (None, "rms_norm_across_heads"):
            raise ValueError(f"unsupported qk_norm {values['qk_norm']!r} (only 'rms_norm_across_heads')")
        return cls(**values)

    def to_json_dict(self) -> dict[str, Any]:
        """The official config.json form (with the keys that do not change results)."""
        out = asdict(self)
        out["patch_size"] = list(self.patch_size)
        out["self_attn_window_hw"] = list(out.pop("window"))
        out.update(
            {
                "_class_name": "WanTransformer3DModel",
                "image_dim": None,
                "added_kv_proj_dim": None,
                "pos_embed_seq_len": None,
                "enable_swa": True,
                "use_torch_compile": False,
                "compile_mode": "default",
            }
        )
        return out


@dataclass(frozen=True)
class ReAEConfig:
    """Restoration-aware autoencoder: 16x spatial, 4x temporal compression.

    The official release fixes the encoder width (64) and latent channels (48);
    the decoder stage widths are read from the checkpoint shapes.
    """

    latent_channels: int = 48  # 0: no latent path (no encoder, DiT or decoder; see SwiftVRConfig)
    encoder_width: int = 64
    decoder_widths: tuple[int, int, int] = (512, 256, 128)
    decoder_out_width: int = 64  # width of the last full-resolution conv
    # Our own restoration-friendly options (off in the official model):
    residual: bool = False  # decoder output is added to the (upsampled) LQ frame
    # Detail branch: a causal CNN on the LQ frames at 1/4 of the output size (the input's
    # own grid at x4), fed the current and previous frame plus an optional fill mask; its
    # output is an RGB correction added to the decoder's.
    detail_width: int = 0  # 0 = no detail branch
    detail_layers: int = 8  # convolutions in the branch
    detail_grid: int = 4  # runs at 1/grid of the output size (4: SR; 2: same-size tasks)
    detail_experts: int = 1  # 2: a specialist blended in per frame by a router (model.routing)


# Options that were tried and retired (they did not pay for their cost). Files written
# before their removal still carry them, switched off: accepted with these values only.
RETIRED_REAE_OPTIONS: dict[str, object] = {"lq_skip_channels": 0, "lq_skip_layers": 1, "detail_recurrent": False}


def _without_retired(reae: dict[str, Any]) -> dict[str, Any]:
    for key, off in RETIRED_REAE_OPTIONS.items():
        if key in reae and reae.pop(key) != off:
            raise ValueError(f"the model option {key!r} is no longer supported (only {off!r}, its 'off' value)")
    return reae


@dataclass(frozen=True)
class SwiftVRConfig:
    """A complete restorer: DiT + ReAE + how frames are prepared."""

    dit: DiTConfig = field(default_factory=DiTConfig)
    reae: ReAEConfig = field(default_factory=ReAEConfig)
    pad_multiple: int = 32  # frames are padded bottom/right (edge replicated) to this multiple
    use_dit: bool = True
    # How LQ frames are brought to the output size. The release uses bilinear; our residual
    # models use bicubic, so the untrained correction starts at the bicubic baseline.
    upscale_mode: str = "bilinear"

    def __post_init__(self) -> None:
        if not self.has_latent_path and (self.use_dit or not self.reae.residual or not self.reae.detail_width):
            raise ValueError("a model without a latent path (latent_channels 0) needs residual, a detail branch and use_dit false")

    @property
    def has_latent_path(self) -> bool:
        """False for our small models that ship only what they use: the detail branch on
        the upscaled input (the latent path of their training runs adds exactly nothing)."""
        return self.reae.latent_channels > 0

    def without_latent_path(self) -> "SwiftVRConfig":
        """The same model with its (silent) encoder, DiT and decoder left out."""
        return replace(self, use_dit=False, reae=replace(self.reae, latent_channels=0))

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "dit": self.dit.to_json_dict(),
            "reae": asdict(self.reae),
            "pad_multiple": self.pad_multiple,
            "use_dit": self.use_dit,
            "upscale_mode": self.upscale_mode,
        }

    @classmethod
    def from_json_dict(cls, raw: dict[str, Any]) -> "SwiftVRConfig":
        reae = _without_retired(dict(raw.get("reae", {})))
        if "decoder_widths" in reae:
            reae["decoder_widths"] = tuple(reae["decoder_widths"])
        return cls(
            dit=DiTConfig.from_json_dict(raw.get("dit", {})),
            reae=ReAEConfig(**reae),
            pad_multiple=int(raw.get("pad_multiple", 32)),
            use_dit=bool(raw.get("use_dit", True)),
            upscale_mode=str(raw.get("upscale_mode", "bilinear")),
        )
