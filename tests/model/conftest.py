import pytest
import torch

from swiftvr_cli.model.config import DiTConfig, ReAEConfig, SwiftVRConfig


@pytest.fixture
def tiny_config() -> SwiftVRConfig:
    """2 heads, 2 layers, 4x4-token windows, small decoder: the official layout at toy size."""
    return SwiftVRConfig(
        dit=DiTConfig(
            num_attention_heads=2, attention_head_dim=12, ffn_dim=48, text_dim=32,
            freq_dim=16, num_layers=2, window=(4, 4),
        ),
        reae=ReAEConfig(decoder_widths=(24, 20, 16)),
    )


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
