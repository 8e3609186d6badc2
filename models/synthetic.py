"""A synthetic population of skin, iris and hair colours in CIELAB, for training the classifier.

The realistic population is a mixture of groups whose means and spreads follow published
colorimetry of skin, irides and hair (see the model card). It is what the held-out agreement is
measured on. Training adds a broad, uniform component over the plausible range so that the model
also behaves sensibly at the edges (unusual lighting, dyed hair) where the realistic mixture is
thin.

Derived features (chroma, hue angle, ITA, contrasts) are computed exactly as
``pipeline.features.ColorFeatures.to_vector`` does, so the model sees what the pipeline sends.
"""

from __future__ import annotations

import numpy as np

from pipeline.arrays import FloatArray
from pipeline.features import FEATURE_NAMES

# (share, mean L*a*b*, standard deviation L*a*b*) per group. The first group of each region is what
# the pipeline itself measures on portrait photos after its lighting correction (163 usable photos
# of the labelled set under neutral light, feature version 4, `python -m models.photo_population`;
# only these numbers are kept): lighter and far less chromatic than spectrophotometer data, with a
# widely spread skin hue angle. The model must be trained where its inputs actually fall, so it
# gets half the realistic population; the literature groups keep it sound for other cameras and
# corrections. Re-measure after any change to the lighting correction, regions or features.
# Then the literature groups. Skin: Xiao et al. 2017 and de Rigal et al. 2010: light East Asian /
# European skin, medium (South/South-East Asian, Latin, Middle Eastern), deep (African and South
# Asian) skin.
SKIN_GROUPS = (
    (1.00, (79.1, 6.0, 7.3), (8.1, 4.0, 4.6)),
    (0.55, (65.0, 11.5, 17.0), (5.0, 2.5, 3.0)),
    (0.30, (56.0, 13.0, 20.0), (4.0, 2.5, 3.0)),
    (0.15, (42.0, 12.0, 17.0), (6.0, 2.5, 3.5)),
)
# Irides as photographed (iris ring without pupil): dark brown, hazel/green, blue/grey. The brown
# group is wide in b*: an iris ring measured in a photo picks up warm eyelid shadow and
# reflections (the astronaut reference photo measures L* 27, b* 25).
EYE_GROUPS = (
    (1.00, (16.6, 6.0, 0.7), (7.7, 2.7, 4.1)),
    (0.70, (31.0, 6.0, 12.0), (5.0, 2.5, 6.0)),
    (0.12, (42.0, 2.0, 14.0), (5.0, 2.0, 4.0)),
    (0.18, (47.0, -2.0, -6.0), (6.0, 1.5, 4.0)),
)
# Hair: black, dark brown, brown/auburn, blonde, grey/ash.
HAIR_GROUPS = (
    (1.00, (20.2, 4.3, 1.0), (12.4, 4.2, 7.2)),
    (0.35, (16.0, 1.5, 2.0), (3.0, 1.0, 2.0)),
    (0.30, (24.0, 4.0, 7.0), (4.0, 1.5, 3.0)),
    (0.15, (33.0, 9.0, 14.0), (5.0, 3.0, 4.0)),
    (0.12, (52.0, 5.0, 20.0), (7.0, 2.0, 5.0)),
    (0.08, (45.0, 0.5, 2.0), (10.0, 1.0, 2.0)),
)
HAIR_PRESENT_SHARE = 0.85
# Lips (the ring between their outer edge and the mouth opening), as the pipeline measures them on
# the labelled portraits (feature version 5): the only group, for want of published lip colours
# measured the same way; many of these portraits wear lipstick, so the spread is wide.
LIPS_GROUPS = ((1.00, (54.3, 35.6, 9.3), (7.6, 10.3, 7.2)),)

