"""Build the personal-color classifier: ``python -m models.build [--rules-only | --from-csv labelled.csv]``.

Default route (what ``make model`` runs), in one deterministic run (fixed seeds, one BLAS thread):

1. Sample a synthetic population of skin, iris and hair colours (``models.synthetic``), label it
   with the calibrated rules (``models/rules_calibrated.yaml``), train a small MLP (the *rules
   MLP*) and measure its agreement with the rules on held-out samples.
2. Read the measured labelled sets (both ``../shared/datasets`` sets, through the measurement
   cache of ``models.measurements``, checked against its header and every photo's sha256; never
   measured here) and select the season method on person-grouped 5-fold figures
   (``models.season_head``: the rules alone, or a logistic regression head on the 21 features;
   the selection rule is fixed in code).
3. When a learned head wins, fit it on all labelled photos (neutral light and the augmentation
   casts) and compose it with the rules MLP in one ONNX graph: the head decides the season, the
   rules MLP the tone inside it. The card records the data, the selection table, the chosen
   method's person-grouped and cross-source figures.

If the labelled sets or their measurements are missing, the build stops and says how to get them
(``python -m models.measurements --jobs 2``, 12 minutes on two quiet cores) rather than silently shipping
another model; ``--rules-only`` builds the rules MLP alone (model version 1.x, no labelled photo
needed), e.g. on a machine without the datasets.

``--from-csv`` trains the MLP on expert-labelled feature rows instead (format in ``MODEL_CARD.md``).

Writes ``personal_color.onnx``, ``personal_color.json`` (the machine-readable card) and
``MODEL_CARD.md`` into ``--out-dir`` (default: this folder). Build-only dependencies
(scikit-learn, skl2onnx, onnx) are imported here and never by ``pipeline/``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.calibrate import active_rules_path, calibration_summary
from models.card import render_model_card
from models.crossval import FOLDS, LabelledData
from models.crossval import SEED as CV_SEED
from models.figures import Figures
from models.measurements import DEFAULT_CACHE
from models.rules import Rules
from models.synthetic import sample_population
from pipeline.arrays import FloatArray, IntArray
from pipeline.features import FEATURE_NAMES, FEATURE_VERSION
from pipeline.seasons import SEASON_TYPE_IDS, SEASON_TYPES

REPO_ROOT = Path(__file__).resolve().parents[1]
# 2.x: the season from the learned head composed with the rules MLP; 1.x: the rules MLP alone.
MODEL_VERSION = "2.0.0"
RULES_ONLY_VERSION = "1.0.0"
MODEL_FILE = "personal_color.onnx"
CARD_FILE = "personal_color.json"
MARKDOWN_FILE = "MODEL_CARD.md"
INPUT_NAME = "features"
LABEL_COLUMN = "season_type"

SEED = 20261125
TRAIN_SAMPLES = 240_000
CALIBRATION_SAMPLES = 20_000
# Temperatures tried when fitting the confidence (log-spaced; the fit picks the best of the grid,
# which keeps the build deterministic and needs no optimiser).
TEMPERATURES = np.geomspace(1.0, 300.0, 120)
BROAD_SHARE = 0.3
HELDOUT_SAMPLES = 20_000
HIDDEN_LAYERS = (64, 64)
MLP_PARAMS: dict[str, Any] = {
    "alpha": 1e-5,
    "batch_size": 512,
    "learning_rate_init": 2e-3,
    "max_iter": 250,
    "tol": 1e-6,
    "n_iter_no_change": 20,
}
# ONNX opsets every onnxruntime >= 1.14 runs.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


@dataclass(frozen=True)
class TrainingData:
    x: FloatArray
    y: IntArray
    description: dict[str, Any]


def synthetic_training_data(rules: Rules, samples: int, seed: int) -> TrainingData:
    x = sample_population(samples, np.random.default_rng(seed), broad_share=BROAD_SHARE)
    return TrainingData(
        x=x,
        y=rules.label_indices(x),
        description={
            "source": "synthetic",
            "samples": samples,
            "seed": seed,
            "broad_share": BROAD_SHARE,
            "labels": "models/rules.py with models/rules.yaml",
            "population": "models/synthetic.py (published skin, iris and hair CIELAB ranges)",
        },
    )


def read_labelled_csv(path: Path) -> TrainingData:
    """Rows of FEATURE_NAMES columns plus `season_type`; refuses anything incomplete or unknown."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or ())
        missing = [name for name in (*FEATURE_NAMES, LABEL_COLUMN) if name not in header]
        if missing:
            raise SystemExit(
                f"{path}: missing columns {missing} (need {list(FEATURE_NAMES)} and {LABEL_COLUMN!r})"
            )
        rows, labels = [], []
        for line, row in enumerate(reader, start=2):
            label = row[LABEL_COLUMN].strip()
            if label not in SEASON_TYPE_IDS:
                raise SystemExit(f"{path}:{line}: unknown season_type {label!r}")
            try:
                rows.append([float(row[name]) for name in FEATURE_NAMES])
            except ValueError as exc:
                raise SystemExit(f"{path}:{line}: {exc}") from None
            labels.append(SEASON_TYPE_IDS.index(label))
    absent = sorted(set(SEASON_TYPE_IDS) - {SEASON_TYPE_IDS[i] for i in labels})
    if absent:
        raise SystemExit(
            f"{path}: every one of the 16 types needs rows, so the model can output all of them; "
            f"missing {absent} (add --mix-synthetic N to complete them with rules-labelled rows)"
        )
    x = np.asarray(rows, dtype=np.float64)
    if not np.isfinite(x).all():
        raise SystemExit(f"{path}: non-finite feature values")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return TrainingData(
        x=x,
        y=np.asarray(labels, dtype=np.int64),
        description={"source": "csv", "file": path.name, "sha256": digest, "samples": len(x)},
    )


