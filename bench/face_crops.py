"""A time-boxed experiment of issue 16: a small CNN on eye-aligned, lighting-corrected face crops.

Not a shipped model. It answers one question with the benchmark's own rules: does a CNN that sees
the corrected face itself beat (or add to) the shipped logistic regression on the 21 colour
features? Same photos, same person-grouped folds (`models.crossval.person_folds`, same seed), same
refusals (a photo the service refuses at neutral light, per the measurement cache, is wrong), same
training casts (neutral + `models.labelled.AUGMENT`) and evaluation casts (4000 K, 8000 K, -1 EV).

Crops: each photo the service diagnoses is re-lit with the cast, corrected by the pipeline's own
corrector and landmarked by its own Face Mesh detector (`models.labelled.measuring_analyzer`, the
analyzer the measurement cache was made with), and the corrected image is warped by the similarity
transform that puts the two iris centres at fixed positions. Crops live in memory; with
`--keep-crops` they are also kept in /dev/shm for a rerun (never on disk elsewhere: privacy habit).

`python -m bench.face_crops` prints the table (about 11 minutes on two shared cores, 2026-12-04).
torch is imported inside functions only: it is not a project dependency and CI's mypy runs without it.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import multiprocessing
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.crossval import SEED, LabelledData, Outcome, empty_outcome, person_folds
from models.figures import Figures, figures
from models.labelled import AUGMENT, MODERATE, NEUTRAL, SEASONS, Lighting
from pipeline.arrays import FloatArray, IntArray, Uint8Image

SIZE = 64
# Iris centres in the crop, as fractions of its side: the crop spans ~3.1 interocular distances
# across, ~1.25 above the eyes (forehead and hairline) and ~1.9 below (down to the chin).
EYE_X = (0.34, 0.66)
EYE_Y = 0.40
EVALUATED: tuple[Lighting, ...] = tuple(
    light for light in MODERATE if light.name in {"4000K", "8000K", "-1EV"}
)
TRAINING: tuple[Lighting, ...] = (NEUTRAL, *AUGMENT)
LIGHTINGS: tuple[Lighting, ...] = (NEUTRAL, *EVALUATED, *AUGMENT)
SHM_PATH = Path("/dev/shm/personal-color-face-crops.npz")  # noqa: S108 (RAM only, by design)
FUSION_WEIGHT = 0.5  # fixed before any figure was seen
# Training budget (chosen for ~25 minutes of two cores for all folds).
MAX_EPOCHS = 40
PATIENCE = 8
BATCH = 64
FOLD_BUDGET_S = 300.0


def eye_aligned_crop(rgb: Uint8Image, right: FloatArray, left: FloatArray, size: int = SIZE) -> Uint8Image:
    """`size` x `size` crop with the person's right iris at (EYE_X[0], EYE_Y) and the left at
    (EYE_X[1], EYE_Y). Warped at 4x and reduced with area averaging, so the skin's colour is a
    mean of pixels and not an aliased sample."""
    import cv2

    big = 4 * size
    src = complex(*right), complex(*left)
    dst = complex(EYE_X[0] * big, EYE_Y * big), complex(EYE_X[1] * big, EYE_Y * big)
    a = (dst[1] - dst[0]) / (src[1] - src[0])
    t = dst[0] - a * src[0]
    matrix = np.array([[a.real, -a.imag, t.real], [a.imag, a.real, t.imag]], dtype=np.float64)
    warped = cv2.warpAffine(rgb, matrix, (big, big), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return np.asarray(cv2.resize(warped, (size, size), interpolation=cv2.INTER_AREA), dtype=np.uint8)


_WORKER: dict[str, Any] = {}


def _init_worker() -> None:
    from models.labelled import measuring_analyzer

    _WORKER["analyzer"] = measuring_analyzer()


def _crop_photo(job: tuple[int, str, tuple[Lighting, ...]]) -> tuple[int, dict[str, Uint8Image]]:
    """One photo's crops under the given lightings (a lighting the pipeline refuses is left out)."""
    from pipeline.decode import decode_image
    from pipeline.errors import PipelineError

    index, path, lightings = job
    analyzer = _WORKER["analyzer"]
    rgb = decode_image(Path(path).read_bytes())
    crops = {}
    for light in lightings:
        try:
            normalized = analyzer.corrector.correct(light.apply(rgb), None)
            landmarks = analyzer.detector.detect(normalized.rgb, normalized.faces)
        except PipelineError:
            continue
        right, left = landmarks.iris_centers
        crops[light.name] = eye_aligned_crop(normalized.rgb, right, left)
    return index, crops


