"""Shared timing helpers: whole-process wall time, interleaved with a baseline, median of N."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np


def random_weights(linked: Any, seed: int = 0) -> dict[str, np.ndarray]:
    """`<core>.weight` for every core of a linked network, normal(0, 0.1), float32."""
    rng = np.random.default_rng(seed)
    return {f"{c.weights}.weight": rng.normal(0, 0.1, linked.weight_shape(c)).astype(np.float32)
            for c in linked.cores}


def in_process(fn: Callable[[], object], runs: int) -> Timing:
    """Median and best wall time of calling `fn`, in milliseconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Timing(statistics.median(samples) * 1000, min(samples) * 1000)


def run_once(cmd: Sequence[str], cwd: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


class Timing(NamedTuple):
    median: float
    best: float


def compare(candidate: Sequence[str], baseline: Sequence[str], *, runs: int, cwd: str | None = None,
            ) -> tuple[Timing, Timing]:
    """Median and best wall time of each command, interleaved so machine noise hits both alike.

    The best of N is the figure least disturbed by other work on the machine (timeit's
    advice); the median shows what a user typically waits. Both are reported.
    """
    run_once(candidate, cwd)  # warm the file cache for both
    run_once(baseline, cwd)
    cand, base = [], []
    for _ in range(runs):
        base.append(run_once(baseline, cwd))
        cand.append(run_once(candidate, cwd))
    return (Timing(statistics.median(cand), min(cand)), Timing(statistics.median(base), min(base)))
