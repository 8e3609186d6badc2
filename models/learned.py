"""Learned season classifiers that issue 16 compares with the calibrated rules.

Each candidate is a scikit-learn model with hyper-parameters fixed *before* any figure was seen
(none is tuned on the labelled photos, so the person-grouped figures carry no tuning optimism,
only the optimism of picking the best of these few), trained on the training folds' photos under
neutral light and the augmentation casts. They see the 21 shipped features and the candidate
features of ``models.candidates``; missing values (no hair, a patch with nothing to measure) are
left to the model (gradient boosting splits on them) or imputed with the training median.
"""

from __future__ import annotations

from typing import Any

from models.crossval import SEED, Fitter
from models.fitters import logistic, sklearn_fitter


def gradient_boosting() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=SEED,
    )


def mlp() -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(32,), alpha=1.0, max_iter=500, early_stopping=True, random_state=SEED
        ),
    )


CANDIDATES: dict[str, Fitter] = {
    "logistic regression, features + candidates": sklearn_fitter(logistic),
    "gradient boosting, features + candidates": sklearn_fitter(gradient_boosting),
    "MLP (32), features + candidates": sklearn_fitter(mlp),
}


def class12_fitter() -> Fitter:
    """A logistic regression on every column trained on the 12 armocromia classes (gradient
    boosting fits a tree per class and iteration: twelve times the cost for a figure beside the
    point of the season)."""
    return sklearn_fitter(logistic, target="class12")
