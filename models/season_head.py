"""The learned season head of issue 16: chosen by person-grouped figures, fitted on every labelled
photo, exported to ONNX and composed with the rules MLP in one graph.

How the 16 types are decided by the composed model: the head (a logistic regression on the 21
shipped features) gives P(season); the rules MLP (trained on the synthetic population labelled by
the calibrated rules) gives its 16 logits, and a softmax over the four of each season gives
P(tone | season). The output is

    p16[s, k] = P_head(s) * softmax_k(logits_mlp[s, :])[k]

which is P_head(s) * P_mlp(s, k) / sum_k' P_mlp(s, k') computed without the underflow of dividing
two tiny probabilities (the softmax of a season's own logits is exactly that ratio). The four
values of a season sum to P_head(s), so the season marginal is the head's and the 16 sum to 1.

Selection (fixed before any figure was seen, `select`): the candidates of `HEAD_CANDIDATES` are
cross-validated on the same person-grouped folds (`models.crossval`); among those that keep the
season for at least `KEPT_TARGET` of diagnosed photos under 4000 K, 8000 K and -1 EV the highest
season accuracy over all photos (refusals wrong) wins; if none keeps it, the one with the smallest
total shortfall below `KEPT_TARGET` over the three casts (ties: accuracy) wins, and the card says
so. The share refused under a cast is the lighting gate's and the same for every candidate, so it
does not take part in the choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.calibrate import fit_calibrated_rules
from models.crossval import (
    TRAINING_LIGHTINGS,
    Fitter,
    LabelledData,
    Outcome,
    cross_validate,
    train_and_test,
)
from models.figures import Figures, figures
from models.fitters import columns_of, logistic, logistic_strong_l2, sklearn_fitter
from models.labelled import MODERATE, NEUTRAL, SEASONS
from pipeline.features import FEATURE_NAMES
from pipeline.seasons import SEASON_TYPE_IDS, Season

EVALUATED: tuple[str, ...] = (NEUTRAL.name, *(light.name for light in MODERATE))
STABILITY_CASTS: tuple[str, ...] = ("4000K", "8000K", "-1EV")
KEPT_TARGET = 0.95
# The same name as in bench.accuracy's tables, so the card and the benchmark read alike.
RULES_ONLY = "calibrated rules (issue 9 method)"
TONES_PER_SEASON = 4


@dataclass(frozen=True)
class HeadCandidate:
    """A season method the selection compares. `make_model` builds the scikit-learn model a learned
    head is fitted and exported with (None: the rules alone decide the season)."""

    name: str
    fitter: Fitter
    make_model: Callable[[], Any] | None


HEAD_CANDIDATES: tuple[HeadCandidate, ...] = (
    # (a) the rules-only model's method: the rules' season axes calibrated on the training folds.
    HeadCandidate(RULES_ONLY, fit_calibrated_rules, None),
    # (b) the benchmark's plain logistic regression on the 21 shipped features (C = 1).
    HeadCandidate(
        "logistic regression, 21 features",
        sklearn_fitter(logistic, columns_of(FEATURE_NAMES)),
        logistic,
    ),
    # (c) the same with a ten times stronger L2 penalty (C = 0.1), for stability.
    HeadCandidate(
        "logistic regression, 21 features, C=0.1",
        sklearn_fitter(logistic_strong_l2, columns_of(FEATURE_NAMES)),
        logistic_strong_l2,
    ),
)
# The ONNX graph's season order is the class order's (season-major, four tones each).
SEASON_ORDER: tuple[str, ...] = tuple(season.value for season in Season)


def check_class_order() -> None:
    """The composition reshapes the 16 classes into 4 seasons x 4 tones: verify the layout."""
    expected = [f"{s}_" for s in SEASON_ORDER for _ in range(TONES_PER_SEASON)]
    if SEASON_ORDER != SEASONS or not all(
        type_id.startswith(prefix) for type_id, prefix in zip(SEASON_TYPE_IDS, expected, strict=True)
    ):
        raise SystemExit(f"SEASON_TYPE_IDS is not season-major with 4 tones each: {SEASON_TYPE_IDS}")


@dataclass(frozen=True)
class Evaluated:
    candidate: HeadCandidate
    figures: Figures

    def shortfall(self) -> float:
        """How far the candidate's season kept falls below KEPT_TARGET, summed over the casts."""
        return sum(max(0.0, KEPT_TARGET - self.figures.casts[c].kept) for c in STABILITY_CASTS)

    def keeps(self) -> bool:
        return self.shortfall() == 0.0


