"""The learned season classifiers that cross-validation compares, as `models.crossval.Fitter`s:
`sklearn_fitter(make_model, columns)` trains any scikit-learn classifier on chosen columns (the
learned candidates of issue 16 and the baselines' logistic regressions). The rules' own fitter,
`fit_calibrated_rules`, lives with the calibration in `models.calibrate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from models.crossval import COLUMN_NAMES, Fitter, Prediction, Predictor, TrainingRows
from models.labelled import SEASONS
from pipeline.arrays import FloatArray


def columns_of(names: Sequence[str]) -> list[int]:
    return [COLUMN_NAMES.index(name) for name in names]


def sklearn_fitter(
    make_model: Callable[[], Any], columns: Sequence[int] | None = None, target: str = "season"
) -> Fitter:
    """A Fitter training a fresh classifier from `make_model` on `columns` of the rows (all: None).
    Missing values stay NaN: the model (or an imputer in its pipeline) must handle them. `target`
    "class12" trains on the armocromia classes (rows without one left out) and answers them in
    `Prediction.seasons`; the probabilities are then those of the seasons, summed over classes."""

    def fit(rows: TrainingRows) -> Predictor:
        x = rows.x if columns is None else rows.x[:, list(columns)]
        labels = np.asarray(rows.seasons if target == "season" else rows.classes, dtype=object)
        keep = labels != None  # noqa: E711 (element-wise)
        model = make_model()
        model.fit(x[keep], labels[keep].astype(str))
        classes = [str(c) for c in model.classes_]
        season_of = np.array([[c.split()[0] == season for season in SEASONS] for c in classes], dtype=float)

        def predict(features: FloatArray) -> Prediction:
            chosen = features if columns is None else features[:, list(columns)]
            raw = np.asarray(model.predict_proba(chosen), dtype=np.float64)
            answers = [classes[int(k)] for k in raw.argmax(axis=1)]
            probabilities = raw @ season_of
            if target == "season":
                answers = [SEASONS[int(k)] for k in probabilities.argmax(axis=1)]
            return Prediction(answers, probabilities)

        return predict

    return fit


def logistic(c: float = 1.0) -> Any:
    """Standardised L2 logistic regression (inverse penalty `c`, scikit-learn's default 1), missing
    values imputed with the training median."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(C=c, max_iter=5000)
    )


def logistic_strong_l2() -> Any:
    """The same with a ten times stronger L2 penalty (C = 0.1): flatter weights, which a cast moves
    less; a candidate of the season head's selection (`models.season_head`)."""
    return logistic(0.1)
