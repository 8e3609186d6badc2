"""`python -m pipeline analyze PHOTO [--json] [--overlay OUT.png]`: the pipeline on one's own photo.

Prints what was found (lighting, face, regions, measured colours) as text or JSON. A photo the
pipeline cannot use is an answer, not a crash: the error code and its advice are printed and the
exit status is 1 (2 for usage errors such as a missing file, as argparse does). Only `--overlay`
writes anything, and only where the person asked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from pipeline.analysis import Analysis, Analyzer
from pipeline.diagnosis import LANGUAGES, Diagnoser, render_diagnosis
from pipeline.errors import PipelineError
from pipeline.exposure import ExposureReference
from pipeline.features import RegionColor
from pipeline.overlay import draw_overlay, encode_png

EXIT_OK, EXIT_UNUSABLE_PHOTO, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    analyze = commands.add_parser("analyze", help="analyse one photo (JPEG, PNG or WebP)")
    analyze.add_argument("photo", type=Path, help="the photo to analyse")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of text")
    analyze.add_argument(
        "--overlay", type=Path, metavar="OUT.png", help="write the corrected photo with landmarks and regions"
    )
    analyze.add_argument(
        "--lighting-score", type=float, default=None, help="the client's own lighting score (0-100), if any"
    )
    analyze.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the diagnosis texts")
    analyze.add_argument("--verbose", action="store_true", help="keep MediaPipe's native log lines on stderr")
    return parser


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        data = args.photo.read_bytes()
    except OSError as error:
        print(f"cannot read {args.photo}: {error.strerror or error}", file=err)
        return EXIT_USAGE
    if args.overlay is not None and args.overlay.suffix.lower() != ".png":
        print("--overlay must name a .png file", file=err)
        return EXIT_USAGE

    try:
        with _native_logs_silenced(not args.verbose):
            analysis = _analyze(data, args.lighting_score, args.lang)
    except PipelineError as error:
        if args.json:
            print(json.dumps({"error": error.to_dict()}, ensure_ascii=False, indent=2), file=out)
        else:
            print(_error_text(error), file=err)
        return EXIT_UNUSABLE_PHOTO

    if args.overlay is not None:
        png = encode_png(draw_overlay(analysis.corrected_rgb, analysis.landmarks, analysis.regions))
        args.overlay.write_bytes(png)
    if args.json:
        body = analysis.to_dict()
        if args.overlay is not None:
            body["overlay"] = str(args.overlay)
        print(json.dumps(body, ensure_ascii=False, indent=2), file=out)
    else:
        print(render_text(args.photo.name, analysis), file=out)
        if args.overlay is not None:
            print(f"\nOverlay written to {args.overlay}", file=out)
    return EXIT_OK


def _analyze(data: bytes, lighting_score: float | None, lang: str) -> Analysis:
    analyzer = Analyzer(diagnoser=Diagnoser.load())
    try:
        return analyzer.analyze(data, client_lighting_score=lighting_score, lang=lang)
    finally:
        analyzer.close()


@contextmanager
def _native_logs_silenced(enabled: bool) -> Iterator[None]:
    """Hide the C++ log lines MediaPipe and TFLite print to file descriptor 2 while models run.

    They are written below Python (glog/absl before initialisation), so only redirecting the file
    descriptor hides them. Python's own exceptions are raised after the descriptor is restored.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _error_text(error: PipelineError) -> str:
    lines = [f"{error.code.value}: {error.message}"]
    advice = error.details.get("advice")
    if isinstance(advice, list):
        lines += [f"  - {item}" for item in advice]
    others = {key: value for key, value in error.details.items() if key != "advice"}
    if others:
        lines.append("  details: " + ", ".join(f"{key}={value}" for key, value in others.items()))
    return "\n".join(lines)


def render_text(name: str, analysis: Analysis) -> str:
    """The human-readable report."""
    width, height = analysis.landmarks.image_size
    lines = [f"Photo     {name} (analysed at {width}x{height})", ""]
    lines += _lighting_lines(analysis.lighting.to_dict(), list(analysis.lighting.advice()))
    face = analysis.landmarks
    x, y, w, h = face.box
    lines += [
        "",
        f"Face      box x={x} y={y} w={w} h={h}; pupils {face.interocular_px:.0f} px apart",
        f"          yaw {face.yaw_deg:+.1f} deg, pitch {face.pitch_deg:+.1f} deg, "
        f"roll {face.roll_deg:+.1f} deg",
    ]
    counts = analysis.regions.pixel_counts()
    hair_source = analysis.regions.hair_source.value
    lines += [
        "",
        f"Regions   skin {counts['skin']} px, eyes {counts['eyes']} px, lips {counts['lips']} px, "
        f"hair {counts['hair']} px "
        f"(hair from: {hair_source})",
        "",
        *_reference_lines(analysis.features.exposure),
        "",
        "Colours      L*      a*      b*      C*    hue   spread  hex",
    ]
    features = analysis.features
    lines.append(_colour_line("skin", features.skin) + f"   ITA {features.skin_ita:.1f} deg")
    lines.append(_colour_line("eyes", features.eyes))
    lines.append(_colour_line("lips", features.lips))
    lines.append(_colour_line("hair", features.hair) if features.hair else "  hair     (not found)")
    if analysis.diagnosis is not None:
        lines += ["", render_diagnosis(analysis.diagnosis.to_dict())]
    timings = ", ".join(f"{stage} {ms:.1f}" for stage, ms in analysis.timings_ms.items())
    lines += ["", f"Timings   (ms) {timings}"]
    return "\n".join(lines)


def _reference_lines(exposure: ExposureReference | None) -> list[str]:
    """How the whites of the eyes set the exposure and the white the colours were measured at."""
    if exposure is None or not exposure.used:
        lines = ["Exposure  colours as photographed (the whites of the eyes could not serve as a reference)"]
    else:
        line = (
            f"Exposure  colours measured at x{exposure.gain:.2f}: the whites of the eyes "
            f"(Y {exposure.sclera_luminance:.2f}, {exposure.sclera_pixels} px) set to the standard level"
        )
        if exposure.limited_by_skin:
            line += ", limited so the skin stays within the lightest skin seen in photos"
        lines = [line]
    if exposure is None or exposure.sclera_chromaticity is None:
        lines.append("White     as corrected by the lighting stage (too little unclipped white of the eyes)")
    else:
        r, g, b = exposure.white_gains
        lines.append(
            f"White     R x{r:.2f}, G x{g:.2f}, B x{b:.2f}: the whites of the eyes brought to the "
            "standard colour"
        )
    return lines


def _lighting_lines(report: dict[str, Any], advice: list[str]) -> list[str]:
    problems = report.get("problems") or []
    score = report.get("score")
    score_text = f"{score:.0f}/100" if isinstance(score, int | float) else str(score)
    lines = [f"Lighting  score {score_text}; problems: {', '.join(problems) if problems else 'none'}"]
    parts = [
        f"{key.replace('_', ' ')} {_number(value)}"
        for key, value in report.items()
        if key not in {"score", "problems", "illuminant", "advice"} and isinstance(value, int | float | bool)
    ]
    if parts:
        lines.append("          " + ", ".join(parts))
    lines += [f"          advice: {item}" for item in advice]
    return lines


def _number(value: float | bool) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.3g}"


def _colour_line(name: str, colour: RegionColor) -> str:
    return (
        f"  {name:<6} {colour.L:7.1f} {colour.a:7.1f} {colour.b:7.1f} {colour.chroma:7.1f} "
        f"{colour.hue_deg:6.1f} {colour.spread:7.1f}  {colour.hex}"
    )
