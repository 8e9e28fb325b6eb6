"""Copy a training run's best model into `weights/` under its shipped name.

    python -m swiftvr_cli.train.ship runs/detail weights/swiftvr-tiny.json

The json keeps the run's training record and validation scores (from the
run's `best.json`), and a fresh sha256 of the shipped safetensors file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..model.loading import load_embedded, save_embedded


def ship(run_dir: str | Path, target: str | Path) -> Path:
    best = Path(run_dir) / "best.json"
    meta = json.loads(best.read_text())
    model = load_embedded(best)
    extra = {key: value for key, value in meta.items() if key not in ("config", "sha256")}
    return save_embedded(model, target, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("target", help="weights json to write, e.g. weights/swiftvr-tiny.json")
    args = parser.parse_args()
    print(ship(args.run_dir, args.target))


if __name__ == "__main__":
    main()
