"""Percentile summaries of latency samples."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def summary(values: Iterable[float | int | None]) -> dict[str, Any]:
    """n, p50, p95, max and mean of the samples (None where there are none); Nones are skipped."""
    data = np.asarray([float(v) for v in values if v is not None], dtype=float)
    if data.size == 0:
        return {"n": 0, "p50": None, "p95": None, "max": None, "mean": None}
    return {
        "n": int(data.size),
        "p50": round(float(np.percentile(data, 50)), 1),
        "p95": round(float(np.percentile(data, 95)), 1),
        "max": round(float(data.max()), 1),
        "mean": round(float(data.mean()), 1),
    }


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys against xs (None with fewer than two distinct xs)."""
    if len(set(xs)) < 2:
        return None
    a = np.polyfit(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), 1)
    return float(a[0])
