"""Shared helpers for the benchmark scripts: data, timing, tables."""
from __future__ import annotations

import argparse
import contextlib
import os
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

import crbm

DEFAULT_MNIST = Path(os.environ.get(
    "CRBM_MNIST_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"))


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, help="MNIST idx directory")
    p.add_argument("--repeats", type=int, default=5, help="runs per figure; the median is shown")
    return p


def mnist_rows(directory: Path, n: int) -> np.ndarray:
    """The first ``n`` binarised t10k images as uint8 rows."""
    images, _ = crbm.load_mnist(directory, split="t10k")
    return crbm.binarize(images[:n])


@contextlib.contextmanager
def threads(n: Optional[int]) -> Iterator[None]:
    """Limit BLAS and crbm's own loops to ``n`` threads each (None: no limit)."""
    with threadpool_limits(n, user_api="blas"), crbm.num_threads(n or crbm.get_num_threads()):
        yield


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs, after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def paused_time(fn: Callable[[], object]) -> float:
    """Wall time of ``fn()``, after a pause.

    numpy and scipy each load their own copy of OpenBLAS, whose threads spin
    for a while after a call and would take the cores from the next run's:
    pausing first lets them sleep, so no run pays for the one before it.
    """
    time.sleep(0.3)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def neighbouring_times(fns: Sequence[Callable[[], object]], repeats: int) -> np.ndarray:
    """Times of each of ``fns`` in turn, ``repeats`` rounds after a warm-up
    round: an array of shape ``(repeats, len(fns))``. Ratios of one row's
    times are of neighbouring runs, which the machine's speed moves between
    less than over the whole benchmark."""
    return np.array([[paused_time(fn) for fn in fns] for _ in range(repeats + 1)])[1:]


def ratio_spread(numerators: np.ndarray, denominators: np.ndarray) -> str:
    """Median (first to third quartile) of the ratios of neighbouring runs,
    then the ratio of the fastest runs ("best"): on a shared machine other
    work only ever adds time, so the fastest runs are the least disturbed."""
    q1, median, q3 = np.percentile(numerators / denominators, [25, 50, 75])
    return (f"{median:.2f} ({q1:.2f}-{q3:.2f}), "
            f"best {numerators.min() / denominators.min():.2f}")


def table(header: list[str], rows: list[list[object]]) -> str:
    """Format rows as an aligned plain-text (and Markdown-compatible) table."""
    cells = [header] + [[f"{x:.3g}" if isinstance(x, float) else str(x) for x in row]
                        for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