@dataclass
class Crops:
    """Crops per lighting (N x SIZE x SIZE x 3) and which exist (the service diagnoses the photo
    under that lighting and the extraction found the face)."""

    images: dict[str, npt.NDArray[np.uint8]]
    present: dict[str, npt.NDArray[np.bool_]]


def _fingerprint(data: LabelledData) -> str:
    text = (
        "|".join(str(p.path) for p in data.photos)
        + f"|{SIZE}|{EYE_X}|{EYE_Y}|"
        + ",".join(light.name for light in LIGHTINGS)
    )
    return hashlib.sha256(text.encode()).hexdigest()


def extract_crops(data: LabelledData, jobs: int = 2) -> Crops:
    """Crops of every photo diagnosed at neutral light, under each lighting the service diagnoses it."""
    n = len(data.photos)
    images = {light.name: np.zeros((n, SIZE, SIZE, 3), dtype=np.uint8) for light in LIGHTINGS}
    present = {light.name: np.zeros(n, dtype=bool) for light in LIGHTINGS}
    work = []
    for i, photo in enumerate(data.photos):
        if data.status(NEUTRAL.name, i) != "ok":
            continue
        wanted = tuple(light for light in LIGHTINGS if data.status(light.name, i) == "ok")
        work.append((i, str(photo.path), wanted))
    with multiprocessing.get_context("spawn").Pool(jobs, initializer=_init_worker) as pool:
        for done, (i, crops) in enumerate(pool.imap_unordered(_crop_photo, work, chunksize=4), 1):
            for name, crop in crops.items():
                images[name][i] = crop
                present[name][i] = True
            if done % 250 == 0:
                print(f"  cropped {done}/{len(work)} photos", flush=True)
    return Crops(images, present)


def load_or_extract(data: LabelledData, jobs: int, keep: bool) -> tuple[Crops, float]:
    """The crops (from /dev/shm when a previous `--keep-crops` run left matching ones) and the
    seconds the extraction took (0 when reused)."""
    fingerprint = _fingerprint(data)
    if SHM_PATH.exists():
        with np.load(SHM_PATH) as saved:
            if str(saved["fingerprint"]) == fingerprint:
                names = [light.name for light in LIGHTINGS]
                return Crops(
                    {name: saved[f"img_{name}"] for name in names},
                    {name: saved[f"has_{name}"] for name in names},
                ), 0.0
    started = time.perf_counter()
    crops = extract_crops(data, jobs)
    seconds = time.perf_counter() - started
    if keep:
        arrays: dict[str, Any] = {"fingerprint": np.array(fingerprint)}
        arrays.update({f"img_{k}": v for k, v in crops.images.items()})
        arrays.update({f"has_{k}": v for k, v in crops.present.items()})
        np.savez(SHM_PATH, **arrays)
    return crops, seconds


def build_network() -> Any:
    """Four conv blocks (3x3 conv, batch norm, ReLU, 2x2 max pool), global average pool, dropout,
    a linear layer to the 4 seasons: ~160k parameters. An nn.Sequential (no subclass), so that
    the module type-checks with torch absent (CI)."""
    from torch import nn

    layers: list[Any] = []
    widths = (3, 24, 48, 96, 128)
    for c_in, c_out in itertools.pairwise(widths):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        layers.append(nn.MaxPool2d(2))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(widths[-1], len(SEASONS))]
    return nn.Sequential(*layers)


