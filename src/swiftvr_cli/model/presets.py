"""Named model sizes, in a table (not an if/elif chain).

`official` is the Wan2.2-TI2V-5B SwiftVR release (for random-weight
benchmarks); `tiny` is our embedded default, sized to restore 640x360 at
interactive speed on a 2-core CPU.
"""

from __future__ import annotations

from dataclasses import replace

from .config import DiTConfig, ReAEConfig, SwiftVRConfig

_TINY_DIT = DiTConfig(
    num_attention_heads=2, attention_head_dim=32, ffn_dim=128, text_dim=16, freq_dim=32,
    num_layers=2, in_channels=32, out_channels=32, window=(16, 16),
)  # fmt: skip
_TINY_REAE = ReAEConfig(
    latent_channels=32, encoder_width=16, decoder_widths=(48, 32, 16), decoder_out_width=24,
    residual=True,  # predict a correction on top of the upscaled input
    detail_width=40,  # a causal CNN on the input's own pixel grid (at x4) carries the detail
    detail_layers=8,
)  # fmt: skip

# Same-size tasks (noise, blur) need every pixel: the detail branch at half size (as
# FFDNet), and wider; it costs several times `tiny`'s time per output pixel (weights/README.md, Speed).
_FINE_REAE = replace(_TINY_REAE, detail_width=48, detail_layers=8, detail_grid=2)
# Two convolutions deeper (a wider view of motion and damage), grown from a trained model
# of the shallower size (`train.trainer.deepen_detail`)
_DEEP_REAE = replace(_TINY_REAE, detail_layers=10)
_FINE_DEEP_REAE = replace(_FINE_REAE, detail_layers=10)
# 12 layers: tried for SR, not shipped (weights/README.md, fourth round)
_DEEPER_REAE = replace(_TINY_REAE, detail_layers=12)
# the 10-layer SR branch with a specialist for compressed or soft input, blended per frame
# by a router (model.routing): the SR default since the ninth round (weights/README.md)
_ROUTED_REAE = replace(_DEEP_REAE, detail_experts=2)

PRESETS: dict[str, SwiftVRConfig] = {
    "official": SwiftVRConfig(),
    "tiny": SwiftVRConfig(dit=_TINY_DIT, reae=_TINY_REAE, upscale_mode="bicubic"),  # bicubic: the correction's base
    "tiny-fine": SwiftVRConfig(dit=_TINY_DIT, reae=_FINE_REAE, upscale_mode="bicubic"),
    "tiny-deep": SwiftVRConfig(dit=_TINY_DIT, reae=_DEEP_REAE, upscale_mode="bicubic"),
    "tiny-fine-deep": SwiftVRConfig(dit=_TINY_DIT, reae=_FINE_DEEP_REAE, upscale_mode="bicubic"),
    "tiny-deeper": SwiftVRConfig(dit=_TINY_DIT, reae=_DEEPER_REAE, upscale_mode="bicubic"),
    "tiny-routed": SwiftVRConfig(dit=_TINY_DIT, reae=_ROUTED_REAE, upscale_mode="bicubic"),
    "test": SwiftVRConfig(  # toy size for unit tests
        dit=DiTConfig(
            num_attention_heads=2, attention_head_dim=12, ffn_dim=48, text_dim=32, freq_dim=16,
            num_layers=2, window=(4, 4),
        ),
        reae=ReAEConfig(decoder_widths=(24, 20, 16)),
    ),
}


def preset(name: str) -> SwiftVRConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown model preset {name!r}; choose from {', '.join(PRESETS)}") from None
