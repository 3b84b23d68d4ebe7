"""Shared timing helpers for the benchmark scripts (run them from the repo root)."""

from __future__ import annotations

import timeit
from collections.abc import Callable, Sequence
from typing import Any


def best_seconds(fn: Callable[[], Any], min_time: float = 0.2, repeat: int = 5) -> float:
    """Seconds per call of `fn`: the best of `repeat` runs of at least `min_time` each."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * min_time / 0.2))
    return min(timer.repeat(repeat=repeat, number=number)) / number


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, header))] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
