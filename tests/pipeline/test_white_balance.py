"""The illuminant estimate on the astronaut under known lights."""

from __future__ import annotations

import pytest

from pipeline.augment import apply_illuminant, illuminant_gains, kelvin_to_linear_rgb
from pipeline.color import angular_error_deg
from pipeline.white_balance import WHITE_BALANCE_METHODS, estimate_illuminant
from tests.support import faces


@pytest.mark.parametrize("method", [m for m in WHITE_BALANCE_METHODS if m != "none"])
def test_every_white_balance_method_follows_a_change_of_light(method):
    base = estimate_illuminant(faces.astronaut(), method)
    for light in (kelvin_to_linear_rgb(4000), kelvin_to_linear_rgb(8000), faces.GREEN_ILLUMINANT):
        estimate = estimate_illuminant(apply_illuminant(faces.astronaut(), light), method)
        assert angular_error_deg(estimate / base, illuminant_gains(light)) < 4.0