# Plausible bounds (L*, a*, b*) of each region; realistic samples are clipped to them and the broad
# component is uniform inside them.
SKIN_BOUNDS = ((28.0, 97.0), (-4.0, 26.0), (-8.0, 34.0))
EYE_BOUNDS = ((2.0, 65.0), (-6.0, 18.0), (-16.0, 36.0))
HAIR_BOUNDS = ((2.0, 75.0), (-4.0, 18.0), (-12.0, 36.0))
LIPS_BOUNDS = ((25.0, 80.0), (5.0, 55.0), (-10.0, 30.0))


def _mixture(
    n: int,
    groups: tuple[tuple[float, tuple[float, float, float], tuple[float, float, float]], ...],
    bounds: tuple[tuple[float, float], ...],
    rng: np.random.Generator,
) -> FloatArray:
    shares = np.array([g[0] for g in groups])
    which = rng.choice(len(groups), size=n, p=shares / shares.sum())
    means = np.array([g[1] for g in groups])[which]
    sds = np.array([g[2] for g in groups])[which]
    lab = rng.normal(means, sds)
    low, high = np.array(bounds).T
    return np.asarray(np.clip(lab, low, high), dtype=np.float64)


def _uniform(n: int, bounds: tuple[tuple[float, float], ...], rng: np.random.Generator) -> FloatArray:
    low, high = np.array(bounds).T
    return np.asarray(rng.uniform(low, high, size=(n, 3)), dtype=np.float64)


def feature_matrix(
    skin: FloatArray, eyes: FloatArray, hair: FloatArray, hair_present: FloatArray, lips: FloatArray
) -> FloatArray:
    """Feature vectors (N x len(FEATURE_NAMES)) from region colours, as the pipeline builds them.

    Rows without hair take the hair colour from the eyes, like ``ColorFeatures.to_vector``.
    """
    present = hair_present > 0.5
    hair = np.where(present[:, None], hair, eyes)
    columns: dict[str, FloatArray] = {"hair_present": present.astype(np.float64)}
    for prefix, lab in (("skin", skin), ("eye", eyes), ("hair", hair), ("lips", lips)):
        columns[f"{prefix}_L"], columns[f"{prefix}_a"], columns[f"{prefix}_b"] = lab.T
        columns[f"{prefix}_C"] = np.hypot(lab[:, 1], lab[:, 2])
    columns["skin_h"] = np.degrees(np.arctan2(skin[:, 2], skin[:, 1]))  # signed, as ColorFeatures
    columns["skin_ita"] = np.degrees(np.arctan2(skin[:, 0] - 50.0, skin[:, 2]))
    columns["contrast_skin_hair_L"] = skin[:, 0] - hair[:, 0]
    columns["contrast_skin_eye_L"] = skin[:, 0] - eyes[:, 0]
    missing = [name for name in FEATURE_NAMES if name not in columns]
    if missing:
        raise ValueError(
            f"the synthetic population cannot produce features {missing}; extend models/synthetic.py"
        )
    return np.stack([columns[name] for name in FEATURE_NAMES], axis=1)


def sample_population(n: int, rng: np.random.Generator, broad_share: float = 0.0) -> FloatArray:
    """n feature vectors: realistic mixture, with `broad_share` of them uniform over the bounds."""
    n_broad = round(n * broad_share)
    n_real = n - n_broad
    skin = np.concatenate(
        [_mixture(n_real, SKIN_GROUPS, SKIN_BOUNDS, rng), _uniform(n_broad, SKIN_BOUNDS, rng)]
    )
    eyes = np.concatenate([_mixture(n_real, EYE_GROUPS, EYE_BOUNDS, rng), _uniform(n_broad, EYE_BOUNDS, rng)])
    hair = np.concatenate(
        [_mixture(n_real, HAIR_GROUPS, HAIR_BOUNDS, rng), _uniform(n_broad, HAIR_BOUNDS, rng)]
    )
    hair_present = (rng.random(n) < HAIR_PRESENT_SHARE).astype(np.float64)
    lips = np.concatenate(
        [_mixture(n_real, LIPS_GROUPS, LIPS_BOUNDS, rng), _uniform(n_broad, LIPS_BOUNDS, rng)]
    )
    return feature_matrix(skin, eyes, hair, hair_present, lips)
