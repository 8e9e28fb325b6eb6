"""The tiny checkpoint writer produces exactly the official layout (docs/checkpoints.md).

Expected names and shapes are spelled out here from the tables of docs/checkpoints.md, independently of
the writer's own tables, so a slip in either shows up.
"""

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from swiftvr_cli.testing import write_tiny_official_checkpoint

pytestmark = pytest.mark.timeout(120)

DOCUMENTED_CONFIG_KEYS = {
    "patch_size", "num_attention_heads", "attention_head_dim", "in_channels", "out_channels",
    "text_dim", "freq_dim", "ffn_dim", "num_layers", "cross_attn_norm", "qk_norm", "eps",
    "image_dim", "added_kv_proj_dim", "rope_max_seq_len", "pos_embed_seq_len", "enable_swa",
    "self_attn_window_hw", "use_torch_compile", "compile_mode",
}


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def memblock(prefix: str, n: int) -> dict:
    return {
        f"{prefix}.conv.0.weight": (n, 2 * n, 3, 3), f"{prefix}.conv.0.bias": (n,),
        f"{prefix}.conv.2.weight": (n, n, 3, 3), f"{prefix}.conv.2.bias": (n,),
        f"{prefix}.conv.4.weight": (n, n, 3, 3), f"{prefix}.conv.4.bias": (n,),
    }


def expected_reae(n0: int, n1: int, n2: int, latent: int = 48) -> dict:
    """docs/checkpoints.md, ReAE tensors, row by row."""
    e = {
        "encoder.0.weight": (64, 12, 3, 3), "encoder.0.bias": (64,),
        "encoder.2.conv.weight": (64, 128, 1, 1),
        "encoder.3.weight": (64, 64, 3, 3),
        "encoder.7.conv.weight": (64, 128, 1, 1),
        "encoder.8.weight": (64, 64, 3, 3),
        "encoder.12.conv.weight": (64, 64, 1, 1),
        "encoder.13.weight": (64, 64, 3, 3),
        "encoder.17.weight": (latent, 64, 3, 3), "encoder.17.bias": (latent,),
        "decoder.1.weight": (n0, latent, 3, 3), "decoder.1.bias": (n0,),
        "decoder.7.proj.weight": (n0, n0, 1, 1),
        "decoder.8.weight": (n1, n0, 3, 3),
        "decoder.13.conv3d.weight": (n1, n1, 3, 1, 1),
        "decoder.14.weight": (n2, n1, 3, 3),
        "decoder.19.conv3d.weight": (n2, n2, 3, 1, 1),
        "decoder.20.weight": (64, n2, 3, 3),
        "decoder.22.weight": (12, 64, 3, 3), "decoder.22.bias": (12,),
    }
    for n in (4, 5, 6, 9, 10, 11, 14, 15, 16):
        e.update(memblock(f"encoder.{n}", 64))
    for n, width in ((3, n0), (4, n0), (5, n0), (9, n1), (10, n1), (11, n1),
                     (15, n2), (16, n2), (17, n2)):
        e.update(memblock(f"decoder.{n}", width))
    return e


def expected_dit(layers, d, c, ffn, text_dim, freq_dim, patch=(1, 2, 2)) -> dict:
    """docs/checkpoints.md, DiT tensors, row by row."""
    pt, ph, pw = patch
    e = {
        "patch_embedding.weight": (d, c, pt, ph, pw), "patch_embedding.bias": (d,),
        "condition_embedder.time_embedder.linear_1.weight": (d, freq_dim),
        "condition_embedder.time_embedder.linear_1.bias": (d,),
        "condition_embedder.time_embedder.linear_2.weight": (d, d),
        "condition_embedder.time_embedder.linear_2.bias": (d,),
        "condition_embedder.time_proj.weight": (6 * d, d),
        "condition_embedder.time_proj.bias": (6 * d,),
        "condition_embedder.text_embedder.linear_1.weight": (d, text_dim),
        "condition_embedder.text_embedder.linear_1.bias": (d,),
        "condition_embedder.text_embedder.linear_2.weight": (d, d),
        "condition_embedder.text_embedder.linear_2.bias": (d,),
        "proj_out.weight": (c * pt * ph * pw, d), "proj_out.bias": (c * pt * ph * pw,),
        "scale_shift_table": (1, 2, d),
    }
    for i in range(layers):
        b = f"blocks.{i}"
        e[f"{b}.scale_shift_table"] = (1, 6, d)
        for a in ("attn1", "attn2"):
            for p in ("to_q", "to_k", "to_v", "to_out.0"):
                e[f"{b}.{a}.{p}.weight"] = (d, d)
                e[f"{b}.{a}.{p}.bias"] = (d,)
            e[f"{b}.{a}.norm_q.weight"] = (d,)
            e[f"{b}.{a}.norm_k.weight"] = (d,)
        e[f"{b}.norm2.weight"] = (d,)
        e[f"{b}.norm2.bias"] = (d,)
        e[f"{b}.ffn.net.0.proj.weight"] = (ffn, d)
        e[f"{b}.ffn.net.0.proj.bias"] = (ffn,)
        e[f"{b}.ffn.net.2.weight"] = (d, ffn)
        e[f"{b}.ffn.net.2.bias"] = (d,)
    return e


def shapes(tensors: dict[str, torch.Tensor]) -> dict:
    return {k: tuple(v.shape) for k, v in tensors.items()}


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def default_ckpt(tmp_path_factory) -> Path:
    return write_tiny_official_checkpoint(tmp_path_factory.mktemp("tiny"))


def test_files_are_exactly_the_official_ones(default_ckpt):
    assert files_under(default_ckpt) == {
        "reae.safetensors",
        "prompt_embedding.safetensors",
        "transformer/config.json",
        "transformer/diffusion_pytorch_model.safetensors",
    }


