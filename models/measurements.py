"""Measure the labelled sets once and keep the numbers: a cache that knows what it was made from.

Measuring ~2150 photos under a dozen lightings through the pipeline takes the better part of an
hour on one core, and the model build, the calibration and the accuracy benchmark all need the
same numbers. The cache is a JSON-lines file (numbers only, never pixels): a header naming
everything the measurements depend on (feature version, candidate features, the lightings, the
analyzer's settings) and one line per photo with the sha256 of its file. A header that does not
match the current code, or a photo whose file changed, is measured again; a run that stops half
way resumes where it stopped. A pipeline change that moves the measured numbers must bump
`pipeline.features.FEATURE_VERSION` (already the model's contract), which invalidates the cache.

    python -m models.measurements [--jobs 2]    # fill the default cache
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from models.candidates import CANDIDATE_NAMES
from models.labelled import (
    AUGMENT,
    MEASURING_POSE,
    MODERATE,
    NEUTRAL,
    LabelledSetMeasurer,
    Lighting,
    Measurement,
    Photo,
    load_labelled_sets,
    measuring_landmarks,
)
from pipeline.decode import DecodeLimits
from pipeline.features import FEATURE_NAMES, FEATURE_VERSION
from pipeline.normalize import LightingConfig
from pipeline.regions import RegionConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO_ROOT / ".cache" / "labelled-measurements.jsonl"
# Every lighting the build and the benchmark read: neutral, the training casts, the evaluated ones
# (the combined casts of issue 9 are left out: on ten times the photos they would add 40% to the
# measuring time for a table outside the constraint).
LIGHTINGS: tuple[Lighting, ...] = (NEUTRAL, *AUGMENT, *MODERATE)


def cache_header(lightings: Sequence[Lighting] = LIGHTINGS) -> dict[str, Any]:
    """What the measurements depend on; a cache with another header is stale."""
    return {
        "feature_version": FEATURE_VERSION,
        "feature_names": list(FEATURE_NAMES),
        "candidate_names": list(CANDIDATE_NAMES),
        "lightings": [asdict(light) for light in lightings],
        "measuring_pose": MEASURING_POSE,
        "settings": {
            "decode": repr(DecodeLimits()),
            "lighting": repr(LightingConfig()),
            # Measured with the pose limits open; the service's limits are applied afterwards.
            "landmarks": repr(measuring_landmarks()),
            "regions": repr(RegionConfig()),
        },
    }


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _vector(value: np.ndarray[Any, Any] | None) -> list[float] | None:
    return None if value is None else [float(v) for v in value]


def _array(value: list[float] | None) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    return None if value is None else np.asarray(value, dtype=np.float64)


def measurement_to_json(m: Measurement) -> dict[str, Any]:
    return {
        "status": m.status,
        "features": _vector(m.features),
        "uncorrected": _vector(m.uncorrected),
        "whole_lab": _vector(m.whole_lab),
        "lighting_score": m.lighting_score,
        "problems": list(m.problems),
        "pose": None if m.pose is None else list(m.pose),
        "interocular_px": m.interocular_px,
        "candidates": _vector(m.candidates),
    }


def measurement_from_json(raw: dict[str, Any]) -> Measurement:
    pose = raw.get("pose")
    return Measurement(
        status=raw["status"],
        features=_array(raw["features"]),
        uncorrected=_array(raw["uncorrected"]),
        whole_lab=np.asarray(raw["whole_lab"], dtype=np.float64),
        lighting_score=raw["lighting_score"],
        problems=tuple(raw["problems"]),
        pose=None if pose is None else (float(pose[0]), float(pose[1]), float(pose[2])),
        interocular_px=raw.get("interocular_px"),
        candidates=_array(raw.get("candidates")),
    )


def _read_cache(path: Path, header: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Cached lines by photo key, or nothing when the file is missing or its header is stale."""
    if not path.is_file():
        return {}
    lines = path.read_text().splitlines()
    if not lines or json.loads(lines[0]) != {"header": header}:
        return {}
    entries = {}
    for line in lines[1:]:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:  # a run stopped in the middle of a line
            continue
        entries[entry["key"]] = entry
    return entries


def photo_key(photo: Photo) -> str:
    return f"{photo.dataset}/{photo.path.parent.name}/{photo.path.name}"


