import math

import torch

from swiftvr_cli.model.dit import SwiftVRTransformer, timestep_embedding
from swiftvr_cli.model.rope import apply_rope, rope_angles, rope_parts


def test_rope_split_matches_release():
    assert rope_parts(128) == (44, 42, 42)
    assert rope_parts(12) == (4, 4, 4)


def test_rope_time_offset_continues_positions():
    whole = rope_angles((6, 2, 3), 12, 0)
    tail = rope_angles((2, 2, 3), 12, 4)
    torch.testing.assert_close(whole[4 * 6 :], tail)  # computed from another offset: equal up to rounding


def test_rope_is_a_rotation():
    x = torch.randn(1, 2, 30, 12, dtype=torch.float64)
    angles = rope_angles((5, 2, 3), 12, 7).double()
    y = apply_rope(x, angles.cos(), angles.sin())
    assert torch.allclose(x.norm(dim=-1), y.norm(dim=-1))


def test_timestep_embedding_cosine_first():
    emb = timestep_embedding(torch.tensor([1000.0]), 8)
    freqs = [math.exp(-math.log(10000) * k / 4) for k in range(4)]
    expected = [math.cos(1000 * f) for f in freqs] + [math.sin(1000 * f) for f in freqs]
    assert torch.allclose(emb[0], torch.tensor(expected), atol=1e-4)


def test_forward_shape_and_determinism(tiny_config):
    model = SwiftVRTransformer(tiny_config.dit).eval()
    kv = model.encode_prompt(torch.randn(8, tiny_config.dit.text_dim))
    z = torch.randn(1, 48, 3, 10, 12)
    with torch.no_grad():
        a = model.restore(z, kv, time_offset=5)
        b = model.restore(z, kv, time_offset=5)
    assert a.shape == z.shape and torch.isfinite(a).all()
    assert torch.equal(a, b)


def test_bfloat16_inference_runs_and_stays_close_to_float32(tiny_config):
    from swiftvr_cli.model.loading import random_model
    from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState

    frames = torch.rand(12, 3, 24, 32, generator=torch.Generator().manual_seed(3)) * 255
    outs = []
    for dtype in (torch.float32, torch.bfloat16):
        model = random_model(tiny_config, dtype=dtype, seed=1)
        out, _ = model.restore_chunk(frames, ChunkKind.FIRST, RestoreState(), size=(96, 128), clip_len=8)
        assert out.dtype == dtype
        outs.append(out.float())
    assert (outs[0] - outs[1]).abs().mean() < 0.02
