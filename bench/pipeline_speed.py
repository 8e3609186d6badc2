"""Per-stage speed of the analysis pipeline on one core: `python -m bench.pipeline_speed`.

Prints median and p95 milliseconds per stage (decode, normalize, landmarks, regions, features) and
their sum, for a 640x480 and a 1280x960 JPEG selfie made from the astronaut test photo. The target
is a median of at most 20 ms up to the features at 640x480. "of which graphs" is the part of that
sum spent inside the three MediaPipe graphs (face detection, Face Mesh, selfie segmentation, timed
around each `pipeline.graph_call` call): model inference that no change to our own code reduces.

"One core" means the whole process is pinned to one CPU with sched_setaffinity: OpenCV is also
told to use one thread, but MediaPipe and TFLite start their own worker threads, which the
affinity mask confines to the same core. Figures are wall-clock times on a shared machine: compare
ratios within one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np

from pipeline import graph_call
from pipeline.analysis import Analyzer
from tests.support import faces

STAGES = ("decode", "normalize", "landmarks", "regions", "features")
TARGET_MS_640 = 20.0


def selfie_jpeg(width: int, height: int) -> bytes:
    """The astronaut's upper 4:3 part (head and shoulders) scaled to width x height, as a JPEG."""
    portrait = faces.astronaut()[:384]
    scaled = cv2.resize(
        portrait, (width, height), interpolation=cv2.INTER_AREA if width < 512 else cv2.INTER_CUBIC
    )
    return faces.encode_jpeg(np.ascontiguousarray(scaled), quality=90)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


@contextmanager
def graph_calls_timed() -> Iterator[list[float]]:
    """Collects the milliseconds of every MediaPipe graph call made meanwhile (this process only)."""
    spent: list[float] = []
    run = graph_call.graph_output

    def timed(solution: Any, inputs: graph_call.Inputs, stream: str) -> Any:
        start = time.perf_counter()
        try:
            return run(solution, inputs, stream)
        finally:
            spent.append((time.perf_counter() - start) * 1000.0)

    graph_call.graph_output = timed
    try:
        yield spent
    finally:
        graph_call.graph_output = run


def measure(analyzer: Analyzer, data: bytes, runs: int, warmup: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {stage: [] for stage in (*STAGES, "up_to_features", "graphs")}
    with graph_calls_timed() as spent:
        for index in range(warmup + runs):
            spent.clear()
            timings = analyzer.analyze(data).timings_ms
            if index < warmup:
                continue
            for stage in STAGES:
                samples[stage].append(timings[stage])
            samples["up_to_features"].append(sum(timings[stage] for stage in STAGES))
            samples["graphs"].append(sum(spent))
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--all-cores", action="store_true", help="do not pin the process to one core")
    args = parser.parse_args(argv)

    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    analyzer = Analyzer()
    try:
        print(f"Pipeline speed, {args.runs} runs after {args.warmup} warm-up runs, {cores} core(s), ms")
        if hasattr(os, "getloadavg"):
            print(
                "Load average (1, 5, 15 min) at the start: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
            )
        print(f"{'input':<10} {'stage':<15} {'median':>8} {'p95':>8}")
        verdict = ""
        for width, height in ((640, 480), (1280, 960)):
            samples = measure(analyzer, selfie_jpeg(width, height), args.runs, args.warmup)
            for stage, values in samples.items():
                label = {"up_to_features": "up to features", "graphs": "of which graphs"}.get(stage, stage)
                print(
                    f"{f'{width}x{height}':<10} {label:<15} {statistics.median(values):8.2f} "
                    f"{percentile(values, 95):8.2f}"
                )
            if width == 640:
                median = statistics.median(samples["up_to_features"])
                status = "met" if median <= TARGET_MS_640 else "NOT met"
                verdict = f"Target (median <= {TARGET_MS_640:.0f} ms up to features at 640x480): {status}"
        print(verdict)
        if hasattr(os, "getloadavg"):
            print("Load average (1, 5, 15 min) at the end: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    finally:
        analyzer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
