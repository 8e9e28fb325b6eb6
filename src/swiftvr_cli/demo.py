"""`make demo`: restore the shipped real sample with the embedded default weights."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

SAMPLE = Path("samples/bbb_160x90.mp4")
OUTPUT = Path("demo_output/bbb_restored_x4.mp4")


def main() -> int:
    from .cli import app

    if not SAMPLE.exists():
        print(f"sample {SAMPLE} not found: run `make demo` from the repository root", file=sys.stderr)
        return 1
    OUTPUT.parent.mkdir(exist_ok=True)
    args = ["restore", str(SAMPLE), str(OUTPUT), "--scale", "4", "--overwrite"]
    print("swiftvr " + " ".join(args), file=sys.stderr)
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    sys.stderr.write(result.output)
    if result.exit_code == 0:
        print(f"restored video: {OUTPUT.resolve()}")
    return result.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
