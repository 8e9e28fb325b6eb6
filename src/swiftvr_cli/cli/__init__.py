"""`swiftvr` command line: builds settings and calls the pipeline, nothing more.

Every user-facing failure ends as one line on stderr and a distinct exit code
(tracebacks only with --debug; `guard.guarded`). Progress and logs go to
stderr, so stdout can carry the video. One module per group of commands:
`restore`, `batch`, `info`, `measure` (bench, plan, eval); what they share
(option definitions, early checks, printing) is in `common`.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="One-step streaming video restoration (SwiftVR).",
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"swiftvr {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", "-V", help="Print the version and exit.", callback=_show_version, is_eager=True)] = False,
) -> None:
    """One-step streaming video restoration (SwiftVR)."""


# Each module registers its commands on `app`; the order is the order of `swiftvr --help`.
from . import restore as _restore  # noqa: E402
from . import info as _info  # noqa: E402
from . import measure as _measure  # noqa: E402
from . import batch as _batch  # noqa: E402
from .common import Device, DType, TaskName, examples, print_stdout, print_table  # noqa: E402
from .guard import guarded, run_guarded  # noqa: E402

__all__ = ["app", "Device", "DType", "TaskName", "examples", "guarded", "print_stdout", "print_table", "run_guarded", "main"]


def main() -> None:  # pragma: no cover - console entry
    app()
