"""Exact order statistics (percentiles, medians) of 1-D arrays, from one partial sort.

np.percentile and np.median go through generic machinery (NaN checks, axis handling) that costs
several times the partial sort itself on the few thousand values the stages measure. These give
numpy's numbers bit for bit, for arrays without NaNs; tests/pipeline/test_stats.py holds them to it.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.arrays import Float32Array, FloatArray


def percentiles(values: FloatArray | Float32Array, percents: tuple[float, ...]) -> list[float]:
    """The same numbers as np.percentile(values, percents) (linear method), for arrays without NaNs.

    The interpolation is numpy's own (`_lerp`: the difference of the two neighbours in the array's
    dtype, float64 weights, from the lower neighbour below the halfway point and from the upper one
    above it), so the results are bit-equal for float32 and float64 alike.
    """
    flat = values.reshape(-1)
    last = flat.size - 1
    positions = [last * (percent / 100.0) for percent in percents]
    lower = [min(math.floor(position), last) for position in positions]
    ordered = np.partition(flat, sorted({*lower, *(min(rank + 1, last) for rank in lower)}))
    results = []
    for position, rank in zip(positions, lower, strict=True):
        below, above = ordered[rank], ordered[min(rank + 1, last)]
        difference = float(above - below)
        weight = position - rank
        if weight >= 0.5:
            results.append(float(above) - difference * (1.0 - weight))
        else:
            results.append(float(below) + difference * weight)
    return results


def median(values: FloatArray) -> float:
    """np.median of a 1-D float64 array without NaNs, exactly. Empty: NaN, as np.median (a trim band
    between two pixels leaves nothing to take the median of)."""
    middle = len(values) // 2
    if len(values) % 2:
        return float(np.partition(values, middle)[middle])
    if middle == 0:
        return math.nan
    below, above = np.partition(values, (middle - 1, middle))[middle - 1 : middle + 1]
    return float((below + above) / 2.0)
