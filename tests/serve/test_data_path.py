"""The web node gets back text and numbers only: the stages are chained on the AI node.

The ingress runs `serve_app.orchestration.diagnose` against the deployed stages; this test runs the
same function against the same deployments through their handles and inspects what comes back to
the caller, and which stages it heard on the way.
"""

from __future__ import annotations

import asyncio
import pickle
from dataclasses import asdict
from typing import Any

import pytest
from ray import serve

from db.history import HistoryRecord
from serve_app.orchestration import CLASSIFYING, LANDMARKS, StageHandles, diagnose
from tests.support import faces

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]

PLAIN = (str, int, float, bool, type(None))


def plain_values(value: Any, path: str = "record") -> list[str]:
    """Where `value` holds anything but JSON-like text and numbers (arrays, bytes, objects)."""
    if isinstance(value, PLAIN):
        return []
    if isinstance(value, list | tuple):
        return [problem for i, item in enumerate(value) for problem in plain_values(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [
            problem
            for key, item in value.items()
            for problem in ([] if isinstance(key, str) else [f"{path} key {key!r}"])
            + plain_values(item, f"{path}.{key}")
        ]
    return [f"{path}: {type(value).__name__}"]


def test_only_the_text_record_comes_back_from_the_ai_node(service):
    handle = {
        name: serve.get_deployment_handle(name, app_name=service.app_name)
        for name in ("Normalize", "Landmark", "Classify", "ResultWriter")
    }
    handles = StageHandles(
        handle["Normalize"], handle["Landmark"], handle["Classify"], handle["ResultWriter"]
    )
    photo = faces.encode_jpeg(faces.astronaut())
    heard: list[str] = []

    record = asyncio.run(diagnose(handles, photo, None, "en", heard.append))

    assert isinstance(record, HistoryRecord)
    assert plain_values(asdict(record)) == []
    assert record.season and record.season_type and record.model_version
    # The decoded photo alone is 512 x 512 x 3 bytes; what comes back is a few kilobytes of text.
    assert len(pickle.dumps(record)) < 16_000
    assert heard == [LANDMARKS, CLASSIFYING]
