"""Colour constancy and speed of the lighting stage: `python -m bench.color_constancy`.

For every synthetic cast of the astronaut photo (illuminants applied in linear RGB by
`pipeline.augment`, at 0 and -1 EV) and every white-balance method it prints:

- `err`: angular error in degrees between the estimated illuminant and the applied one (the
  photo as published counts as neutral, so a method's bias on the uncast photo is included);
- `rel`: the same error measured against the method's own estimate on the uncast photo, i.e. how
  well it follows a change of light regardless of that bias;
- `dE`: CIEDE2000 between the median of a fixed cheek box after correction and the same box in the
  uncast photo. The known exposure change is undone first, so dE measures white balance alone.

Then, through the whole analysis (lighting stage with its gate off, Face Mesh, regions, features
at the sclera's exposure and white), the CIEDE2000 between the skin and eye colours the features
measure on each cast photo and on the uncast one: the corrected skin the diagnosis actually uses,
the exposure found by the pipeline itself rather than undone.

Then the median and p95 milliseconds of `decode_image` (JPEG bytes) and `LightingCorrector.correct`
at 640x480 and 1280x960, single-threaded OpenCV (`cv2.setNumThreads(1)`); pass `--pin` to confine
the process (MediaPipe's worker threads included) to one CPU as well.

Targets (issue 3): median err <= 3 degrees over the cast set, corrected skin within dE 3 of the
uncast skin. On 2026-11-26 the lighting stage alone (gray_edge_and_pixels) gave median err 2.0,
median dE 2.8 and max dE 3.7 (4000 K, where 59% of the cheek has red clipped); the skin the
features measure was within dE 2.0 of the uncast skin for every cast (median 0.7). The
white-balance figures measured on 2026-11-25 are in pipeline/white_balance.py's
docstring. Timing on this 2-core machine at load average ~2 (median / p95 ms, unpinned):

    640x480    decode 2.0 / 2.2    normalize 5.8 / 6.3
    1280x960   decode 10.9 / 11.5  normalize 9.3 / 10.0   (working size 1024x768)

With `--pin`, MediaPipe's worker threads share the one core and normalize's median rises to
about 10 ms at 640x480; on a busy machine every figure grows several-fold.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial

import cv2
import numpy as np

from pipeline.analysis import Analyzer
from pipeline.arrays import FloatArray, Uint8Image
from pipeline.augment import apply_exposure, apply_illuminant, illuminant_gains, kelvin_to_linear_rgb
from pipeline.color import angular_error_deg, delta_e_2000, srgb_uint8_to_lab
from pipeline.decode import decode_image
from pipeline.errors import PipelineError
from pipeline.normalize import LightingConfig, LightingCorrector, correction_table, downscale
from pipeline.white_balance import WHITE_BALANCE_METHODS, estimate_illuminant, white_balance_gains
from tests.support import faces

CASTS: dict[str, FloatArray] = {
    "4000K": kelvin_to_linear_rgb(4000),
    "5000K": kelvin_to_linear_rgb(5000),
    "8000K": kelvin_to_linear_rgb(8000),
    "10000K": kelvin_to_linear_rgb(10000),
    "green": faces.GREEN_ILLUMINANT,
    "magenta": np.array([0.36, 0.28, 0.36]),
}
EXPOSURES_EV = (0.0, -1.0)
METHODS = tuple(m for m in WHITE_BALANCE_METHODS if m != "none")
TARGET_ERR_DEG = 3.0
TARGET_DE = 3.0


def skin_lab(image: Uint8Image) -> FloatArray:
    cheek = image[faces.ASTRONAUT_CHEEK_BOX].reshape(-1, 3)
    return np.asarray(np.median(srgb_uint8_to_lab(cheek), axis=0), dtype=np.float64)


def constancy_table() -> dict[str, dict[str, list[float]]]:
    base = faces.astronaut()
    reference_skin = skin_lab(base)
    small_base = downscale(base, LightingConfig().stats_max_side)
    results: dict[str, dict[str, list[float]]] = {m: {"err": [], "rel": [], "dE": []} for m in METHODS}
    print("Colour constancy on the astronaut (err / rel in degrees, dE = CIEDE2000 of the cheek median)")
    print(
        "bias on the uncast photo: "
        + ", ".join(
            f"{m} {angular_error_deg(estimate_illuminant(small_base, m), np.ones(3)):.1f}" for m in METHODS
        )
    )
    header = f"{'cast':>8} {'EV':>4} {'angle':>6} | " + " | ".join(f"{m:^20}" for m in METHODS)
    print(header)
    print("-" * len(header))
    own_bias = {m: estimate_illuminant(small_base, m) for m in METHODS}
    for ev in EXPOSURES_EV:
        for name, light in CASTS.items():
            applied = illuminant_gains(light)
            image = apply_illuminant(base, light)
            if ev:
                image = apply_exposure(image, ev)
            small = downscale(image, LightingConfig().stats_max_side)
            cells = []
            for method in METHODS:
                estimate = estimate_illuminant(small, method)
                err = angular_error_deg(estimate, applied)
                rel = angular_error_deg(estimate / own_bias[method], applied)
                gains = white_balance_gains(estimate) * 2.0 ** (-ev)
                corrected = np.asarray(cv2.LUT(image, correction_table(gains)), dtype=np.uint8)
                d_e = float(delta_e_2000(skin_lab(corrected), reference_skin))
                for key, value in (("err", err), ("rel", rel), ("dE", d_e)):
                    results[method][key].append(value)
                cells.append(f"{err:5.1f} {rel:5.1f} {d_e:5.1f}  ")
            angle = angular_error_deg(applied, np.ones(3))
            print(f"{name:>8} {ev:>4.0f} {angle:6.1f} | " + " | ".join(f"{c:^20}" for c in cells))
    print()
    print(
        f"{'method':>16} {'median err':>11} {'max err':>8} {'median rel':>11} {'median dE':>10} {'max dE':>7}"
    )
    for method in METHODS:
        r = results[method]
        print(
            f"{method:>16} {statistics.median(r['err']):11.2f} {max(r['err']):8.2f} "
            f"{statistics.median(r['rel']):11.2f} {statistics.median(r['dE']):10.2f} {max(r['dE']):7.2f}"
        )
    print(f"targets: median err <= {TARGET_ERR_DEG}, dE <= {TARGET_DE}")
    return results


def analysis_table() -> list[float]:
    """dE of the skin and eyes the whole analysis measures on each cast photo vs the uncast photo."""
    analyzer = Analyzer(lighting=LightingConfig(min_score=0.0))
    try:
        reference = analyzer.analyze_rgb(faces.astronaut()).features
        print(
            "\nWhole analysis (gate off; colours at the sclera's exposure and white): dE vs the uncast photo"
        )
        print(f"{'cast':>8} {'EV':>4} | {'skin dE':>7} {'eyes dE':>7} | white gains R G B")
        skin_errors = []
        for ev in EXPOSURES_EV:
            for name, light in CASTS.items():
                image = apply_illuminant(faces.astronaut(), light)
                if ev:
                    image = apply_exposure(image, ev)
                measured = analyzer.analyze_rgb(image).features
                skin = float(delta_e_2000(measured.skin.lab, reference.skin.lab))
                eyes = float(delta_e_2000(measured.eyes.lab, reference.eyes.lab))
                white = measured.exposure.white_gains if measured.exposure is not None else (1.0, 1.0, 1.0)
                skin_errors.append(skin)
                gains = " ".join(f"{gain:.3f}" for gain in white)
                print(f"{name:>8} {ev:>4.0f} | {skin:7.2f} {eyes:7.2f} | {gains}")
    finally:
        analyzer.close()
    print(
        f"skin dE median {statistics.median(skin_errors):.2f}, max {max(skin_errors):.2f} "
        f"(target: every cast <= {TARGET_DE})"
    )
    return skin_errors


def pipeline_outcomes() -> None:
    """What the shipped stage (default config) does with each variant: corrected or refused."""
    corrector = LightingCorrector()
    reference_skin = skin_lab(faces.astronaut())
    variants: dict[str, Callable[[], Uint8Image]] = {
        "uncast": faces.astronaut,
        "4000K": faces.warm_cast,
        "8000K": faces.cool_cast,
        "green": faces.green_cast,
        "4000K -1EV": lambda: faces.exposed(-1, faces.warm_cast()),
        "8000K -1EV": lambda: faces.exposed(-1, faces.cool_cast()),
        "4000K +1EV": lambda: faces.exposed(1, faces.warm_cast()),
        "8000K +1EV": lambda: faces.exposed(1, faces.cool_cast()),
        "-2 EV": faces.underexposed,
        "+1.5 EV": faces.overexposed,
        "3000K": lambda: faces.warm_cast(3000),
    }
    print("\nShipped stage (default config) on each variant; dE vs the uncast cheek, exposure as corrected")
    for name, make in variants.items():
        try:
            result = corrector.correct(make())
        except PipelineError as exc:  # a refusal is an outcome to print, not a crash
            problems, score = exc.details.get("problems"), exc.details.get("score")
            print(f"{name:>12}: refused {exc.code} {problems} score {score}")
            continue
        report = result.report
        d_e = float(delta_e_2000(skin_lab(result.rgb), reference_skin))
        print(
            f"{name:>12}: corrected score {report.score:5.1f} cast {report.cast_strength_deg:4.1f} deg "
            f"exposure {report.exposure_correction_ev:+.2f} EV  dE {d_e:4.1f}"
        )
    corrector.close()


def _time(function: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """Median, p95 and minimum wall-clock ms; the minimum is the figure least disturbed by other load."""
    for _ in range(3):
        function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))], samples[0]


def timing_table(repeats: int) -> None:
    corrector = LightingCorrector()
    print(f"\nTiming, ms over {repeats} runs (median / p95 / min), cv2 threads = {cv2.getNumThreads()}")
    for width, height in ((640, 480), (1280, 960)):
        image = cv2.resize(faces.astronaut(), (height, height), interpolation=cv2.INTER_CUBIC)
        canvas = np.full((height, width, 3), 200, dtype=np.uint8)
        canvas[:, (width - height) // 2 : (width - height) // 2 + height] = image
        data = faces.encode_jpeg(canvas, quality=90)
        decoded = decode_image(data)
        decode_ms = _time(partial(decode_image, data), repeats)
        normalize_ms = _time(partial(corrector.correct, decoded), repeats)
        print(
            f"{width}x{height} (working {decoded.shape[1]}x{decoded.shape[0]}): "
            f"decode {decode_ms[0]:.2f} / {decode_ms[1]:.2f} / {decode_ms[2]:.2f}   "
            f"normalize {normalize_ms[0]:.2f} / {normalize_ms[1]:.2f} / {normalize_ms[2]:.2f}"
        )
    corrector.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--pin", action="store_true", help="pin the process to one CPU")
    parser.add_argument("--timing-only", action="store_true", help="skip the colour-constancy tables")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    if args.pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if not args.timing_only:
        constancy_table()
        analysis_table()
        pipeline_outcomes()
    timing_table(args.repeats)


if __name__ == "__main__":
    main()
