"""`python -m pipeline analyze` as a person runs it: a separate process, real models, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support import faces

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "analyze", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    (folder / "astronaut.jpg").write_bytes(faces.encode_jpeg(faces.astronaut()))
    (folder / "cat.jpg").write_bytes(faces.encode_jpeg(faces.no_face()))
    (folder / "two.png").write_bytes(faces.encode_png(faces.two_faces()))
    (folder / "broken.jpg").write_bytes(faces.truncated_jpeg())
    return folder


def test_text_report_shows_lighting_face_regions_and_colours(photo_dir: Path) -> None:
    result = run_cli(str(photo_dir / "astronaut.jpg"))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Lighting  score" in text
    assert "Face      box x=" in text and "yaw" in text
    assert "hair from: segmentation" in text
    assert "Exposure  colours measured at x" in text
    assert "White     R x" in text and "the whites of the eyes brought to the standard colour" in text
    for line_start in ("  skin", "  eyes", "  hair"):
        line = next(line for line in text.splitlines() if line.startswith(line_start))
        assert "#" in line  # the hex code
    assert "Type      " in text and "Best colours: #" in text and "Why:" in text
    assert "Traceback" not in result.stderr


def test_json_report_is_complete_and_machine_readable(photo_dir: Path) -> None:
    result = run_cli(str(photo_dir / "astronaut.jpg"), "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert 0 <= body["lighting"]["score"] <= 100
    assert body["face"]["image_size"] == [512, 512]
    assert body["regions"]["hair_source"] == "segmentation"
    assert body["regions"]["pixels"]["skin"] > 300
    skin = body["features"]["skin"]
    assert skin["hex"].startswith("#") and 50 < skin["L"] < 95
    diagnosis = body["diagnosis"]
    assert diagnosis["season_type"].startswith(diagnosis["season"]) and diagnosis["language"] == "en"
    assert diagnosis["measured"]["skin"]["hex"] == skin["hex"]
    assert {"decode", "normalize", "landmarks", "regions", "features", "total"} <= set(body["timings_ms"])


def test_overlay_is_written_with_the_regions_drawn(photo_dir: Path, tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.png"
    result = run_cli(str(photo_dir / "astronaut.jpg"), "--overlay", str(overlay))
    assert result.returncode == 0, result.stderr
    assert f"Overlay written to {overlay}" in result.stdout
    with Image.open(overlay) as image:
        assert image.format == "PNG" and image.size == (512, 512)
        rgb = np.asarray(image.convert("RGB")).astype(int)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hair_tint = (green > red + 40) & (green > blue + 40)
    skin_tint = (red > green + 60) & (blue > green + 40)
    ys, _ = np.nonzero(hair_tint)
    assert hair_tint.sum() > 1000 and np.median(ys) < 90  # the hair band above her forehead
    assert skin_tint[60:160, 170:280].sum() > 300  # cheeks and forehead


@pytest.mark.parametrize(
    ("photo", "code"),
    [("cat.jpg", "NO_FACE_DETECTED"), ("two.png", "MULTIPLE_FACES"), ("broken.jpg", "INVALID_IMAGE")],
)
def test_unusable_photo_prints_code_and_advice_and_exits_1(photo_dir: Path, photo: str, code: str) -> None:
    result = run_cli(str(photo_dir / photo))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{code}: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unusable_photo_in_json_mode_prints_the_api_error_shape(photo_dir: Path, tmp_path: Path) -> None:
    overlay = tmp_path / "never.png"
    result = run_cli(str(photo_dir / "cat.jpg"), "--json", "--overlay", str(overlay))
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "NO_FACE_DETECTED" and "face" in error["message"]
    assert not overlay.exists()


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(str(tmp_path / "missing.jpg"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr
