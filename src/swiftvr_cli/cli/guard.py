"""The one guard around every command: a known failure becomes one line on stderr
and its exit code (`failures.classify`), Ctrl-C and SIGTERM become 130 and 143,
and a traceback is shown only with --debug."""

from __future__ import annotations

import functools
import inspect
import traceback

import typer

from ..failures import ExitCode
from .common import err

LEFT_BEHIND = "left_behind"  # a command that takes this parameter fills it with what a failed run kept


def guarded(command):
    """Decorate a command (below ``@app.command``) so that it runs inside the guard.

    A command with a ``left_behind: list[str]`` parameter gets a list to fill with
    notes on what a failed run left (partial output, saved progress); the guard
    prints them after the error. The parameter is hidden from the command line.
    """
    signature = inspect.signature(command, eval_str=True)
    wants_notes = LEFT_BEHIND in signature.parameters

    @functools.wraps(command)
    def run(**options):
        left: list[str] = []
        if wants_notes:
            options[LEFT_BEHIND] = left
        return run_guarded(options.get("debug", False), lambda: command(**options), left)

    shown = [parameter for name, parameter in signature.parameters.items() if name != LEFT_BEHIND]
    run.__signature__ = signature.replace(parameters=shown)
    return run


def run_guarded(debug: bool, fn, notes: list[str] | None = None):
    """Run a command body; turn known failures into one line + exit code, followed by
    ``notes`` (what the body says a failed run left behind)."""
    from ..signals import sigterm_as_interrupt

    notes = notes if notes is not None else []
    try:  # outside the guard too: a signal during its imports must not escape as a bare 130
        with sigterm_as_interrupt():
            return _run_guarded(debug, fn, notes)
    except KeyboardInterrupt as exc:
        _stopped(exc, notes)


def fail(message: str, code: int, notes: list[str] | tuple[str, ...] = ()) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    for note in notes:  # what was kept (partial output, resume checkpoints)
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _stopped(exc: KeyboardInterrupt, notes: list[str]) -> None:
    """Ctrl-C or SIGTERM: one word, the notes on what was kept, 130 or 143."""
    from ..signals import Terminated

    # The signal may have cut an import (of torch...) short: import nothing more here.
    terminated = isinstance(exc, Terminated)
    err.print("terminated" if terminated else "interrupted", highlight=False)
    for note in notes:
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    raise typer.Exit(ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED)


def _run_guarded(debug: bool, fn, notes: list[str]):
    from ..failures import INTERNAL, classify
    from ..io.errors import BrokenPipe

    try:
        return fn()
    except typer.Exit:
        raise
    except BrokenPipe:
        from ..io.stdio import quiet_broken_stdout

        quiet_broken_stdout()  # no "Exception ignored" noise from Python's exit-time flush
        raise typer.Exit(0)  # the reader went away (e.g. `| head`): nothing to report
    except KeyboardInterrupt as exc:
        _stopped(exc, notes)
    except Exception as exc:  # noqa: BLE001 - mapped to a message below
        if debug:
            traceback.print_exc()
        failure = classify(exc)
        hint = " (run with --debug for details)" if failure.kind == INTERNAL and not debug else ""
        fail(failure.message + hint, failure.exit_code, notes)
