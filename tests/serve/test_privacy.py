"""The photo never reaches the disk, the logs or the database.

A random marker is embedded in the test photos' bytes (a JPEG comment segment, which decoders carry
along untouched). After analyses that succeed and fail, every file Ray wrote for this session (logs,
spill and fallback directories), every file written under the temp directory or the repository
during the test, and every row of every table are searched for the marker in raw, hex and base64
form. There must be no hit.
"""

from __future__ import annotations

import base64
import os
import struct
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.serve.conftest import submit, wait_until_final
from tests.support import faces

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}
MAX_SCANNED_FILE = 200 * 1024 * 1024


def with_comment(jpeg: bytes, comment: bytes) -> bytes:
    """The JPEG with a COM segment right after the start-of-image marker."""
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


def encodings(marker: bytes) -> list[bytes]:
    """The marker as it could appear in a file: raw, hex, and base64 at each of the three alignments."""
    forms = [marker, marker.hex().encode(), marker.hex().upper().encode()]
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + marker)
        forms.append(encoded[4:-4])  # the middle does not depend on the neighbouring bytes
    return forms


def files_under(root: Path, modified_since: float | None = None) -> Iterator[Path]:
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if d not in SKIP_DIRS and not d.startswith("bash_")]
        for name in names:
            path = Path(directory, name)
            try:
                info = path.lstat()
            except OSError:
                continue
            if not path.is_file() or path.is_symlink() or info.st_size > MAX_SCANNED_FILE:
                continue
            if modified_since is None or info.st_mtime >= modified_since:
                yield path


def hits_in_files(paths: Iterator[Path], forms: list[bytes]) -> list[str]:
    found = []
    for path in paths:
        try:
            content = path.read_bytes()
        except OSError:
            continue
        found += [f"{path} ({form[:12]!r}...)" for form in forms if form in content]
    return found


def hits_in_database(url: str, forms: list[bytes]) -> list[str]:
    text_forms = [form.decode() for form in forms]
    engine = create_engine(url)
    found = []
    try:
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                rows = connection.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
                for row in rows:
                    found += [f"{table}: {form[:12]}..." for form in text_forms if form in row]
    finally:
        engine.dispose()
    return found


def test_photo_bytes_reach_no_disk_log_or_table(service, ray_cluster, http, auth):
    started = time.time()
    marker = f"PRIVACY-MARKER-{uuid.uuid4().hex}".encode()
    photos = {
        "completed": with_comment(faces.encode_jpeg(faces.astronaut()), marker),
        "NO_FACE_DETECTED": with_comment(faces.encode_jpeg(faces.no_face()), marker),
        "POOR_LIGHTING_CONDITION": with_comment(faces.encode_jpeg(faces.overexposed()), marker),
        "INVALID_IMAGE": with_comment(faces.truncated_jpeg(0.3), marker),
    }
    for expected, photo in photos.items():
        assert marker in photo
        accepted = submit(http, auth, photo)
        assert accepted.status_code == 202, accepted.text
        status = wait_until_final(http, auth, accepted.json()["status_url"])
        outcome = status["status"] if status["status"] == "completed" else status["error"]["code"]
        assert outcome == expected
    time.sleep(1.0)  # let Ray's log monitor flush the last lines before reading the files

    forms = encodings(marker)
    ray_files = list(files_under(ray_cluster.session_dir))
    assert any(path.suffix in {".log", ".out", ".err"} for path in ray_files), "found no Ray logs to scan"
    candidates = [
        *ray_files,
        *(files_under(ray_cluster.spill_dir) if ray_cluster.spill_dir else []),
        *files_under(Path(tempfile.gettempdir()), modified_since=started),
        *files_under(REPO, modified_since=started),
    ]
    assert hits_in_files(iter(candidates), forms) == []
    assert hits_in_database(service.database_url, forms) == []


@pytest.mark.parametrize("prefix", [b"", b"x", b"xy", b"some log line: "])
def test_the_scan_finds_the_marker_in_every_encoding(tmp_path, prefix):
    marker = f"PRIVACY-MARKER-{uuid.uuid4().hex}".encode()
    payload = prefix + marker + b" trailing"
    for name, content in {
        "raw": payload,
        "hex": payload.hex().encode(),
        "base64": base64.b64encode(payload),
    }.items():
        (tmp_path / name).write_bytes(content)
    found = hits_in_files(files_under(tmp_path), encodings(marker))
    assert {Path(hit.split(" ")[0]).name for hit in found} == {"raw", "hex", "base64"}
