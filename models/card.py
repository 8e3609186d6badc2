"""Render the human-readable model card (MODEL_CARD.md) from the JSON card and the rules.

Generated on every build so that the figures and thresholds in the prose can never drift from the
model they describe.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.figures import pct
from models.rules import AXES, Rules
from pipeline.seasons import SEASON_TYPES, Season, Tone

_TONE_DEFINITIONS = {
    Tone.LIGHT: "lighter half of the season (value >= the season's value split), soft chroma (< split)",
    Tone.BRIGHT: "lighter half of the season, clear chroma (chroma >= split)",
    Tone.MUTE: "deeper half of the season (value < the season's value split), soft chroma",
    Tone.DEEP: "deeper half of the season, clear chroma",
}
_SEASON_DEFINITIONS = {
    Season.SPRING: "warm (undertone >= threshold) and light (value >= season split)",
    Season.SUMMER: "cool and light",
    Season.AUTUMN: "warm and deep (value < season split)",
    Season.WINTER: "cool and deep",
}

# How the 16 types are decided, for a model whose season is the learned head's / the rules'.
_DECIDED_LEARNED = (
    "The season comes from the learned head: P(season) of a logistic regression on the 21",
    "measured features, fitted on the labelled photos (above). The tone inside the season (light,",
    "bright, mute, deep) comes from the rules MLP: a softmax over that season's four logits gives",
    "P(tone | season), so `probabilities[s, k] = P_head(s) * P_mlp(s, k) / sum_k' P_mlp(s, k')`,",
    "four per season summing to P_head(s), 1 in all. `label` (the diagnosis) is the head's most",
    "probable season and, in it, the MLP's most probable tone; the most probable of the 16 can lie",
    "in another season when a season's probability is spread over its tones. The rules' tone",
    "follows the value and chroma scores against each season's splits (the medians of that",
    "season's share of the synthetic population): no labelled photo decides a tone. Where the",
    "head's season is not the rules' own, the MLP's split is an extrapolation of the rules'. The",
    "armocromia sub-types map onto our tones where they have a",
)
_DECIDED_RULES = (
    "The season comes from the two calibrated axes (undertone, value), fitted to labelled photos.",
    "The tone inside the season (light, bright, mute, deep) comes from the value and chroma scores",
    "against each season's splits, which are the medians of that season's share of the synthetic",
    "population: no labelled photo decides a tone. The armocromia sub-types map onto our tones",
    "where they have a",
)
_MADE_LEARNED = (
    "6. The season head (`models/season_head.py`) is selected by person-grouped cross-validation",
    "   on the labelled photos' cached measurements, fitted on all of them, exported with skl2onnx",
    "   and composed with the MLP's logits in one graph (Reshape, Softmax per season, Mul, ArgMax,",
    "   GatherElements).",
)


def _percent(value: float) -> str:
    return f"{value * 100:.2f}%"


def main() -> int:
    """Re-render MODEL_CARD.md from the committed JSON card (after editing this template only)."""
    folder = Path(__file__).parent
    card = json.loads((folder / "personal_color.json").read_text(encoding="utf-8"))
    (folder / "MODEL_CARD.md").write_text(render_model_card(card, Rules.load()), encoding="utf-8")
    return 0


def _cv_cells(f: dict[str, Any]) -> list[str]:
    refused = ", ".join(f"{code} {pct(share)}" for code, share in f["refused_by_code"].items()) or "none"
    return [
        f"{pct(f['season_all'])} / {pct(f['season_diagnosed'])}",
        f"{pct(f['warm_cool_all'])} / {pct(f['warm_cool_diagnosed'])}",
        f"{pct(f['refused'])} ({refused})",
        *(
            f"{pct(c['kept'])} / {pct(c['refused'])}" if (c := f["casts"].get(name)) else "-"
            for name in ("4000K", "8000K", "+1EV", "-1EV")
        ),
    ]


_CV_HEADER = (
    "| {first} | season: all / diagnosed | warm/cool: all / diagnosed | refused at neutral | "
    "4000K: kept / refused | 8000K: kept / refused | +1EV: kept / refused | -1EV: kept / refused |"
)


def season_head_lines(head: dict[str, Any] | None) -> list[str]:
    """The labelled data, selection, person-grouped and cross-source figures of the season method."""
    if head is None:
        return [
            "## Season: rules only",
            "",
            "Built with `--rules-only` (or from a CSV): no labelled photo was read, so the season is the",
            "rules MLP's. `python -m models.build` selects and fits the season head on the labelled sets.",
            "",
        ]
    data = head["data"]
    sets = "; ".join(
        f"{name}: {d['photos']} photos of {d['persons']} persons, "
        f"{d['diagnosed_at_neutral']} diagnosed at neutral light"
        for name, d in data["sets"].items()
    )
    cv = head["person_grouped_cv"]
    folds = head["folds"]
    lines = [
        "## Season: chosen on labelled photos, person-grouped",
        "",
        f"- Data: {sets}. Training rows: {data['training_rows']} (every diagnosed photo under "
        f"{', '.join(data['training_lightings'])}; the casts are the augmentation ones, never the "
        "evaluated ones).",
        *(
            [
                "- Missing hair: no training row lacks a hair sample, so the head gives `hair_present`",
                "  no weight and, for a face without hair, reads the iris colour that the feature vector",
                "  carries in the hair columns (`ColorFeatures.to_vector`); the features are never NaN at",
                "  run time (the head's median imputer only mirrors the benchmark's pipeline).",
            ]
            if data.get("rows_without_hair") == 0
            else []
        ),
        f"- Selection rule: {head['selection']['rule']}.",
        f"- Chosen: **{head['method']}**"
        + (
            ""
            if head["selection"]["constraint_met"]
            else " (no candidate met the stability constraint: the closest)"
        )
        + (
            f"; {head['estimator']} {head['hyperparameters']}, fitted on all the rows above."
            if head["decision"] == "learned"
            else "; the rules MLP decides the season."
        ),
        f"- Person-grouped cross-validation: {folds['folds']}-fold {folds['grouping']}, "
        f"seed {folds['seed']}, the service's own gates; 'all' counts a refusal as wrong; a cast's",
        "  kept is over the photos diagnosed under both lights, its refused over those diagnosed under",
        "  neutral light.",
        "",
        "Selection (every candidate on the same folds and rows):",
        "",
        _CV_HEADER.format(first="method"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in head["selection"]["candidates"]:
        mark = " (chosen)" if c["name"] == head["method"] else ""
        lines.append(f"| {c['name']}{mark} | " + " | ".join(_cv_cells(c)) + " |")
    lines += [
        "",
        f"Chosen method, person-grouped: season {pct(cv['season_all'])} over all photos "
        f"({pct(cv['season_diagnosed'])} of diagnosed), warm/cool {pct(cv['warm_cool_all'])} "
        f"({pct(cv['warm_cool_diagnosed'])}), {pct(cv['refused'])} refused at neutral light.",
        "",
        "Cross-source (the chosen method fitted on one set, tested on the other):",
        "",
        _CV_HEADER.format(first="trained -> tested"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, f in head["cross_source"].items():
        lines.append(f"| {name} | " + " | ".join(_cv_cells(f)) + " |")
    agreement = head.get("synthetic_agreement")
    if agreement:
        lines += [
            "",
            f"On {agreement['samples']} realistic synthetic samples the composed model's season is "
            f"the rules' for {pct(agreement['season_vs_rules'])} (the head was fitted to photos, "
            "not to the rules), and where the seasons agree its tone is the rules' for "
            f"{pct(agreement['tone_vs_rules_where_season_agrees'])}.",
        ]
    return [*lines, ""]


def render_model_card(card: dict[str, Any], rules: Rules) -> str:
    metrics = card["metrics"]
    head = card.get("season_head")
    learned = head is not None and head.get("decision") == "learned"
    realistic, broad = metrics["realistic_heldout"], metrics["broad_heldout"]
    lines = [
        "# Personal-color classifier: model card",
        "",
        "Generated by `python -m models.build` together with `personal_color.onnx` and",
        "`personal_color.json`; do not edit by hand.",
        "",
        f"- Model version: **{card['model_version']}**; file `{card['file']}`, sha256 `{card['sha256']}`",
        f"- Input: `{card['input']['name']}`, float32 `[N, {len(card['input']['feature_names'])}]`, "
        f"feature version **{card['input']['feature_version']}** (`pipeline/features.py`)",
        "- Outputs: `label` (int64 `[N]`) and `probabilities` (float32 `[N, 16]`, class order, sum 1)",
        f"- Trained on: {card['training']['source']} data, {card['training']['samples']} rows "
        f"(`{card['training']['command']}`)",
        "- Season: "
        + (
            f"**learned head** ({head['method']}) fitted on the labelled photos, composed with the rules MLP"
            if learned and head is not None
            else "the rules MLP's (rules-only)"
        ),
        f"- Rules calibration: {card['calibration']}",
        "",
        *season_head_lines(head),
        "## Measured figures of the rules MLP",
        "",
        "Agreement of the rules MLP (run with onnxruntime) with the documented rules on samples it never"
        + (" saw; in the composed model it decides the tone inside the season:" if learned else " saw:"),
        "",
        "| held-out set | samples | type | season | undertone | mean confidence | calibration error |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in (("realistic population", realistic), ("broad (uniform) population", broad)):
        lines.append(
            f"| {name} | {m['samples']} | {_percent(m['type'])} | {_percent(m['season'])} | "
            f"{_percent(m['undertone'])} | {m['mean_confidence']:.3f} | "
            f"{m['calibration_error_vs_noisy_rules']:.3f} |"
        )
    lines += [
        "",
        "Agreement with the rules is what this model can promise: the rules are the hypothesis. Accuracy on",
        "labelled photos is measured separately (`python -m bench.accuracy`, issue 16: person-grouped,",
        "with the service's own gates, cross-source and on CelebA-HQ alone; docs/accuracy.md). The",
        "calibration error",
        "(expected calibration error, 10 bins) compares the stated confidence with how often the top type",
        "matches the rules when the axis scores carry their measurement noise "
        f"(sd {card['training'].get('axis_noise_sd', 0)}).",
        "",
        "## The 16 types",
        "",
        "Temperature is the trunk: undertone x value gives the season, value and chroma inside the season",
        "give one of four PCCS tone families. Ids are stable (stored in histories)."
        + (
            " The season column is how the rules define it; the shipped model's season is the learned head's."
            if learned
            else ""
        ),
        "",
        "| id | 한국어 | English | season | tone | share (realistic) |",
        "|---|---|---|---|---|---|",
    ]
    for t in SEASON_TYPES:
        lines.append(
            f"| `{t.id}` | {t.name_ko} | {t.name_en} | {_SEASON_DEFINITIONS[t.season]} | "
            f"{_TONE_DEFINITIONS[t.tone]} | {_percent(realistic['class_balance'][t.id])} |"
        )
    lines += [
        "",
        "### How the 16 types are decided, and the 12 armocromia classes",
        "",
        *(_DECIDED_LEARNED if learned else _DECIDED_RULES),
        "counterpart (light -> light, bright -> bright, soft -> mute, deep -> deep); its warm and cool",
        "sub-types are the seasons' centres and have none (`models/subtypes.py`). With the rules calibrated",
        "person-grouped on both labelled sets (out-of-fold), on the 1342 armocromia photos with a",
        "counterpart season and tone are both right for 14.7%,",
        "and the tone is right for 37% of those whose season is right (chance 25%): deep and light are",
        "partly found, soft (mute) almost never (docs/accuracy.md). The tone is a documented hypothesis,",
        "not a learned decision.",
        "",
        "## The rules (from `models/rules.yaml`)",
        "",
        "Each axis is a weighted sum of standardised features, `weight * (feature - ref) / scale`; terms",
        "marked hair are dropped when no hair was sampled and the other weights rescaled to the same total.",
        "",
        "| axis | feature | weight | ref | scale | needs hair |",
        "|---|---|---|---|---|---|",
    ]
    for axis in AXES:
        for term in rules.terms[axis]:
            lines.append(
                f"| {axis} | `{term.feature}` | {term.weight:+.2f} | {term.ref:g} | {term.scale:g} | "
                f"{'yes' if term.needs_hair else ''} |"
            )
    lines += [
        "",
        f"- Undertone: warm when the undertone score >= {rules.undertone_threshold:g}.",
        f"- Season: light seasons (spring, summer) when the value score >= {rules.season_value_split:g}.",
    ]
    for season, split in rules.seasons.items():
        lines.append(
            f"- {season.value}: lighter tones when value >= {split.value_split:g}; clear tones when "
            f"chroma >= {split.chroma_split:g}."
        )
    lines += [
        "",
        "Why these measurements:",
        "",
        "- **Undertone** leans on the skin hue angle h_ab (yellow relative to red, measured after white",
        "  balance) with iris and hair yellowness beside it. Skin b* alone is not a safe undertone signal:",
        "  a colorimetric study of Korean women found the cool winter group with the highest skin a* and",
        "  b*, so b* carries only a small weight.",
        "- **Value** uses the Individual Typology Angle, ITA = atan((L* - 50) / b*) (Chardon, Cretois and",
        "  Hourseau 1991, Int J Cosmet Sci 13:191-208: > 55 very light, 41-55 light, 28-41 intermediate,",
        "  10-28 tan, -30-10 brown, < -30 dark), with hair and iris lightness and, negatively, the skin-hair",
        "  lightness contrast (strong contrast reads deeper).",
        "- **Chroma** (clear vs soft) uses skin and iris chroma C*ab and the skin-hair and skin-eye",
        "  lightness contrasts (clear types carry high contrast).",
        "- Reference values and scales are the median and robust spread of what the pipeline measures on",
        "  portrait photos after its lighting correction (the labelled set under neutral light, labels",
        "  unused): photo skin is much lighter and less chromatic (L* ~82, C* ~9) than spectrophotometer",
        "  data, and its hue angle widely spread. The synthetic population mixes that measured group with",
        "  literature groups: Xiao et al. 2017 (Skin Res Technol 23:21-29, skin CIELAB of four ethnic",
        "  groups) and de Rigal et al. 2010 (Skin Res Technol 16:168-178, ITA by ethnic group).",
        "",
        "## How it was made",
        "",
        "1. `models/synthetic.py` samples a realistic mixture of skin, iris and hair CIELAB colours, plus a",
        f"   uniform share ({card['training'].get('broad_share', 0)}) over the plausible range (the edges),",
        "   and computes the derived features exactly as `ColorFeatures.to_vector` does.",
        "2. `models/rules.py` labels every row with the rules above.",
        f"3. A standardiser and an MLP (hidden layers {card['training']['hidden_layers']}, seed "
        f"{card['training']['random_state']}, one BLAS thread)",
        "   are trained with scikit-learn and exported with skl2onnx (no ZipMap, so `probabilities` is a",
        "   plain tensor).",
        "4. Confidence calibration: a model trained on hard labels is almost certain everywhere, even",
        "   right beside a boundary. The rules also give each type's probability when every axis score",
        "   carries Gaussian measurement noise (`axis_noise_sd`, "
        f"{card['training'].get('axis_noise_sd', 0)}); the last layer is divided by the softmax",
        "   temperature that best matches those probabilities on a separate sample (temperature "
        f"{card['training'].get('confidence_temperature', 1)}).",
        "   Every argmax, hence the agreement, is unchanged; the confidence now falls off across a boundary.",
        "5. The exported file is measured with onnxruntime on held-out samples from other seeds.",
        *(_MADE_LEARNED if learned else ()),
        "",
        "Rebuilding with the same versions gives the same predictions (tested in",
        "`tests/models/test_build.py`); the ONNX bytes may differ between library versions.",
        "",
        "## ONNX contract (to drop in a better model)",
        "",
        "A replacement model must take one float32 input of shape `[N, len(FEATURE_NAMES)]` and return",
        "int64 `label` `[N]` (the decided class, an index into its `classes`) and, as its second output,",
        "float32 probabilities `[N, 16]` summing to 1. Its `metadata_props` must hold",
        "`model_version`, `feature_version` (equal to `pipeline.features.FEATURE_VERSION`),",
        "`feature_names` (JSON list, equal to `FEATURE_NAMES`) and `classes` (JSON list of the 16 ids, any",
        "order). `pipeline.classify` checks all of this when the service starts and refuses a mismatched",
        "model with `MODEL_MISMATCH`.",
        "",
        "## Training on expert labels: `--from-csv labelled.csv`",
        "",
        "UTF-8 CSV with a header row: one column per feature name of the current feature version, in any",
        "order, plus `season_type` (one of the 16 ids). Extra columns are ignored. Every type must have rows",
        "(or add `--mix-synthetic N` to complete the set with N rules-labelled synthetic rows). Example:",
        "",
        "```",
        ",".join(card["input"]["feature_names"]) + ",season_type",
        "65.1,11.8,17.9,21.4,56.6,45.2,33.0,5.1,9.2,10.5,18.0,2.0,3.1,3.7,1,47.1,32.1,52.0,30.5,6.2,31.1,summer_cool_light",
        "```",
        "",
        "A photo's row is `ColorFeatures.to_vector()` in `FEATURE_NAMES` order, e.g.",
        "`Analyzer().analyze(photo_bytes).features.to_vector()` (`pipeline/analysis.py`).",
        "",
        "## Software",
        "",
    ]
    lines += [f"- {name} {ver}" for name, ver in card["software"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
