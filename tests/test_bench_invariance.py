"""The two invariances `bench.invariance` relies on, checked on the astronaut (no labelled set needed).

If either broke, the benchmark's green-rank and ratio rows would measure a different method than
the one docs/invariance.md describes, without any error.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.invariance import cast_gains, green_rank_mask, ratio_color
from models.labelled import Lighting
from pipeline.features import SKIN_TRIM
from pipeline.normalize import downscale
from tests.support import faces

CASTS = [Lighting("4000K", kelvin=4000.0), Lighting("8000K", kelvin=8000.0), Lighting("+1EV", ev=1.0)]


@pytest.mark.parametrize("light", CASTS, ids=lambda light: light.name)
def test_green_rank_mask_does_not_move_with_a_diagonal_cast(light: Lighting) -> None:
    small = downscale(faces.astronaut(), 160)
    lit = light.apply(small)
    assert np.array_equal(green_rank_mask(small), green_rank_mask(lit))
    # The shipped estimator's usable-pixel thresholds do move, which is what the mask avoids.
    usable = (small.max(axis=-1) < 250) & (small.max(axis=-1) > 8)
    assert not np.array_equal(usable, (lit.max(axis=-1) < 250) & (lit.max(axis=-1) > 8))


@pytest.mark.parametrize("kelvin", [5000.0, 8000.0, 10000.0])
def test_ratio_colour_follows_a_cast_that_clips_nothing(kelvin: float) -> None:
    cheek = faces.astronaut()[faces.ASTRONAUT_CHEEK_BOX].reshape(-1, 3)
    light = Lighting("cast", kelvin=kelvin)
    neutral = ratio_color(cheek, SKIN_TRIM)
    lit = ratio_color(light.apply(cheek[:, None, :]).reshape(-1, 3), SKIN_TRIM)
    assert neutral is not None and lit is not None
    # Up to 8-bit quantisation: the same pixels, each channel times the cast's gain.
    np.testing.assert_allclose(lit, neutral * cast_gains(light), rtol=0.01)