def train(data: TrainingData, seed: int) -> Any:
    """A standardiser and a small MLP; deterministic for a given seed (one BLAS thread)."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    model = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "mlp",
                MLPClassifier(hidden_layer_sizes=HIDDEN_LAYERS, random_state=seed % (2**32), **MLP_PARAMS),
            ),
        ]
    )
    with threadpool_limits(limits=1):
        model.fit(data.x.astype(np.float32), data.y)
    classes = [int(c) for c in model.classes_]
    if classes != list(range(len(SEASON_TYPE_IDS))):
        raise SystemExit(f"training data must contain all 16 types; got class indices {classes}")
    return model


def _logits(model: Any, x: FloatArray) -> FloatArray:
    """The MLP's pre-softmax outputs in float64 (predict_proba underflows far from a boundary)."""
    mlp = model.named_steps["mlp"]
    h = model.named_steps["scale"].transform(x).astype(np.float64)
    for weights, bias in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1], strict=True):
        h = np.maximum(h @ weights + bias, 0.0)
    logits: FloatArray = h @ mlp.coefs_[-1] + mlp.intercepts_[-1]
    return logits


def calibrate_confidence(model: Any, rules: Rules, seed: int) -> float:
    """Fit a softmax temperature so the model's probabilities match the rules' soft labels.

    A model trained on hard labels is nearly certain everywhere, even a hair's breadth from a
    boundary. The rules' probabilities under measurement noise (`Rules.probabilities`, noise sd
    `axis_noise_sd`) say how sure one can honestly be; dividing the last layer by the temperature
    that minimises the cross-entropy to them keeps every argmax (the agreement) and makes the
    confidence fall off across a boundary as it should.
    """
    x = sample_population(CALIBRATION_SAMPLES, np.random.default_rng(seed + 4))
    target = rules.probabilities(x)
    logits = _logits(model, x)

    def cross_entropy(temperature: float) -> float:
        scaled = logits / temperature
        log_p = scaled - scaled.max(axis=1, keepdims=True)
        log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
        return float(-(target * log_p).sum(axis=1).mean())

    temperature = float(min(TEMPERATURES, key=cross_entropy))
    mlp = model.named_steps["mlp"]
    mlp.coefs_[-1] = mlp.coefs_[-1] / temperature
    mlp.intercepts_[-1] = mlp.intercepts_[-1] / temperature
    return temperature


def mlp_to_onnx(model: Any) -> Any:
    """The rules MLP as an ONNX ModelProto (skl2onnx, no ZipMap)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    return convert_sklearn(
        model,
        name="personal_color",
        initial_types=[(INPUT_NAME, FloatTensorType([None, len(FEATURE_NAMES)]))],
        options={id(model.steps[-1][1]): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )


def with_metadata(onnx_model: Any, metadata: dict[str, str]) -> bytes:
    """The serialised model with its contract in `metadata_props` (replacing any there)."""
    onnx_model.doc_string = (
        "Personal-color type probabilities from a face's measured colours (see MODEL_CARD.md)."
    )
    del onnx_model.metadata_props[:]
    for key, value in metadata.items():
        prop = onnx_model.metadata_props.add()
        prop.key, prop.value = key, value
    data: bytes = onnx_model.SerializeToString()
    return data


def export_onnx(model: Any, metadata: dict[str, str]) -> bytes:
    return with_metadata(mlp_to_onnx(model), metadata)


def onnx_probabilities(model_bytes: bytes, x: FloatArray) -> npt.NDArray[np.float32]:
    """Run the exported bytes exactly as the service will (onnxruntime, one thread)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    probabilities = session.run([names[1]], {INPUT_NAME: x.astype(np.float32)})[0]
    return np.asarray(probabilities, dtype=np.float32)


