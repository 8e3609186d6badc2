"""How far the shipped classifier is from flexible classifiers on the same features.

``python -m bench.feature_ceiling [--measurements FILE]`` cross-validates, on the folds, rows and
casts of ``bench.accuracy``, the shipped calibrated rules beside general-purpose classifiers that
see all of the pipeline's corrected features with neither the rules' form (two signed axes) nor
the calibration's stability penalty. If they score no better on neutral photos, what limits the
accuracy is the information in the features, not the way the rules combine them; their figures
under the casts show what that freedom costs in stability.

Reads the same measurement cache as ``bench.accuracy`` (numbers only, never pixels), so after one
slow pass of either it runs in about 20 s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.accuracy import (
    MEASUREMENTS_HELP,
    cross_validate,
    fit_calibrated_rules,
    measure_cached,
    sklearn_fitter,
    stability_table,
)


def _candidates() -> dict[str, Callable[[], Any]]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return {
        "logistic regression, all features": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=5000)
        ),
        "logistic regression, all features, C=0.1": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.1, max_iter=5000)
        ),
        "random forest (500 trees, leaves of 5)": lambda: RandomForestClassifier(
            500, min_samples_leaf=5, random_state=0
        ),
        "gradient boosting (depth 3)": lambda: HistGradientBoostingClassifier(
            max_depth=3, learning_rate=0.05, max_iter=200, random_state=0
        ),
        "RBF support-vector machine": lambda: make_pipeline(StandardScaler(), SVC(C=1.0)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.feature_ceiling", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, default=None, help="labelled set folder (labels.csv + photos)")
    parser.add_argument("--measurements", type=Path, default=None, help=MEASUREMENTS_HELP)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    data = measure_cached(args.data, args.measurements)
    results = [
        cross_validate(data, "calibrated rules (shipped)", "features", fit_calibrated_rules, augment=True)
    ]
    for name, make_model in _candidates().items():
        results.append(cross_validate(data, name, "features", sklearn_fitter(make_model), augment=True))
    print(
        "Trained on the corrected features of the training photos under neutral light and the "
        "augmentation casts; 5-fold stratified cross-validation (the folds of bench.accuracy)."
    )
    print("\n".join(stability_table("method", {m.name: m for m in results}, args.markdown)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
