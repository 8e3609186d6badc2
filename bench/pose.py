"""How the measured colours and the season degrade as the head turns: the astronaut re-rendered turned.

    python -m bench.pose

The astronaut's face is re-rendered from her own Face Mesh turned about the vertical axis
(``tests/support/head_pose.py``, the same face the landmark tests turn) by 0 to 60 degrees each
way and run through the pipeline with the head-pose limits open (``models.labelled.
measuring_analyzer``), so every angle is measured. For each true angle it prints the estimated yaw
(Face Mesh pulls turned faces back towards its frontal template), the CIEDE2000 distance of the
skin, eye and lip colours from the frontal ones, each cheek's lightness (the far cheek is
foreshortened and shaded), the season type of the shipped model, and what the service's gate
answers. The labelled photos' figures by estimated pose are in ``python -m bench.accuracy``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from bench.accuracy import format_table
from models.candidates import CANDIDATE_NAMES, measure_candidates
from models.labelled import measuring_analyzer
from pipeline.color import delta_e_2000
from pipeline.diagnosis import Diagnoser
from pipeline.errors import PipelineError
from pipeline.landmark import LandmarkConfig, pose_error
from tests.support import faces
from tests.support.head_pose import turned_head

ANGLES = (0, 10, 20, 30, 35, 40, 45, 50, 60)


def rows() -> list[list[str]]:
    analyzer = measuring_analyzer()
    diagnoser = Diagnoser.load()
    service = LandmarkConfig()
    large = faces.resized(faces.astronaut(), 1024)
    right, left = CANDIDATE_NAMES.index("right_cheek_L"), CANDIDATE_NAMES.index("left_cheek_L")
    frontal: dict[str, np.ndarray] = {}  # type: ignore[type-arg]
    out = []
    try:
        for sign in (1, -1):
            for angle in ANGLES:
                if angle == 0 and sign < 0:
                    continue
                image = turned_head(large, sign * angle, analyzer.detector)
                try:
                    analysis = analyzer.analyze_rgb(image)
                except PipelineError as error:
                    out.append([f"{sign * angle:+d}", "-", error.code.value, *([""] * 7)])
                    continue
                features = analysis.features
                labs = {"skin": features.skin.lab, "eyes": features.eyes.lab, "lips": features.lips.lab}
                if angle == 0:
                    frontal = {name: np.asarray(lab) for name, lab in labs.items()}
                distances = {
                    name: float(delta_e_2000(np.asarray(lab)[None], frontal[name][None])[0])
                    for name, lab in labs.items()
                }
                cheeks = measure_candidates(image, analysis.landmarks, analysis.regions, features)
                landmarks = analysis.landmarks
                gate = pose_error(service, landmarks.yaw_deg, landmarks.pitch_deg)
                diagnosis = diagnoser.diagnose(features, analysis.lighting)
                out.append(
                    [
                        f"{sign * angle:+d}",
                        f"{landmarks.yaw_deg:+.1f}",
                        "refused (FACE_NOT_FRONTAL)" if gate is not None else "diagnosed",
                        f"{distances['skin']:.1f}",
                        f"{distances['eyes']:.1f}",
                        f"{distances['lips']:.1f}",
                        f"{cheeks[right]:.1f}",
                        f"{cheeks[left]:.1f}",
                        "-" if features.exposure is None else f"{features.exposure.gain:.2f}",
                        diagnosis.season_type,
                    ]
                )
    finally:
        analyzer.close()
    return out


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    config = LandmarkConfig()
    print(f"service limits: |yaw| <= {config.max_yaw_deg:g}, |pitch| <= {config.max_pitch_deg:g} (estimated)")
    header = [
        "true yaw",
        "estimated yaw",
        "service",
        "skin dE00",
        "eyes dE00",
        "lips dE00",
        "right cheek L*",
        "left cheek L*",
        "exposure gain",
        "type (shipped model)",
    ]
    print("\n".join(format_table(header, rows(), markdown=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