def agreement(predicted: IntArray, expected: IntArray) -> dict[str, Any]:
    """Share of rows where the model and the reference labels agree, overall and per axis."""
    tones = 4
    season_p, season_e = predicted // tones, expected // tones
    warm = {0, 2}
    return {
        "samples": len(expected),
        "type": round(float(np.mean(predicted == expected)), 4),
        "season": round(float(np.mean(season_p == season_e)), 4),
        "undertone": round(float(np.mean(np.isin(season_p, list(warm)) == np.isin(season_e, list(warm)))), 4),
        "per_type": {
            type_id: round(float(np.mean(predicted[expected == i] == i)), 4)
            if np.any(expected == i)
            else None
            for i, type_id in enumerate(SEASON_TYPE_IDS)
        },
    }


def expected_calibration_error(
    probabilities: npt.NDArray[np.float32], labels: IntArray, bins: int = 10
) -> float:
    """How far the stated confidence is from how often the top type is right (10 equal-width bins)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(float(correct[members].mean()) - float(confidence[members].mean()))
    return error


def measure(model_bytes: bytes, rules: Rules, data: TrainingData, seed: int) -> dict[str, Any]:
    realistic = sample_population(HELDOUT_SAMPLES, np.random.default_rng(seed + 1))
    broad = sample_population(HELDOUT_SAMPLES, np.random.default_rng(seed + 2), broad_share=1.0)
    metrics: dict[str, Any] = {}
    for name, x in (("realistic_heldout", realistic), ("broad_heldout", broad)):
        probabilities = onnx_probabilities(model_bytes, x)
        predicted = np.asarray(np.argmax(probabilities, axis=1), dtype=np.int64)
        result = agreement(predicted, rules.label_indices(x))
        result["mean_confidence"] = round(float(np.mean(np.max(probabilities, axis=1))), 4)
        noisy = rules.label_indices(x, noise=np.random.default_rng(seed + 3))
        result["calibration_error_vs_noisy_rules"] = round(
            expected_calibration_error(probabilities, noisy), 4
        )
        result["class_balance"] = {
            t: round(float(v), 4)
            for t, v in zip(
                SEASON_TYPE_IDS, np.bincount(rules.label_indices(x), minlength=16) / len(x), strict=True
            )
        }
        result["rules_soft_argmax_agreement"] = round(
            float(np.mean(rules.probabilities(x).argmax(axis=1) == rules.label_indices(x))), 4
        )
        metrics[name] = result
    if data.description["source"] == "csv":
        predicted = np.asarray(np.argmax(onnx_probabilities(model_bytes, data.x), axis=1), dtype=np.int64)
        metrics["training_rows_fit"] = agreement(predicted, data.y)
    return metrics


def figures_record(f: Figures) -> dict[str, Any]:
    """A Figures as card JSON (shares to six decimals, so the card rounds them as the benchmark does)."""

    def r(value: float) -> float:
        return round(float(value), 6)

    return {
        "photos": f.photos,
        "season_all": r(f.season_all),
        "season_diagnosed": r(f.season_diagnosed),
        "warm_cool_all": r(f.warm_cool_all),
        "warm_cool_diagnosed": r(f.warm_cool_diagnosed),
        "refused": r(f.refused),
        "refused_by_code": {code: r(share) for code, share in f.refused_by_code.items()},
        "casts": {name: {"kept": r(c.kept), "refused": r(c.refused)} for name, c in f.casts.items()},
    }


def learned_season(
    labelled: LabelledData, rules_mlp: Any, progress: Callable[[str], None] | None = None
) -> tuple[Any | None, dict[str, Any]]:
    """Select the season method on the labelled photos; when a learned head wins, fit it on all of
    them and compose it with the rules MLP. Returns (composed ONNX model or None, card section)."""
    from models import season_head

    season_head.check_class_order()
    selection = season_head.select(labelled, progress=progress)
    chosen = selection.chosen.candidate
    section: dict[str, Any] = {
        "data": season_head.training_counts(labelled),
        "selection": {
            "rule": (
                "highest person-grouped season accuracy over all photos (refusals wrong) among the "
                f"candidates keeping the season for >= {season_head.KEPT_TARGET:.0%} of diagnosed photos "
                f"under {', '.join(season_head.STABILITY_CASTS)}; if none does, the smallest total "
                "shortfall (fixed before any figure was seen)"
            ),
            "candidates": [
                {"name": e.candidate.name, "keeps_constraint": e.keeps(), **figures_record(e.figures)}
                for e in selection.evaluated
            ],
            "chosen": chosen.name,
            "constraint_met": selection.constraint_met,
        },
        "method": chosen.name,
        "person_grouped_cv": figures_record(selection.chosen.figures),
        "cross_source": {
            name: figures_record(f) for name, f in season_head.cross_source(labelled, chosen.fitter).items()
        },
        "folds": {"folds": FOLDS, "seed": CV_SEED, "grouping": "StratifiedGroupKFold by person"},
    }
    if chosen.make_model is None:
        section["decision"] = "rules"
        return None, section
    head = season_head.fit_head(labelled, chosen.make_model)
    section["decision"] = "learned"
    section["estimator"] = " + ".join(type(step).__name__ for _, step in head.steps)
    section["hyperparameters"] = {
        k: v for k, v in head.steps[-1][1].get_params().items() if k in ("C", "max_iter", "solver")
    }
    head_onnx = season_head.export_head(head, INPUT_NAME, TARGET_OPSET)
    return season_head.compose(head_onnx, rules_mlp, INPUT_NAME), section


def composed_agreement(model_bytes: bytes, rules: Rules, seed: int) -> dict[str, float]:
    """On the realistic held-out population: how often the composed model's season is the rules'
    one, and its tone the rules' tone where the seasons agree (the MLP's part)."""
    import onnxruntime as ort

    x = sample_population(HELDOUT_SAMPLES, np.random.default_rng(seed + 1))
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    label = np.asarray(session.run(["label"], {INPUT_NAME: x.astype(np.float32)})[0], dtype=np.int64)
    expected = rules.label_indices(x)
    same_season = label // 4 == expected // 4
    return {
        "samples": len(x),
        "season_vs_rules": round(float(same_season.mean()), 4),
        "tone_vs_rules_where_season_agrees": round(
            float(np.mean(label[same_season] == expected[same_season])), 4
        ),
    }


def build(
    out_dir: Path,
    csv_path: Path | None,
    mix_synthetic: int,
    samples: int,
    seed: int,
    rules_path: Path | None = None,
    labelled: LabelledData | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train, export and measure the model. `rules_path` defaults to `active_rules_path()`: the
    calibrated rules when `python -m models.calibrate` has made them, else the documented ones.
    With `labelled` (the measured labelled sets) the season method is selected on them
    (`models.season_head.select`) and, when a learned head wins, fitted on all of them and
    composed with the rules MLP; without, the rules MLP alone is the model (rules-only)."""
    rules_path = rules_path or active_rules_path()
    rules = Rules.load(rules_path)
    if csv_path is None:
        data = synthetic_training_data(rules, samples, seed)
    else:
        data = read_labelled_csv(csv_path)
        if mix_synthetic:
            extra = synthetic_training_data(rules, mix_synthetic, seed)
            data = TrainingData(
                x=np.concatenate([data.x, extra.x]),
                y=np.concatenate([data.y, extra.y]),
                description={**data.description, "mixed_synthetic": extra.description},
            )
    model = train(data, seed)
    temperature = 1.0 if csv_path is not None else calibrate_confidence(model, rules, seed)
    metadata = {
        "model_version": MODEL_VERSION,
        "feature_version": str(FEATURE_VERSION),
        "feature_names": json.dumps(list(FEATURE_NAMES)),
        "classes": json.dumps(list(SEASON_TYPE_IDS)),
        "rules_sha256": rules.sha256,
        "training_source": str(data.description["source"]),
    }
    rules_mlp = mlp_to_onnx(model)
    rules_bytes: bytes = rules_mlp.SerializeToString()
    composed, head_card = (None, None)
    if labelled is not None and csv_path is None:
        composed, head_card = learned_season(labelled, rules_mlp, progress)
    metadata["model_version"] = MODEL_VERSION if composed is not None else RULES_ONLY_VERSION
    if composed is not None:
        metadata["season_decision"] = "learned"
    model_bytes = with_metadata(composed if composed is not None else rules_mlp, metadata)
    if head_card is not None and composed is not None:
        head_card["synthetic_agreement"] = composed_agreement(model_bytes, rules, seed)
    card: dict[str, Any] = {
        "model_version": metadata["model_version"],
        "file": MODEL_FILE,
        "sha256": hashlib.sha256(model_bytes).hexdigest(),
        "size_bytes": len(model_bytes),
        "input": {
            "name": INPUT_NAME,
            "dtype": "float32",
            "shape": [None, len(FEATURE_NAMES)],
            "feature_version": FEATURE_VERSION,
            "feature_names": list(FEATURE_NAMES),
        },
        "outputs": {
            "label": "int64 [N]: index of the most probable class",
            "probabilities": "float32 [N, 16]: one probability per class, in `classes` order, summing to 1",
        },
        "metadata_props": metadata,
        "classes": [
            {
                "id": t.id,
                "season": t.season.value,
                "tone": t.tone.value,
                "name_ko": t.name_ko,
                "name_en": t.name_en,
            }
            for t in SEASON_TYPES
        ],
        "training": {
            **data.description,
            "command": "python -m models.build"
            + (
                f" --from-csv {csv_path.name}"
                if csv_path is not None
                else ("" if labelled is not None else " --rules-only")
            ),
            "rules_file": rules_path.resolve().relative_to(REPO_ROOT).as_posix(),
            "rules_sha256": rules.sha256,
            "estimator": "StandardScaler + MLPClassifier (ReLU, Adam), exported with skl2onnx",
            "hidden_layers": list(HIDDEN_LAYERS),
            "hyperparameters": MLP_PARAMS,
            "confidence_temperature": round(temperature, 4),
            "axis_noise_sd": rules.axis_noise_sd,
            "random_state": seed,
            "target_opset": TARGET_OPSET,
        },
        # The rules MLP's agreement with the rules: the whole model when rules-only, the tone
        # inside the season when composed with a learned head (then see `season_head`).
        "metrics": measure(rules_bytes, rules, data, seed),
        "calibration": calibration_summary(rules_path),
        "season_head": head_card,
        "software": {
            name: version(name) for name in ("scikit-learn", "skl2onnx", "onnx", "onnxruntime", "numpy")
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MODEL_FILE).write_bytes(model_bytes)
    (out_dir / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / MARKDOWN_FILE).write_text(render_model_card(card, rules), encoding="utf-8")
    return card


def load_labelled(cache: Path = DEFAULT_CACHE) -> LabelledData:
    """Both labelled sets with their cached measurements, or SystemExit saying what is missing."""
    from models.labelled import LABELLED_SETS, load_labelled_sets
    from models.measurements import MeasurementsMissingError, cached_only

    try:
        photos = load_labelled_sets(LABELLED_SETS)
        return LabelledData(photos, cached_only(photos, cache))
    except (FileNotFoundError, MeasurementsMissingError) as exc:
        raise SystemExit(
            f"models.build: {exc}.\nThe shipped model's season head is fitted on the labelled sets "
            f"({', '.join(str(root) for root in LABELLED_SETS)}); `python -m models.build --rules-only` "
            "builds the rules MLP alone without them."
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent)
    parser.add_argument(
        "--from-csv", type=Path, help="train on expert-labelled feature rows (see MODEL_CARD.md)"
    )
    parser.add_argument(
        "--mix-synthetic", type=int, default=0, help="with --from-csv: add N rules-labelled rows"
    )
    parser.add_argument("--samples", type=int, default=TRAIN_SAMPLES, help="synthetic training rows")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        help="rules file (default: models/rules_calibrated.yaml when it exists, else models/rules.yaml)",
    )
    parser.add_argument(
        "--rules-only",
        action="store_true",
        help="build the rules MLP alone (no labelled photos needed; the season is then the rules')",
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="labelled-measurement cache")
    args = parser.parse_args(argv)
    labelled = None if args.rules_only or args.from_csv else load_labelled(args.cache)
    card = build(
        args.out_dir,
        args.from_csv,
        args.mix_synthetic,
        args.samples,
        args.seed,
        args.rules,
        labelled,
        progress=lambda name: print(f"  cross-validated {name}", file=sys.stderr),
    )
    heldout = card["metrics"]["realistic_heldout"]
    print(f"wrote {args.out_dir / MODEL_FILE} (sha256 {card['sha256'][:16]}..., {card['size_bytes']} bytes)")
    print(
        f"agreement with the rules on {heldout['samples']} held-out samples: type {heldout['type']:.2%}, "
        f"season {heldout['season']:.2%}, undertone {heldout['undertone']:.2%}"
    )
    head = card["season_head"]
    if head is not None:
        cv = head["person_grouped_cv"]
        print(
            f"season decided by: {head['method']} (selected on person-grouped figures"
            + ("" if head["selection"]["constraint_met"] else "; no candidate met the stability constraint")
            + "); "
            + f"CV season {cv['season_all']:.1%}, warm/cool {cv['warm_cool_all']:.1%} (all photos)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
