// /result/{id}: the diagnosis with every colour as a labelled swatch and its hex code, the advice,
// the measured colours, the explanation, and the palette card to save.

import { result as fetchResult } from "../api.js";
import { drawCard, download } from "../card.js";
import { h, swatch } from "../dom.js";
import { formatDate, formatPercent, lang, t } from "../i18n.js";
import { errorText } from "./login.js";

function section(key, title, ...content) {
  return h("section", { class: "card", dataset: { section: key }, "aria-labelledby": `section-${key}` },
    h("h2", { id: `section-${key}` }, title), ...content);
}

const swatches = (colors, label) => h("ul", { class: "swatches" }, colors.map((hex) => swatch(hex, label?.(hex))));

function makeupPart(part, advice) {
  return h("div", { dataset: { part } },
    h("h3", {}, t(part)),
    swatches(advice.colors),
    advice.advice ? h("p", {}, advice.advice) : null);
}

function show(main, result) {
  const l = lang();
  const other = l === "ko" ? "en" : "ko";
  const runner = result.runner_up;
  const measured = ["skin", "eyes", "lips", "hair"]
    .filter((part) => result.measured[part])
    .map((part) => swatch(result.measured[part].hex, t(part === "hair" ? "hair_measured" : part)));
  const explanation = ["undertone", "value", "chroma", "hair"]
    .filter((axis) => result.explanation?.[axis]?.text)
    .map((axis) => h("p", { dataset: { axis } }, h("strong", {}, t(axis === "hair" ? "hair_measured" : axis) + ": "), result.explanation[axis].text));
  const status = h("p", { role: "status", class: "muted" });
  const save = h("button", { class: "button", type: "button", id: "save-card" }, t("save_card"));
  save.addEventListener("click", async () => {
    save.disabled = true;
    const blob = await drawCard(result, {
      lang: l,
      labels: {
        best: t("best_colors"), worst: t("worst_colors"), makeup: t("makeup"), hair: t("hair"),
        footer: t("card_footer", { date: formatDate(result.analyzed_at) }),
      },
    });
    download(blob, `personal-color-${result.season_type}.png`);
    status.textContent = t("card_saved");
    save.disabled = false;
  });

  main.append(
    h("p", { class: "muted" }, t("result_title")),
    h("h1", { class: "type-name", lang: l }, result.type_name[l]),
    h("p", { class: "type-other", lang: other }, result.type_name[other]),
    h("div", { class: "confidence" },
      h("span", { id: "confidence" }, t("confidence", { value: formatPercent(result.confidence) })),
      runner ? h("span", { id: "runner-up" }, t("runner_up", { name: runner.type_name[l], value: formatPercent(runner.confidence) })) : null),
    h("div", { class: "actions" }, save, h("a", { class: "button secondary", href: "/history", "data-link": true }, t("nav_history"))),
    status,
    section("best", t("best_colors"), swatches(result.main_colors)),
    section("worst", t("worst_colors"), swatches(result.worst_colors)),
    section("makeup", t("makeup"), ["lip", "blush", "eyeshadow"].filter((p) => result.makeup[p]).map((p) => makeupPart(p, result.makeup[p]))),
    section("hair", t("hair"),
      h("ul", { class: "swatches" }, (result.hair.colors ?? []).map((c) => swatch(c.hex, c.name))),
      result.hair.advice ? h("p", {}, result.hair.advice) : null),
    section("measured", t("measured"), h("ul", { class: "swatches" }, measured)),
    section("explanation", t("explanation"), explanation),
    h("div", { class: "actions" }, h("a", { class: "button secondary", href: "/capture", "data-link": true }, t("back_to_capture"))));
}

export function render(main, { params: [id] }) {
  const loading = h("p", { class: "muted" }, t("loading"));
  main.append(h("h1", { class: "visually-hidden" }, t("result_title")), loading);
  let active = true;
  fetchResult(id).then((result) => {
    if (!active) return;
    main.replaceChildren();
    show(main, result);
    main.querySelector("h1").tabIndex = -1;
  }).catch((error) => {
    if (active) loading.replaceWith(h("p", { class: "alert", role: "alert" }, errorText(error)));
  });
  return () => { active = false; };
}
