"""Write a random-weight checkpoint of the full-size SwiftVR model in the official layout.

Full size is the Wan2.2-TI2V-5B configuration (30 layers, 24 heads x 128, ffn 14336,
text_dim 4096, decoder widths 512/256/128, a 512-token prompt): 5,040,734,076
parameters, about 10 GB in bf16. The DiT is stored the way diffusers stores a large
model: several `diffusion_pytorch_model-0000i-of-0000n.safetensors` shards and their
`.index.json`. Shards are generated and written one at a time, so this process never
holds more than one shard (about 3.4 GB) - it runs beside other jobs on a 24 GB machine.

    PYTHONPATH=src .venv/bin/python benchmarks/fullsize_checkpoint.py /work/fullsize

The tensor names, shapes and value scales are those of `swiftvr_cli.testing.tiny_checkpoint`
(shared code; only the sizes differ). Not a test: it writes 10 GB.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

from swiftvr_cli.testing.tiny_checkpoint import (
    CONFIG_FILE, DIT_INDEX_FILE, PROMPT_FILE, REAE_FILE, TRANSFORMER_DIR, TinyCheckpointSpec,
    _random_tensor, dit_config, official_tensor_shapes,
)  # fmt: skip

FULL_SIZE = TinyCheckpointSpec(
    num_layers=30, num_heads=24, head_dim=128, ffn_dim=14336, text_dim=4096, freq_dim=256,
    latent_channels=48, window=(16, 16), decoder_widths=(512, 256, 128), prompt_len=512,
)  # fmt: skip
FULL_SIZE_PARAMETERS = 5_040_734_076  # the release's count (reae + DiT; the prompt is not a parameter)


def _save(tensors: dict[str, tuple[int, ...]], path: Path, gen: torch.Generator, dtype: torch.dtype) -> int:
    with torch.device(gen.device):  # random numbers where the generator is (a GPU makes them in seconds)
        state = {name: _random_tensor(name, shape, gen, 1.0).to(dtype).cpu().contiguous() for name, shape in tensors.items()}
    save_file(state, str(path), metadata={"format": "pt"})
    return sum(t.numel() * t.element_size() for t in state.values())


def write(root: Path, shards: int, seed: int, dtype: torch.dtype, device: str = "cpu") -> dict:
    tables = official_tensor_shapes(FULL_SIZE)
    params = sum(math.prod(s) for name in (REAE_FILE, TRANSFORMER_DIR) for s in tables[name].values())
    if params != FULL_SIZE_PARAMETERS:
        raise SystemExit(f"the tables give {params:,} parameters, not the release's {FULL_SIZE_PARAMETERS:,}")
    tdir = root / TRANSFORMER_DIR
    tdir.mkdir(parents=True, exist_ok=True)
    for old in tdir.glob("diffusion_pytorch_model*"):
        old.unlink()
    gen = torch.Generator(device).manual_seed(seed)
    _save(tables[REAE_FILE], root / REAE_FILE, gen, dtype)
    _save(tables[PROMPT_FILE], root / PROMPT_FILE, gen, dtype)
    names = list(tables[TRANSFORMER_DIR])
    # Split by bytes, not by tensor count: blocks are large, the embedders small.
    sizes = [math.prod(tables[TRANSFORMER_DIR][n]) for n in names]
    target = sum(sizes) / shards
    groups: list[list[str]] = [[]]
    filled = 0
    for name, size in zip(names, sizes):
        if filled >= target * len(groups) and len(groups) < shards:
            groups.append([])
        groups[-1].append(name)
        filled += size
    weight_map, total = {}, 0
    for k, group in enumerate(groups):
        shard = f"diffusion_pytorch_model-{k + 1:05d}-of-{len(groups):05d}.safetensors"
        total += _save({n: tables[TRANSFORMER_DIR][n] for n in group}, tdir / shard, gen, dtype)
        weight_map.update({n: shard for n in group})
        print(f"  wrote {shard} ({len(group)} tensors)", flush=True)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (tdir / DIT_INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")
    (tdir / CONFIG_FILE).write_text(json.dumps(dit_config(FULL_SIZE), indent=2) + "\n")
    return {"parameters": params, "dit_bytes": total, "shards": len(groups)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="folder to write (outside any git tree: 10 GB)")
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=("bfloat16", "float16", "float32"), default="bfloat16")
    parser.add_argument("--device", default="cpu", help="where the random numbers are drawn (cuda: much faster; other values than CPU's)")
    args = parser.parse_args()
    start = time.perf_counter()
    result = write(args.root, args.shards, args.seed, getattr(torch, args.dtype), args.device)
    print(json.dumps({**result, "seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