@dataclass(frozen=True)
class Selection:
    evaluated: list[Evaluated]
    chosen: Evaluated

    @property
    def constraint_met(self) -> bool:
        return self.chosen.keeps()


def choose(evaluated: Sequence[Evaluated]) -> Evaluated:
    """The pre-registered rule: best season accuracy (all photos) among those keeping the season
    under every STABILITY_CASTS; if none does, the smallest shortfall, then the best accuracy."""
    steady = [e for e in evaluated if e.keeps()]
    if steady:
        return max(steady, key=lambda e: e.figures.season_all)
    return min(evaluated, key=lambda e: (e.shortfall(), -e.figures.season_all))


def select(
    data: LabelledData,
    candidates: Sequence[HeadCandidate] = HEAD_CANDIDATES,
    progress: Callable[[str], None] | None = None,
) -> Selection:
    """Cross-validate every candidate on the same person-grouped folds and apply `choose`."""
    evaluated = []
    for candidate in candidates:
        outcome = cross_validate(data, candidate.fitter, EVALUATED)
        evaluated.append(Evaluated(candidate, figures(data.photos, outcome)))
        if progress is not None:
            progress(candidate.name)
    return Selection(evaluated, choose(evaluated))


def cross_source(data: LabelledData, fitter: Fitter) -> dict[str, Figures]:
    """Fitted on one labelled set, tested on the other (both directions)."""
    sets = {name: data.subset(_members(data, name)) for name in _datasets(data)}
    out = {}
    for train_name, test_name in (
        ("armocromia-train", "seasons-train"),
        ("seasons-train", "armocromia-train"),
    ):
        if train_name in sets and test_name in sets:
            outcome: Outcome = train_and_test(sets[train_name], sets[test_name], fitter, EVALUATED)
            out[f"{train_name} -> {test_name}"] = figures(sets[test_name].photos, outcome)
    return out


def _datasets(data: LabelledData) -> list[str]:
    return sorted({photo.dataset for photo in data.photos})


def _members(data: LabelledData, dataset: str) -> list[int]:
    return [i for i, photo in enumerate(data.photos) if photo.dataset == dataset]


def fit_head(data: LabelledData, make_model: Callable[[], Any]) -> Any:
    """The head fitted on every labelled photo the service would diagnose, under neutral light and
    the augmentation casts (the rows `cross_validate` trains each fold on), the 21 features only.
    Labels are the season strings, as in the cross-validation, so the fit is the one measured."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    rows = data.training_rows(range(len(data.photos)), TRAINING_LIGHTINGS)
    model = make_model()
    with threadpool_limits(limits=1):
        model.fit(rows.x[:, columns_of(FEATURE_NAMES)], np.asarray(rows.seasons, dtype=object).astype(str))
    if sorted(str(c) for c in model.classes_) != sorted(SEASONS):
        raise SystemExit(f"the season head must know the four seasons; got {list(model.classes_)}")
    return model


def training_counts(data: LabelledData) -> dict[str, Any]:
    """What the head was fitted on: photos per set, photos diagnosed under neutral light, rows."""
    rows = data.training_rows(range(len(data.photos)), TRAINING_LIGHTINGS)
    per_set = {}
    for name in _datasets(data):
        members = _members(data, name)
        per_set[name] = {
            "photos": len(members),
            "persons": len({data.photos[i].person for i in members}),
            "diagnosed_at_neutral": sum(data.status(NEUTRAL.name, i) == "ok" for i in members),
        }
    hair_present = rows.x[:, FEATURE_NAMES.index("hair_present")]
    return {
        "sets": per_set,
        "training_lightings": list(TRAINING_LIGHTINGS),
        "training_rows": len(rows.seasons),
        "rows_without_hair": int(np.sum(hair_present < 0.5)),
    }


def export_head(model: Any, input_name: str, target_opset: dict[str, int]) -> Any:
    """The fitted head as an ONNX model whose `probabilities` output is [N, 4] in SEASON_ORDER."""
    import onnx
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    onnx_model = convert_sklearn(
        model,
        name="season_head",
        initial_types=[(input_name, FloatTensorType([None, len(FEATURE_NAMES)]))],
        options={id(model.steps[-1][1]): {"zipmap": False}},
        target_opset=target_opset,
    )
    classes = [str(c) for c in model.classes_]
    order = [classes.index(season) for season in SEASON_ORDER]
    graph = onnx_model.graph
    raw = graph.output[1].name
    graph.initializer.append(onnx.numpy_helper.from_array(np.asarray(order, dtype=np.int64), "season_order"))
    graph.node.append(
        onnx.helper.make_node("Gather", [raw, "season_order"], ["season_probabilities"], axis=1)
    )
    graph.output.append(
        onnx.helper.make_tensor_value_info("season_probabilities", onnx.TensorProto.FLOAT, [None, 4])
    )
    return onnx_model


def _logits_of(model: Any) -> str:
    """The tensor the rules MLP's softmax reads (its pre-softmax logits), found from its output."""
    producers = {out: node for node in model.graph.node for out in node.output}
    node = producers[model.graph.output[1].name]
    while node.op_type == "Identity":
        node = producers[node.input[0]]
    if node.op_type != "Softmax":
        raise SystemExit(f"the rules model's probabilities do not come from a Softmax ({node.op_type})")
    return str(node.input[0])