def test_reae_names_shapes_dtypes(default_ckpt):
    reae = read_safetensors(default_ckpt / "reae.safetensors")
    assert shapes(reae) == expected_reae(24, 20, 16)
    assert len(reae) == 128
    assert {t.dtype for t in reae.values()} == {torch.bfloat16}


def test_dit_names_shapes_dtypes(default_ckpt):
    dit = read_safetensors(default_ckpt / "transformer/diffusion_pytorch_model.safetensors")
    assert shapes(dit) == expected_dit(layers=2, d=24, c=48, ffn=48, text_dim=32, freq_dim=16)
    assert {t.dtype for t in dit.values()} == {torch.bfloat16}


def test_prompt_embedding(default_ckpt):
    prompt = read_safetensors(default_ckpt / "prompt_embedding.safetensors")
    assert shapes(prompt) == {"prompt_emb": (1, 8, 32)}
    assert prompt["prompt_emb"].dtype == torch.bfloat16


def test_config_has_every_spec_key(default_ckpt):
    cfg = json.loads((default_ckpt / "transformer/config.json").read_text())
    assert DOCUMENTED_CONFIG_KEYS <= set(cfg)
    extra = set(cfg) - DOCUMENTED_CONFIG_KEYS
    assert all(k.startswith("_") for k in extra), extra
    assert cfg["_class_name"] == "WanTransformer3DModel"
    assert "_diffusers_version" in cfg
    assert cfg["patch_size"] == [1, 2, 2]
    assert cfg["self_attn_window_hw"] == [4, 4]
    assert (cfg["num_attention_heads"], cfg["attention_head_dim"]) == (2, 12)
    assert cfg["in_channels"] == cfg["out_channels"] == 48
    assert cfg["image_dim"] is None and cfg["added_kv_proj_dim"] is None
    assert cfg["pos_embed_seq_len"] is None
    assert cfg["cross_attn_norm"] is True
    assert cfg["qk_norm"] == "rms_norm_across_heads"


def test_values_are_finite_and_varied(default_ckpt):
    for name in ("reae.safetensors", "transformer/diffusion_pytorch_model.safetensors",
                 "prompt_embedding.safetensors"):
        for key, t in read_safetensors(default_ckpt / name).items():
            t = t.float()
            assert torch.isfinite(t).all(), key
            if t.numel() > 1:
                assert t.std() > 0, key


def test_sharded_index_maps_every_tensor(tmp_path, default_ckpt):
    root = write_tiny_official_checkpoint(tmp_path, sharded=True)
    tdir = root / "transformer"
    index = json.loads((tdir / "diffusion_pytorch_model.safetensors.index.json").read_text())
    shard_names = {
        "diffusion_pytorch_model-00001-of-00002.safetensors",
        "diffusion_pytorch_model-00002-of-00002.safetensors",
    }
    assert files_under(tdir) == shard_names | {
        "diffusion_pytorch_model.safetensors.index.json", "config.json"}
    weight_map = index["weight_map"]
    expected = expected_dit(layers=2, d=24, c=48, ffn=48, text_dim=32, freq_dim=16)
    assert set(weight_map) == set(expected)
    assert set(weight_map.values()) == shard_names

    merged: dict[str, torch.Tensor] = {}
    for shard in shard_names:
        part = read_safetensors(tdir / shard)
        assert all(weight_map[k] == shard for k in part), shard
        assert not set(part) & set(merged)
        merged.update(part)
    assert shapes(merged) == expected
    assert index["metadata"]["total_size"] == sum(t.numel() * t.element_size() for t in merged.values())

    # Same seed: the shards hold exactly the unsharded tensors.
    single = read_safetensors(default_ckpt / "transformer/diffusion_pytorch_model.safetensors")
    assert all(torch.equal(merged[k], single[k]) for k in single)


def test_rewrite_replaces_the_other_variant(tmp_path):
    write_tiny_official_checkpoint(tmp_path, sharded=True)
    write_tiny_official_checkpoint(tmp_path, sharded=False)
    assert sorted(p.name for p in (tmp_path / "transformer").iterdir()) == [
        "config.json", "diffusion_pytorch_model.safetensors"]


def test_seed_controls_values(tmp_path):
    a = read_safetensors(write_tiny_official_checkpoint(tmp_path / "a", seed=1) / "reae.safetensors")
    b = read_safetensors(write_tiny_official_checkpoint(tmp_path / "b", seed=1) / "reae.safetensors")
    c = read_safetensors(write_tiny_official_checkpoint(tmp_path / "c", seed=2) / "reae.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["decoder.1.weight"], c["decoder.1.weight"])


def test_custom_sizes_and_dtype(tmp_path):
    root = write_tiny_official_checkpoint(
        tmp_path, num_layers=3, num_heads=3, head_dim=8, ffn_dim=40, text_dim=16, freq_dim=8,
        decoder_widths=(40, 24, 8), patch=(1, 2, 2), window=(3, 5), prompt_len=5,
        dtype=torch.float32)
    reae = read_safetensors(root / "reae.safetensors")
    assert shapes(reae) == expected_reae(40, 24, 8)
    dit = read_safetensors(root / "transformer/diffusion_pytorch_model.safetensors")
    assert shapes(dit) == expected_dit(layers=3, d=24, c=48, ffn=40, text_dim=16, freq_dim=8)
    assert {t.dtype for t in list(reae.values()) + list(dit.values())} == {torch.float32}
    cfg = json.loads((root / "transformer/config.json").read_text())
    assert cfg["self_attn_window_hw"] == [3, 5] and cfg["num_layers"] == 3
    prompt = read_safetensors(root / "prompt_embedding.safetensors")
    assert shapes(prompt) == {"prompt_emb": (1, 5, 16)}
