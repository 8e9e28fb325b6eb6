"""Fixtures shared by the CLI / pipeline tests: a fast random model saved like ours."""

from __future__ import annotations

import dataclasses
import signal

import pytest
import torch

from swiftvr_cli.model.config import DiTConfig, ReAEConfig, SwiftVRConfig
from swiftvr_cli.model.loading import random_model, save_embedded

# Started in the background by a shell (`nohup ... &`, some CI runners), the test process
# inherits SIGINT ignored, and so would every CLI it starts: the tests that stop a run
# with Ctrl-C need it delivered as in a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Small enough that a few-second clip restores in a second on a 2-core CPU.
FAST_CONFIG = SwiftVRConfig(
    dit=DiTConfig(num_attention_heads=2, attention_head_dim=8, ffn_dim=32, text_dim=8, freq_dim=16,
                  num_layers=2, in_channels=8, out_channels=8, window=(4, 4)),
    reae=ReAEConfig(latent_channels=8, encoder_width=8, decoder_widths=(8, 8, 8), decoder_out_width=8,
                    residual=True),
)  # fmt: skip


def _save_random(tmp_path_factory, config, name: str) -> str:
    path = tmp_path_factory.mktemp("weights") / f"{name}.json"
    torch.manual_seed(0)
    save_embedded(random_model(config, seed=0), path)
    return str(path)


@pytest.fixture(scope="session")
def fast_weights(tmp_path_factory) -> str:
    """A random (but deterministic) model in our weights format; restores are quick."""
    return _save_random(tmp_path_factory, FAST_CONFIG, "fast")


# FAST_CONFIG plus a small detail branch: the task models (deblur, denoise, inpaint) have one,
# and it is what reads the fill mask.
DETAIL_CONFIG = dataclasses.replace(
    FAST_CONFIG, reae=dataclasses.replace(FAST_CONFIG.reae, detail_width=8, detail_layers=3)
)


@pytest.fixture(scope="session")
def detail_weights(tmp_path_factory) -> str:
    """A random (deterministic) model with a detail branch, in our weights format."""
    return _save_random(tmp_path_factory, DETAIL_CONFIG, "detail")


@pytest.fixture
def one_torch_thread():
    """Tiny tensors gain nothing from threads, and on a busy 2-core box the pool's spinning
    costs seconds: in-process runs of tiny clips use one torch thread."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