def compose(head: Any, rules_mlp: Any, input_name: str) -> Any:
    """One ONNX graph: `features` [N, 21] -> `label` int64 [N], `probabilities` float32 [N, 16]
    (p16[s, k] = P_head(s) * P_mlp(tone k | season s); `label` = the head's season, the MLP's
    tone in it); see the module docstring."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    head = onnx.compose.add_prefix(head, "head_")
    rules_mlp = onnx.compose.add_prefix(rules_mlp, "rules_")
    logits = _logits_of(rules_mlp)
    nodes = []
    for prefixed in (head, rules_mlp):
        old = prefixed.graph.input[0].name
        for node in prefixed.graph.node:
            node.input[:] = [input_name if name == old else name for name in node.input]
            nodes.append(node)
    constants = [
        numpy_helper.from_array(np.array([-1, 4, TONES_PER_SEASON], dtype=np.int64), "compose_seasons_tones"),
        numpy_helper.from_array(np.array([-1, 4, 1], dtype=np.int64), "compose_season_column"),
        numpy_helper.from_array(np.array([-1, 4 * TONES_PER_SEASON], dtype=np.int64), "compose_sixteen"),
        numpy_helper.from_array(np.array(TONES_PER_SEASON, dtype=np.int64), "compose_tones"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "compose_flat"),
    ]
    nodes += [
        helper.make_node("Reshape", [logits, "compose_seasons_tones"], ["compose_logits_by_season"]),
        # Softmax over each season's four logits: P_mlp(s, k) / sum_k' P_mlp(s, k').
        helper.make_node("Softmax", ["compose_logits_by_season"], ["compose_tone_given_season"], axis=2),
        helper.make_node(
            "Reshape", ["head_season_probabilities", "compose_season_column"], ["compose_season_prior"]
        ),
        helper.make_node("Mul", ["compose_season_prior", "compose_tone_given_season"], ["compose_joint"]),
        helper.make_node("Reshape", ["compose_joint", "compose_sixteen"], ["probabilities"]),
        # The decision: the head's most probable season, and in it the MLP's most probable tone.
        # (The most probable of the 16 can lie in another season, beside a flat tone split.)
        helper.make_node("ArgMax", ["head_season_probabilities"], ["compose_season"], axis=1, keepdims=1),
        helper.make_node(
            "ArgMax", ["compose_logits_by_season"], ["compose_tone_by_season"], axis=2, keepdims=0
        ),
        helper.make_node(
            "GatherElements", ["compose_tone_by_season", "compose_season"], ["compose_tone"], axis=1
        ),
        helper.make_node("Mul", ["compose_season", "compose_tones"], ["compose_season_first"]),
        helper.make_node("Add", ["compose_season_first", "compose_tone"], ["compose_label"]),
        helper.make_node("Reshape", ["compose_label", "compose_flat"], ["label"]),
    ]
    graph = helper.make_graph(
        nodes,
        "personal_color",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [None, len(FEATURE_NAMES)])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 16]),
        ],
        initializer=[*head.graph.initializer, *rules_mlp.graph.initializer, *constants],
    )
    _prune(graph)
    # skl2onnx declares the lowest opset each part needs; the graph takes the higher of the two per
    # domain (every operator used here means the same in both, and the per-season Softmax needs 13).
    opsets: dict[str, int] = {"": 13}
    for part in (head, rules_mlp):
        for entry in part.opset_import:
            opsets[entry.domain] = max(opsets.get(entry.domain, 0), entry.version)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(domain, v) for domain, v in sorted(opsets.items())],
        producer_name="models.build",
    )
    model.ir_version = max(head.ir_version, rules_mlp.ir_version)
    onnx.checker.check_model(model, full_check=True)
    return model


def _prune(graph: Any) -> None:
    """Drop the nodes and initializers no output needs (the parts' own label branches)."""
    needed = {output.name for output in graph.output}
    kept = []
    for node in reversed(list(graph.node)):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    initializers = [init for init in graph.initializer if init.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