def _tensor(images: npt.NDArray[np.uint8]) -> Any:
    """uint8 N x H x W x 3 -> float N x 3 x H x W, centred (the network's input)."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return (x / 255.0 - 0.5) / 0.25


def _jitter(batch: Any, generator: Any) -> Any:
    """Random horizontal flips and shifts of up to 2 px (edge-replicated), per image."""
    import torch
    import torch.nn.functional as functional

    n = batch.shape[0]
    flip = torch.rand(n, generator=generator) < 0.5
    batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
    padded = functional.pad(batch, (2, 2, 2, 2), mode="replicate")
    dx = torch.randint(0, 5, (n,), generator=generator)
    dy = torch.randint(0, 5, (n,), generator=generator)
    return torch.stack([padded[k, :, dy[k] : dy[k] + SIZE, dx[k] : dx[k] + SIZE] for k in range(n)])


def predict_probabilities(network: Any, images: npt.NDArray[np.uint8]) -> FloatArray:
    """Season probabilities (SEASONS order), averaged over the crop and its mirror image."""
    import torch

    network.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), 256):
            x = _tensor(images[start : start + 256])
            p = torch.softmax(network(x), 1) + torch.softmax(network(x.flip(3)), 1)
            out.append((p / 2).numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, len(SEASONS)))


@dataclass(frozen=True)
class FoldLog:
    epochs: int
    best_epoch: int
    best_val_loss: float
    seconds: float
    stopped_by_budget: bool


def train_fold(data: LabelledData, crops: Crops, train: Sequence[int], seed: int) -> tuple[Any, FoldLog]:
    """A network fitted on `train`'s crops under the training lightings; early stopping on the
    neutral crops of an inner person-grouped fifth of `train` (never the test fold)."""
    import torch

    started = time.perf_counter()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    diagnosed = [int(i) for i in train if crops.present[NEUTRAL.name][i]]
    inner_train, inner_val = person_folds([data.photos[i] for i in diagnosed], seed=seed)[0]
    fit_photos = [diagnosed[k] for k in inner_train]
    val_photos = [diagnosed[k] for k in inner_val]
    label = np.array([SEASONS.index(p.season) for p in data.photos], dtype=np.int64)
    # Each photo's available training lightings; an epoch sees every photo once under one of them.
    options = [[light.name for light in TRAINING if crops.present[light.name][i]] for i in fit_photos]
    val_x = _tensor(crops.images[NEUTRAL.name][val_photos])
    val_y = torch.from_numpy(label[val_photos])
    network = build_network()
    optimizer = torch.optim.AdamW(network.parameters(), lr=3e-3, weight_decay=1e-3)
    loss_of = torch.nn.CrossEntropyLoss()
    best: tuple[float, int, dict[str, Any]] = (float("inf"), 0, {})
    epoch, by_budget = 0, False
    for epoch in range(1, MAX_EPOCHS + 1):
        network.train()
        order = rng.permutation(len(fit_photos))
        images = np.stack(
            [crops.images[options[k][rng.integers(len(options[k]))]][fit_photos[k]] for k in order]
        )
        targets = torch.from_numpy(label[[fit_photos[k] for k in order]])
        x_all = _tensor(images)
        for start in range(0, len(order), BATCH):
            batch = _jitter(x_all[start : start + BATCH], generator)
            optimizer.zero_grad()
            loss = loss_of(network(batch), targets[start : start + BATCH])
            loss.backward()
            optimizer.step()
        network.eval()
        with torch.no_grad():
            val_loss = float(loss_of(network(val_x), val_y))
        if val_loss < best[0]:
            best = (val_loss, epoch, {k: v.clone() for k, v in network.state_dict().items()})
        if epoch - best[1] >= PATIENCE:
            break
        if time.perf_counter() - started > FOLD_BUDGET_S:
            by_budget = True
            break
    network.load_state_dict(best[2])
    return network, FoldLog(epoch, best[1], best[0], time.perf_counter() - started, by_budget)


EVAL_NAMES: tuple[str, ...] = (NEUTRAL.name, *(light.name for light in EVALUATED))


def cnn_outcome(
    data: LabelledData, crops: Crops, folds: Sequence[tuple[IntArray, IntArray]]
) -> tuple[Outcome, dict[str, FloatArray], list[FoldLog]]:
    """Out-of-fold CNN answers (refusals where the service refuses) and its season probabilities
    per evaluated lighting (NaN rows where there is no crop)."""
    import torch

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    outcome = empty_outcome(data, EVAL_NAMES)
    n = len(data.photos)
    probabilities = {name: np.full((n, len(SEASONS)), np.nan) for name in EVAL_NAMES}
    logs = []
    for fold, (train, test) in enumerate(folds):
        network, log = train_fold(data, crops, list(train), seed=SEED + fold)
        logs.append(log)
        budget = " (stopped by the time budget)" if log.stopped_by_budget else ""
        print(
            f"  fold {fold + 1}: {log.epochs} epochs (best {log.best_epoch}, "
            f"val loss {log.best_val_loss:.3f}), {log.seconds:.0f} s{budget}",
            flush=True,
        )
        for name in EVAL_NAMES:
            for i in test:
                if data.status(name, int(i)) != "ok":
                    outcome.answers[name][i] = f"refused:{data.status(name, int(i))}"
                elif not crops.present[name][i]:
                    outcome.answers[name][i] = "refused:no-crop"
            rows = [int(i) for i in test if crops.present[name][i] and data.status(name, int(i)) == "ok"]
            p = predict_probabilities(network, crops.images[name][rows])
            probabilities[name][rows] = p
            for k, i in enumerate(rows):
                outcome.answers[name][i] = SEASONS[int(p[k].argmax())]
    outcome.probabilities[:] = probabilities[NEUTRAL.name]
    return outcome, probabilities, logs


def logistic_outcome(
    data: LabelledData, folds: Sequence[tuple[IntArray, IntArray]]
) -> tuple[Outcome, dict[str, FloatArray]]:
    """The shipped head's out-of-fold answers (`cross_validate`, as the build runs it) and its
    season probabilities under every evaluated lighting (the same fits, refitted per fold here
    because `Outcome` keeps the neutral probabilities only; checked equal to cross_validate's)."""
    from models.crossval import cross_validate
    from models.season_head import HEAD_CANDIDATES

    fitter = HEAD_CANDIDATES[2].fitter
    outcome = cross_validate(data, fitter, EVAL_NAMES, folds=folds)
    n = len(data.photos)
    probabilities = {name: np.full((n, len(SEASONS)), np.nan) for name in EVAL_NAMES}
    for train, test in folds:
        predictor = fitter(data.training_rows(list(train)))
        for name in EVAL_NAMES:
            rows = [int(i) for i in test if data.status(name, int(i)) == "ok"]
            if rows:
                prediction = predictor(data.matrix(name, rows))
                assert prediction.probabilities is not None
                probabilities[name][rows] = prediction.probabilities
    neutral_ok = ~np.isnan(outcome.probabilities).any(axis=1)
    if not np.allclose(outcome.probabilities[neutral_ok], probabilities[NEUTRAL.name][neutral_ok]):
        raise SystemExit("the refitted logistic regression differs from cross_validate's")
    return outcome, probabilities


def fused_outcome(
    data: LabelledData, cnn: dict[str, FloatArray], logistic: dict[str, FloatArray], reference: Outcome
) -> Outcome:
    """FUSION_WEIGHT x CNN + (1 - FUSION_WEIGHT) x logistic regression season probabilities;
    refusals as in `reference` (the CNN's: it refuses where the service does, or has no crop)."""
    outcome = empty_outcome(data, EVAL_NAMES)
    for name in EVAL_NAMES:
        both = FUSION_WEIGHT * cnn[name] + (1.0 - FUSION_WEIGHT) * logistic[name]
        for i, answer in enumerate(reference.answers[name]):
            if answer.startswith("refused:") or np.isnan(both[i]).any():
                outcome.answers[name][i] = answer
            else:
                outcome.answers[name][i] = SEASONS[int(both[i].argmax())]
        if name == NEUTRAL.name:
            outcome.probabilities[:] = both
    return outcome


def table(rows: Sequence[tuple[str, Figures]]) -> list[str]:
    lines = [
        "| method | season: all / diagnosed | warm/cool: all / diagnosed | refused at neutral | "
        "4000K kept | 8000K kept | -1EV kept |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, f in rows:
        kept = " | ".join(f"{f.casts[light.name].kept:.1%}" for light in EVALUATED)
        lines.append(
            f"| {name} | {f.season_all:.1%} / {f.season_diagnosed:.1%} | {f.warm_cool_all:.1%} / "
            f"{f.warm_cool_diagnosed:.1%} | {f.refused:.1%} | {kept} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the crops")
    parser.add_argument("--keep-crops", action="store_true", help=f"keep the crops in {SHM_PATH}")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    from bench.accuracy import load

    started = time.perf_counter()
    data = load()
    folds = person_folds(data.photos)
    crops, extraction_s = load_or_extract(data, args.jobs, args.keep_crops)
    counts = ", ".join(f"{name} {int(has.sum())}" for name, has in crops.present.items())
    print(f"crops ({SIZE}x{SIZE}): {counts}; extraction {extraction_s:.0f} s", flush=True)
    missing = sum(
        int(
            data.status(name, i) == "ok"
            and data.status(NEUTRAL.name, i) == "ok"
            and not crops.present[name][i]
        )
        for name in EVAL_NAMES
        for i in range(len(data.photos))
    )
    print(f"diagnosed (per the cache) but no crop found: {missing} photo-lightings", flush=True)
    training_started = time.perf_counter()
    cnn, cnn_p, logs = cnn_outcome(data, crops, folds)
    training_s = time.perf_counter() - training_started
    logistic, logistic_p = logistic_outcome(data, folds)
    fused = fused_outcome(data, cnn_p, logistic_p, cnn)
    photos = data.photos
    lines = table(
        [
            ("shipped: logistic regression, 21 features, C=0.1", figures(photos, logistic)),
            (f"CNN on {SIZE}x{SIZE} eye-aligned corrected crops", figures(photos, cnn)),
            (f"late fusion, {FUSION_WEIGHT} CNN + {1 - FUSION_WEIGHT} LR", figures(photos, fused)),
        ]
    )
    print("\n".join(lines))
    print(
        f"extraction {extraction_s:.0f} s, CNN training and prediction {training_s:.0f} s "
        f"({', '.join(f'{log.best_epoch}/{log.epochs}' for log in logs)} best/run epochs), "
        f"total {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
