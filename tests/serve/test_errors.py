"""One JSON error shape, whatever went wrong, with the HTTP status that belongs to the code."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipeline.errors import ErrorCode, PipelineError
from serve_app.errors import HTTP_STATUS, ServiceCode, ServiceError, install_error_handlers

EVERY_CODE = [*ErrorCode, *ServiceCode]


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/fail/{code}")
    def fail(code: str) -> None:
        if code in ErrorCode.__members__:
            raise PipelineError(ErrorCode(code), "human message", {"hint": "do this"})
        raise ServiceError(ServiceCode(code), "human message", {"hint": "do this"})

    @app.get("/number/{value}")
    def number(value: int) -> dict[str, int]:
        return {"value": value}

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("internal detail with data \xff\xd8")

    return TestClient(app, raise_server_exceptions=False)


def test_every_code_has_an_http_status():
    assert set(HTTP_STATUS) == set(EVERY_CODE)


def test_the_pipeline_and_the_service_define_each_code_once():
    assert not {code.value for code in ErrorCode} & {code.value for code in ServiceCode}


@pytest.mark.parametrize("code", EVERY_CODE)
def test_coded_error_becomes_its_status_and_shape(client, code):
    response = client.get(f"/fail/{code.value}")
    assert response.status_code == HTTP_STATUS[code]
    assert response.json() == {
        "error": {"code": code.value, "message": "human message", "details": {"hint": "do this"}}
    }


def test_bad_input_is_never_a_500(client):
    for code in (ErrorCode.INVALID_IMAGE, ErrorCode.NO_FACE_DETECTED, ErrorCode.POOR_LIGHTING_CONDITION):
        assert HTTP_STATUS[code] < 500


def test_validation_error_uses_the_same_shape_without_echoing_input(client):
    response = client.get("/number/not-a-number-SECRET")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["errors"][0]["location"] == ["path", "value"]
    assert "SECRET" not in response.text


def test_unknown_route_and_wrong_method(client):
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = client.post("/crash")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_unexpected_error_is_a_generic_500(client):
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "internal detail" not in response.text


def test_database_outage_is_a_503_with_retry_after():
    from sqlalchemy.exc import OperationalError

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/db")
    def db() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    response = TestClient(app, raise_server_exceptions=False).get("/db")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
