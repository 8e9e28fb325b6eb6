"""`swiftvr info`: what a video is (streams, timing, format), or what a model is (--weights)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..failures import UsageError
from . import app
from .common import DebugOption, examples, print_stdout, print_table
from .guard import guarded


@app.command(epilog=examples(
    "swiftvr info in.mp4",
    "swiftvr info frames/ --json",
    "swiftvr info in.mkv --stream 1",
    "swiftvr info --weights default         # what the embedded model is",
))  # fmt: skip
@guarded
def info(
    input: Annotated[Optional[str], typer.Argument(help="Video file, image folder or pattern.")] = None,
    stream: Annotated[Optional[int], typer.Option(help="Video stream index.")] = None,
    weights: Annotated[Optional[str], typer.Option("--weights", help="Describe a model instead: 'default' (the embedded one), our weights json or an official folder.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    debug: DebugOption = False,
) -> None:
    """Show streams, frame rate, frame count, duration and pixel format (or, with --weights, what a model is)."""
    if (input is None) == (weights is None):
        raise UsageError("give a video to describe, or --weights (default, or a weights path)")
    if weights is not None:
        return describe_weights(weights, json_out)
    from ..io import probe
    from ..io.colourtags import tag_name

    details = probe(input, stream).as_dict()
    names = {key: tag_name(key, value) for key, value in details.items() if tag_name(key, value) is not None}
    if json_out:  # the raw numbers stay (stable keys); their names are added beside them
        details.update({f"{key}_name": name for key, name in names.items()})
        print_stdout(json.dumps(details, default=str))
        return
    print_rows(input, {key: names.get(key, str(value)) for key, value in details.items()})


def describe_weights(weights: str, json_out: bool) -> None:
    from ..model.describe import describe_weights as describe
    from ..model.loading import default_weights_path, load_model

    path = default_weights_path() if weights == "default" else Path(weights)
    details = describe(load_model(path), path if path.suffix == ".json" else path.with_suffix(".json") if path.suffix == ".safetensors" else None)
    if json_out:
        print_stdout(json.dumps(details))
        return
    rows = {}
    for key, value in details.items():
        if isinstance(value, dict):
            value = ", ".join(f"{name} {number:.3f}" if isinstance(number, float) else f"{name} {number}" for name, number in value.items())
        rows[key] = str(value)
    print_rows(str(path), rows)


def print_rows(title: str, rows: dict[str, str]) -> None:
    """A two-column table (name, value) under ``title``."""
    from rich.table import Table

    table = Table(title=title, show_header=False)
    for key, value in rows.items():
        table.add_row(key, value)
    print_table(table)
