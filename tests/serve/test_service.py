"""The deployed service end to end: real Ray Serve, real pipeline, real PostgreSQL, over HTTP."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.serve.conftest import sign_up, submit, wait_until_final
from tests.support import faces

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]


def test_full_flow_on_the_astronaut_photo(http, auth):
    accepted = submit(http, auth, faces.encode_jpeg(faces.astronaut()), fields={"lighting_score": "85"})
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert accepted.headers["location"] == body["status_url"]
    assert body["status_url"].endswith(f"/analysis/status/{body['task_id']}")

    status = wait_until_final(http, auth, body["status_url"])
    assert status["status"] == "completed", status
    assert status["error"] is None

    result = http.get(f"/analysis/result/{status['result_id']}", headers=auth)
    assert result.status_code == 200
    diagnosis = result.json()
    assert diagnosis["season"] in {"spring", "summer", "autumn", "winter"}
    assert diagnosis["season_type"].startswith(diagnosis["season"])
    assert diagnosis["thumbnail_color"].startswith("#")
    assert all(color.startswith("#") for color in diagnosis["main_colors"])
    assert 0.0 <= diagnosis["confidence"] <= 1.0

    history = http.get("/history", headers=auth).json()
    assert [item["id"] for item in history["items"]] == [status["result_id"]]
    stats = http.get("/stats", headers=auth)
    assert stats.status_code == 200

    deleted = http.delete(f"/history/{status['result_id']}", headers=auth)
    assert deleted.status_code == 204
    assert http.get(f"/analysis/result/{status['result_id']}", headers=auth).status_code == 404
    assert http.get("/history", headers=auth).json()["items"] == []


def test_history_pages_with_a_cursor(http, auth):
    photo = faces.encode_jpeg(faces.astronaut())
    for _ in range(3):
        status = wait_until_final(http, auth, submit(http, auth, photo).json()["status_url"])
        assert status["status"] == "completed"
    first = http.get("/history", params={"limit": 2}, headers=auth).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = http.get("/history", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(ids)) == 3


@pytest.mark.parametrize(
    ("image", "fields", "code"),
    [
        pytest.param(faces.truncated_jpeg(0.3), {}, "INVALID_IMAGE", id="truncated-jpeg"),
        pytest.param(faces.huge_dimensions_png(), {}, "IMAGE_TOO_LARGE", id="decompression-bomb"),
        pytest.param(faces.grayscale_jpeg(), {}, "NOT_A_COLOR_IMAGE", id="grayscale"),
        pytest.param(faces.encode_jpeg(faces.no_face()), {}, "NO_FACE_DETECTED", id="no-face"),
        pytest.param(faces.encode_jpeg(faces.two_faces()), {}, "MULTIPLE_FACES", id="two-faces"),
        pytest.param(faces.encode_jpeg(faces.exposed(-4.5)), {}, "POOR_LIGHTING_CONDITION", id="too-dark"),
        pytest.param(
            faces.encode_jpeg(faces.astronaut()),
            {"lighting_score": "5"},
            "POOR_LIGHTING_CONDITION",
            id="client-score",
        ),
    ],
)
def test_bad_photo_ends_failed_with_its_code(http, auth, image, fields, code):
    accepted = submit(http, auth, image, fields=fields)
    assert accepted.status_code == 202, accepted.text
    status = wait_until_final(http, auth, accepted.json()["status_url"])
    assert status["status"] == "failed"
    assert status["error"]["code"] == code
    assert status["error"]["message"]
    assert status["result_id"] is None


def test_oversized_upload_is_413_before_any_work(http, auth):
    before = http.get("/stats", headers=auth).json()
    response = submit(http, auth, b"\xff\xd8\xff\xe0" + bytes(11_000_000))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "IMAGE_TOO_LARGE"
    assert http.get("/stats", headers=auth).json() == before


@pytest.mark.parametrize(
    ("payload", "claimed_type"),
    [
        (faces.random_bytes(), "image/jpeg"),  # claims to be a JPEG; the bytes say otherwise
        (b"%PDF-1.7\n" + bytes(1000), "application/pdf"),
        (b"GIF89a" + bytes(100), "image/gif"),
    ],
)
def test_not_an_image_type_is_415(http, auth, payload, claimed_type):
    response = submit(http, auth, payload, content_type=claimed_type)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_missing_image_is_a_validation_error(http, auth):
    response = http.post(
        "/analysis/start", headers=auth, files={"photo": ("x", b"\xff\xd8\xff", "image/jpeg")}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("score", ["400", "1_0", "５０", "٥٠"])
def test_lighting_score_out_of_range_or_not_a_plain_decimal_is_a_validation_error(http, auth, score):
    response = submit(http, auth, faces.encode_jpeg(faces.astronaut()), fields={"lighting_score": score})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("task_id", [str(uuid.uuid4()), "not-a-task-id", "1"])
def test_status_of_unknown_task_is_404(http, auth, task_id):
    response = http.get(f"/analysis/status/{task_id}", headers=auth)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_twenty_concurrent_submissions_all_complete(service, http):
    photo = faces.encode_jpeg(faces.astronaut())
    users = [sign_up(http) for _ in range(4)]  # the per-user analysis limit stays in force

    def one(index: int) -> dict[str, object]:
        headers = users[index % len(users)]
        with httpx.Client(base_url=service.base_url, timeout=60) as client:
            accepted = submit(client, headers, photo)
            assert accepted.status_code == 202, accepted.text
            return dict(wait_until_final(client, headers, accepted.json()["status_url"], timeout_s=600))

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(one, range(20)))
    assert [status["status"] for status in statuses] == ["completed"] * 20
    assert len({status["result_id"] for status in statuses}) == 20


def test_health_and_readiness(http):
    assert http.get("/healthz").json()["status"] == "ok"
    ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert {"Ingress", "Normalize", "Landmark", "Classify", "ResultWriter"} <= set(checks)


def test_openapi_documents_the_upload(http):
    spec = http.get("/openapi.json").json()
    upload = spec["paths"]["/analysis/start"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert "image" in upload["schema"]["properties"]
    assert http.get("/docs").status_code == 200