def _measure_chunk(args: tuple[list[Photo], tuple[Lighting, ...]]) -> list[dict[str, dict[str, Any]]]:
    photos, lightings = args
    measurer = LabelledSetMeasurer()
    try:
        return [
            {name: measurement_to_json(m) for name, m in measurer.measure_photo(photo, lightings).items()}
            for photo in photos
        ]
    finally:
        measurer.close()


def _chunks(items: list[Photo], size: int) -> Iterator[list[Photo]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def measure_cached(
    photos: Sequence[Photo],
    cache: Path = DEFAULT_CACHE,
    lightings: Sequence[Lighting] = LIGHTINGS,
    jobs: int = 1,
) -> dict[str, list[Measurement]]:
    """Measurements per lighting name, each list in `photos` order: from `cache` where its header
    and the photo's sha256 match, measured (and appended to the cache) otherwise."""
    header = cache_header(lightings)
    cached = _read_cache(cache, header)
    hashes = [file_sha256(photo.path) for photo in photos]
    missing = [
        photo
        for photo, digest in zip(photos, hashes, strict=True)
        if cached.get(photo_key(photo), {}).get("sha256") != digest
    ]
    if missing:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fresh = not cached
        with cache.open("w" if fresh else "a") as out:
            if fresh:
                out.write(json.dumps({"header": header}) + "\n")
            _measure_into(missing, tuple(lightings), jobs, out, cached)
    result: dict[str, list[Measurement]] = {light.name: [] for light in lightings}
    for photo in photos:
        entry = cached[photo_key(photo)]
        for light in lightings:
            result[light.name].append(measurement_from_json(entry["by_lighting"][light.name]))
    return result


class MeasurementsMissingError(Exception):
    """The cache does not hold every photo's measurements for the current code."""


def cached_only(
    photos: Sequence[Photo], cache: Path = DEFAULT_CACHE, lightings: Sequence[Lighting] = LIGHTINGS
) -> dict[str, list[Measurement]]:
    """Like `measure_cached`, but never measures: raises MeasurementsMissingError (saying how many photos
    are missing and how to measure them) unless the cache's header matches the current code and
    every photo is there with its file's sha256. For the model build, which should not start a
    40-minute measuring run by surprise."""
    header = cache_header(lightings)
    cached = _read_cache(cache, header)
    missing = (
        [
            photo
            for photo in photos
            if cached.get(photo_key(photo), {}).get("sha256") != file_sha256(photo.path)
        ]
        if cached
        else list(photos)
    )
    if missing:
        state = (
            "missing"
            if not cache.is_file()
            else ("stale (another feature version or settings)" if not cached else "incomplete")
        )
        raise MeasurementsMissingError(
            f"the measurement cache {cache} is {state}: {len(missing)} of {len(photos)} labelled photos "
            "are not measured for the current code; run `python -m models.measurements --jobs 2` "
            "(12 minutes on two quiet cores, 2026-12-04) first"
        )
    return measure_cached(photos, cache, lightings)


def _measure_into(
    missing: list[Photo], lightings: tuple[Lighting, ...], jobs: int, out: Any, cached: dict[str, Any]
) -> None:
    started = time.perf_counter()
    chunks = [(chunk, lightings) for chunk in _chunks(missing, 10)]
    done = 0
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs) as pool:
        for chunk, measured in zip(chunks, pool.imap(_measure_chunk, chunks), strict=True):
            for photo, by_lighting in zip(chunk[0], measured, strict=True):
                key = photo_key(photo)
                entry = {"key": key, "sha256": file_sha256(photo.path), "by_lighting": by_lighting}
                cached[key] = entry
                out.write(json.dumps(entry) + "\n")
            out.flush()
            done += len(chunk[0])
            elapsed = time.perf_counter() - started
            print(
                f"  measured {done}/{len(missing)} photos x {len(lightings)} lightings ({elapsed:.0f} s)",
                file=sys.stderr,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure the labelled sets into the cache.")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = parser.parse_args(argv)
    photos = load_labelled_sets()
    by_lighting = measure_cached(photos, args.cache, jobs=args.jobs)
    ok = sum(m.status == "ok" for m in by_lighting[NEUTRAL.name])
    print(f"{len(photos)} photos, {ok} measured under neutral light; cache {args.cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
