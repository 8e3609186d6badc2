"""Measure what the pipeline sees on real portraits: ``python -m models.photo_population``.

Prints, for the labelled photo set under neutral light (labels unused), the median sclera level
and chromaticity (``ExposureConfig.sclera_level`` and ``sclera_chromaticity`` in
``pipeline/exposure.py``), the per-region CIELAB mean and
standard deviation (the photo-measured group of ``models/synthetic.py``) and each feature's
median and robust spread (the ``ref`` and ``scale`` of ``models/rules.yaml``). Run it after any
change to the lighting correction, the regions or the feature version, update those files
(the sclera level and chromaticity first, then run again), and rebuild the model (``python -m models.build``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from models.labelled import DEFAULT_DATASET, NEUTRAL, LabelledSetMeasurer, Photo, load_photos
from pipeline.analysis import Analyzer
from pipeline.decode import decode_image
from pipeline.errors import PipelineError
from pipeline.exposure import ExposureConfig
from pipeline.features import FEATURE_NAMES, FEATURE_VERSION

# (p90 - p10) / 2.563 is one standard deviation for a normal distribution, robust to outliers.
_ROBUST_SD_DIVISOR = 2.563


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.photo_population", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATASET)
    args = parser.parse_args(argv)
    photos = load_photos(args.data)
    measurer = LabelledSetMeasurer()
    try:
        measured = [measurer.measure_photo(photo, [NEUTRAL])[NEUTRAL.name] for photo in photos]
        levels, chromaticities = _sclera_references(measurer.analyzer, photos)
    finally:
        measurer.close()
    x = np.array([m.features for m in measured if m.status == "ok" and m.features is not None])
    print(f"feature version {FEATURE_VERSION}: {len(x)} usable photos of {len(measured)}")
    percentile = ExposureConfig().percentile
    print(
        f"\nexposure.py sclera_level (median of the {percentile:.0f}th-percentile sclera luminance, "
        f"{len(levels)} photos): {np.median(levels):.3f}"
    )
    white = np.median(np.array(chromaticities), axis=0)
    print(
        f"exposure.py sclera_chromaticity (median over {len(chromaticities)} photos): "
        f"({white[0]:.4f}, {white[1]:.4f}, {white[2]:.4f})"
    )
    print("\nsynthetic.py photo group (mean L*a*b*, sd L*a*b*):")
    for region, prefix in (("skin", "skin"), ("eyes", "eye"), ("lips", "lips"), ("hair", "hair")):
        lab = x[:, [FEATURE_NAMES.index(f"{prefix}_{c}") for c in "Lab"]]
        if prefix == "hair":
            lab = lab[x[:, FEATURE_NAMES.index("hair_present")] > 0.5]
        mean, sd = lab.mean(axis=0).round(1), lab.std(axis=0).round(1)
        print(f"  {region:<5} ({mean[0]}, {mean[1]}, {mean[2]}), ({sd[0]}, {sd[1]}, {sd[2]})")
    print("\nrules.yaml ref (median) and scale (robust sd):")
    for i, name in enumerate(FEATURE_NAMES):
        p10, p50, p90 = np.percentile(x[:, i], (10, 50, 90))
        print(f"  {name:<22} ref {p50:7.1f}  scale {(p90 - p10) / _ROBUST_SD_DIVISOR:6.1f}")
    return 0


def _sclera_references(
    analyzer: Analyzer, photos: list[Photo]
) -> tuple[list[float], list[tuple[float, float, float]]]:
    """The sclera luminance and chromaticity each photo's reference read, before any gain (photos
    without one left out of each list)."""
    levels, chromaticities = [], []
    for photo in photos:
        try:
            exposure = analyzer.analyze_rgb(decode_image(photo.path.read_bytes())).features.exposure
        except PipelineError:
            continue
        if exposure is not None and exposure.sclera_luminance is not None:
            levels.append(exposure.sclera_luminance)
        if exposure is not None and exposure.sclera_chromaticity is not None:
            chromaticities.append(exposure.sclera_chromaticity)
    return levels, chromaticities


if __name__ == "__main__":
    raise SystemExit(main())
