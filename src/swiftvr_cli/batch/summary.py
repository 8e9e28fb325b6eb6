"""The end-of-batch summary: a Rich table on stderr, a JSON document for scripts."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from rich.table import Table

from .claims import Outcome

STATUS_ORDER = ("ok", "skipped", "busy", "failed", "previously-failed")
STYLE = {"ok": "green", "failed": "red", "previously-failed": "yellow", "busy": "cyan"}


def counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    found = Counter(o.status for o in outcomes)
    return {status: found.get(status, 0) for status in STATUS_ORDER}


def summary_json(outcomes: Sequence[Outcome], *, seconds: float, meta: dict[str, Any]) -> dict[str, Any]:
    return {**meta, "seconds": round(seconds, 3), "counts": counts(outcomes), "items": [o.as_dict() for o in outcomes]}


def summary_table(outcomes: Sequence[Outcome], title: str) -> Table:
    """Every video this run did something about; skipped ones are only counted."""
    table = Table(title=title, caption=", ".join(f"{n} {s}" for s, n in counts(outcomes).items() if n) or "no inputs found")
    for name, justify in (("input", "left"), ("status", "left"), ("frames", "right"), ("seconds", "right"), ("fps", "right"), ("note", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for o in outcomes:
        if o.status == "skipped":
            continue
        note = o.error or "; ".join(o.notes) or (f"{o.segments} segments" if o.segments else "")
        table.add_row(
            o.input,
            f"[{STYLE.get(o.status, 'white')}]{o.status}[/]",
            "" if o.frames is None else str(o.frames),
            "" if o.seconds is None else f"{o.seconds:.1f}",
            "" if o.fps is None else f"{o.fps:.2f}",
            note,
        )
    return table


def outcome_line(o: Outcome) -> str:
    """One log line per finished video (for cron logs, where no progress bar is shown)."""
    if o.status == "ok":
        return f"ok      {o.input} -> {o.output} ({o.frames} frames, {o.seconds:.1f}s)"
    if o.status in ("failed", "previously-failed"):
        return f"{o.status:<7} {o.input}: {o.error}"
    return f"{o.status:<7} {o.input}"
