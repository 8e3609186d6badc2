"""The upload form's lighting score: plain ASCII decimals from 0 to 100, nothing Python-specific."""

from __future__ import annotations

import pytest

from pipeline.errors import ErrorCode
from serve_app.api.form_values import lighting_score
from serve_app.errors import ServiceError


@pytest.mark.parametrize(("raw", "expected"), [("85", 85.0), (" 72.5 ", 72.5), ("0", 0.0), ("100", 100.0)])
def test_plain_decimals_are_scores(raw: str, expected: float) -> None:
    assert lighting_score(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_absent_or_blank_is_no_score(raw: str | None) -> None:
    assert lighting_score(raw) is None


@pytest.mark.parametrize(
    "raw", ["1_0", "５０", "٥٠", "1e1", "nan", "inf", "-0", "+5", "0x10", "100.5", "400", "5.", ".5", "5,0"]
)
def test_anything_else_is_a_validation_error(raw: str) -> None:
    with pytest.raises(ServiceError) as raised:
        lighting_score(raw)
    assert raised.value.code is ErrorCode.VALIDATION_ERROR
