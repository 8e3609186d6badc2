"""The fast order statistics give numpy's own numbers, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from pipeline.stats import median, percentiles

PERCENTS = (0.0, 1.0, 5.0, 10.0, 33.3, 50.0, 75.0, 90.0, 95.0, 99.0, 100.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("size", [1, 2, 3, 10, 401, 2000])
def test_percentiles_are_numpys_bit_for_bit(size: int, dtype: npt.DTypeLike) -> None:
    values = np.random.default_rng(size).normal(50.0, 20.0, size).astype(dtype)
    assert percentiles(values, PERCENTS) == [float(v) for v in np.percentile(values, PERCENTS)]


def test_percentiles_of_an_image_plane_are_those_of_its_pixels() -> None:
    plane = np.random.default_rng(7).random((40, 30), dtype=np.float32)
    assert percentiles(plane, (1.0, 99.0)) == [float(v) for v in np.percentile(plane, (1.0, 99.0))]


@pytest.mark.parametrize("size", [1, 2, 3, 10, 401, 2000])
def test_median_is_numpys_bit_for_bit(size: int) -> None:
    values = np.random.default_rng(size).normal(50.0, 20.0, size)
    assert median(values) == float(np.median(values))


def test_median_of_nothing_is_nan_as_numpy_says() -> None:
    assert math.isnan(median(np.array([], dtype=np.float64)))
