"""Side-by-side of `swiftvr bench` and benchmarks/bench_reference.py results.

    python benchmarks/compare_bench.py OURS.json OFFICIAL.json [--markdown OUT.md]

Both files hold {"environment", "settings", "results": [BenchResult, ...]}. Rows are
matched on (output width, output height, chunk). For each: our model FPS, the
official runner's, the speed-up (ours / official), both peak memories, both
end-to-end FPS and our end-to-end / model-only ratio; then per-part ms per frame,
and the issue's targets where the rows for them exist.

Refuses (exit status 2, with the reason) to compare results from different devices,
device types, dtypes or upscale factors. Only the standard library is needed; Rich
draws the table when it is installed. Runs with either virtual environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Targets of the issue "bench ... beat the reference runner".
SPEEDUP_TARGET = 1.5  # our model FPS / official model FPS
SPEEDUP_SIZES = {(2560, 1440): "1440p", (3840, 2160): "4k"}
MEMORY_TARGET_GIB = 24.0  # our peak (CUDA max_memory_allocated) at 4K
MEMORY_SIZE = (3840, 2160)
E2E_TARGET = 0.95  # our end-to-end FPS / our model-only FPS
# The paper's figures for the official model on one H100 (README of the release).
PAPER = {(2560, 1440): "31.3 FPS, 38 GB", (3840, 2160): "13.8 FPS"}

MUST_MATCH = ("device", "device_type", "dtype")
SHOULD_MATCH = ("threads", "torch", "cuda", "parameters")
PARTS = ("prepare", "reae_encode", "dit", "reae_decode", "other")


def load(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"cannot read {path}: {exc}") from None
    for key in ("environment", "settings", "results"):
        if key not in data:
            raise SystemExit(f"{path} is not a bench JSON (no {key!r})")
    return data


def compatibility(ours: dict, official: dict) -> tuple[list[str], list[str]]:
    """(reasons to refuse, warnings)."""
    refuse, warn = [], []
    eo, ef = ours["environment"], official["environment"]
    for key in MUST_MATCH:
        if eo.get(key) != ef.get(key):
            refuse.append(f"{key} differs: ours {eo.get(key)!r}, official {ef.get(key)!r}")
    so, sf = ours["settings"], official["settings"]
    if so.get("scale") != sf.get("scale"):
        refuse.append(f"upscale factor differs: ours {so.get('scale')}, official {sf.get('scale')}")
    for key in SHOULD_MATCH:
        if eo.get(key) != ef.get(key):
            warn.append(f"{key} differs: ours {eo.get(key)!r}, official {ef.get(key)!r}")
    if so.get("chunks") != sf.get("chunks"):
        warn.append(f"timed chunks differ: ours {so.get('chunks')}, official {sf.get('chunks')}")
    if (so.get("warmup_middle") or 0) != (sf.get("warmup_middle") or 0):
        warn.append(f"untimed MIDDLE warm-up chunks differ: ours {so.get('warmup_middle') or 0}, "
                    f"official {sf.get('warmup_middle') or 0}")
    if ef.get("prompt_tokens") and eo.get("prompt_tokens") != ef.get("prompt_tokens"):
        warn.append(f"prompt tokens: ours {eo.get('prompt_tokens', 'not recorded')}, "
                    f"official {ef['prompt_tokens']} (cross-attention length)")
    if eo.get("runner") == "official":
        warn.append("the first file says runner=official: pass OURS first, OFFICIAL second")
    if ef.get("runner") != "official":
        warn.append("the second file has no environment.runner='official'")
    return refuse, warn


def _key(r: dict) -> tuple[int, int, int]:
    return (int(r["width"]), int(r["height"]), int(r["chunk"]))


def pair_rows(ours: dict, official: dict):
    """[(key, ours_row, official_row)] in our order, then keys only one side has."""
    o = {_key(r): r for r in ours["results"]}
    f = {_key(r): r for r in official["results"]}
    keys = list(o) + [k for k in f if k not in o]
    return [(k, o.get(k), f.get(k)) for k in keys]


def _ok(r: dict | None) -> bool:
    return r is not None and r.get("status") == "ok" and r.get("model_fps")


def _fps(r: dict | None, key: str = "model_fps") -> str:
    if r is None:
        return "-"
    if r.get("status") != "ok":
        return r.get("status", "?").upper()
    v = r.get(key)
    return "-" if v is None else f"{v:.2f}"


def _gib(r: dict | None) -> str:
    if not _ok(r) or r.get("peak_memory_mb") is None:
        return "-"
    return f"{r['peak_memory_mb'] / 1024:.2f}"


def _ratio(a: float | None, b: float | None, suffix: str = "x") -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}{suffix}"


def _name(key, o, f) -> str:
    w, h, _ = key
    label = (o or f)["resolution"]
    return label if label == f"{w}x{h}" else f"{label} ({w}x{h})"


def main_rows(pairs) -> list[list[str]]:
    rows = []
    for key, o, f in pairs:
        speed = _ratio(o["model_fps"], f["model_fps"]) if _ok(o) and _ok(f) else "-"
        e2e_ratio = _ratio(o.get("e2e_fps"), o.get("model_fps"), "") if _ok(o) else "-"
        rows.append([_name(key, o, f), str(key[2]), _fps(o), _fps(f), speed, _gib(o), _gib(f),
                     _fps(o, "e2e_fps"), _fps(f, "e2e_fps"), e2e_ratio])
    return rows


MAIN_HEADER = ["resolution", "chunk", "ours FPS", "official FPS", "speed-up", "ours peak GiB",
               "official peak GiB", "ours e2e FPS", "official e2e FPS", "ours e2e/model"]


def _parts(r: dict | None) -> dict[str, float]:
    """ms per frame by part; `other` (time outside the parts) derived from the model
    FPS when the runner did not record it (ours does not)."""
    if not _ok(r):
        return {}
    parts = dict(r.get("part_ms_per_frame") or {})
    if "other" not in parts and parts:
        parts["other"] = max(0.0, 1000 / r["model_fps"] - sum(parts.values()))
    return parts


def part_rows(pairs) -> list[list[str]]:
    rows = []
    for key, o, f in pairs:
        po, pf = _parts(o), _parts(f)
        cells = []
        for part in PARTS:
            a, b = po.get(part), pf.get(part)
            cells.append(f"{'-' if a is None else f'{a:.2f}'} / {'-' if b is None else f'{b:.2f}'}")
        rows.append([_name(key, o, f), str(key[2])] + cells)
    return rows


PART_HEADER = ["resolution", "chunk", *PARTS]


def target_lines(pairs, device_type: str) -> list[str]:
    lines = []
    note = "" if device_type == "cuda" else " (not a GPU run: the targets are for one H100)"
    for key, o, f in pairs:
        wh = key[:2]
        if wh in SPEEDUP_SIZES and _ok(o) and _ok(f):
            s = o["model_fps"] / f["model_fps"]
            verdict = "PASS" if s >= SPEEDUP_TARGET else "FAIL"
            lines.append(f"{verdict}: {SPEEDUP_SIZES[wh]} chunk {key[2]}: speed-up {s:.2f}x "
                         f"(target >= {SPEEDUP_TARGET}x){note}")
        elif wh in SPEEDUP_SIZES:
            lines.append(f"FAIL: {SPEEDUP_SIZES[wh]} chunk {key[2]}: ours {_fps(o)}, official {_fps(f)}"
                         f" - no speed-up to report{note}")
        if wh == MEMORY_SIZE and o is not None:
            if _ok(o) and o.get("peak_memory_mb") is not None:
                g = o["peak_memory_mb"] / 1024
                verdict = "PASS" if g <= MEMORY_TARGET_GIB else "FAIL"
                lines.append(f"{verdict}: 4k chunk {key[2]}: our peak {g:.2f} GiB "
                             f"(target <= {MEMORY_TARGET_GIB:g} GiB){note}")
            else:
                lines.append(f"FAIL: 4k chunk {key[2]}: ours {_fps(o)}")
        if _ok(o) and o.get("e2e_fps"):
            r = o["e2e_fps"] / o["model_fps"]
            verdict = "PASS" if r >= E2E_TARGET else "FAIL"
            lines.append(f"{verdict}: {_name(key, o, f)} chunk {key[2]}: our end-to-end {r:.0%} of "
                         f"model-only (target >= {E2E_TARGET:.0%}){note}")
    if not any(k[:2] in SPEEDUP_SIZES for k, _, _ in pairs):
        lines.append("n/a: no 2560x1440 or 3840x2160 rows: the speed-up and 4K memory targets are not measured")
    return lines


def env_line(name: str, env: dict, settings: dict) -> str:
    bits = [f"{env.get('device')}", f"{env.get('dtype')}", f"torch {env.get('torch')}",
            f"threads {env.get('threads')}", f"weights {env.get('weights')}",
            f"{env.get('parameters', 0):,} parameters"]
    if env.get("prompt_tokens"):
        bits.append(f"prompt {env['prompt_tokens']} tokens")
    if env.get("attention_backend"):
        bits.append(f"attention {env['attention_backend']}")
    if "torch_compile" in env:
        bits.append(f"torch.compile {env['torch_compile']}")
    commit = env.get("git_commit") or ""
    bits.append(f"commit {commit[:10]}" + (" (reference)" if env.get("runner") == "official" else ""))
    bits.append(f"scale {settings.get('scale')}, {settings.get('chunks')} timed chunks")
    bits.append(f"at {env.get('time')}")
    return f"- **{name}**: " + ", ".join(bits)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def markdown(ours: dict, official: dict, pairs, warnings: list[str], title: str) -> str:
    eo = ours["environment"]
    parts = [f"### {title}", "",
             env_line("ours", eo, ours["settings"]),
             env_line("official", official["environment"], official["settings"]), ""]
    parts += [markdown_table(MAIN_HEADER, main_rows(pairs)), "",
              "Peak memory: CUDA max_memory_allocated (GPU) or sampled peak RSS of the process "
              "(CPU), weights included. Speed-up = ours / official model FPS.", "",
              "Per part, ms per output frame, ours / official (`other` = chunk time outside the parts):", "",
              markdown_table(PART_HEADER, part_rows(pairs)), ""]
    parts += ["Targets:", ""] + [f"- {line}" for line in target_lines(pairs, eo.get("device_type", ""))]
    if warnings:
        parts += ["", "Warnings:", ""] + [f"- {w}" for w in warnings]
    return "\n".join(parts) + "\n"


def print_table(header, rows, title) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
        print(title)
        print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
        for r in rows:
            print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
        return
    table = Table(title=title)
    for h in header:
        table.add_column(h, justify="right")
    for r in rows:
        table.add_row(*r)
    Console(width=max(160, Console().width)).print(table)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ours", type=Path, help="JSON of `swiftvr bench --json`")
    ap.add_argument("official", type=Path, help="JSON of benchmarks/bench_reference.py --json")
    ap.add_argument("--markdown", type=Path, default=None, help="write a markdown summary here")
    ap.add_argument("--title", default=None, help="heading of the markdown summary")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ours, official = load(args.ours), load(args.official)
    refuse, warnings = compatibility(ours, official)
    if refuse:
        print("refusing to compare these results:", file=sys.stderr)
        for reason in refuse:
            print(f"  - {reason}", file=sys.stderr)
        return 2
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    pairs = pair_rows(ours, official)
    env = ours["environment"]
    title = args.title or f"swiftvr vs official runner: {env.get('device')}, {env.get('dtype')}"
    print_table(MAIN_HEADER, main_rows(pairs), title)
    print_table(PART_HEADER, part_rows(pairs), "ms per output frame (ours / official)")
    for line in target_lines(pairs, env.get("device_type", "")):
        print(line)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(ours, official, pairs, warnings, title))
        print(f"wrote {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
