// /analyzing/{task_id}: polls the task every 0.5 s, shows the stage in words over a scanning
// animation, then goes to the result, or explains a refusal with the code's own advice.

import { ApiError, pollTask } from "../api.js";
import { h } from "../dom.js";
import { has, t } from "../i18n.js";
import { errorText } from "./login.js";

const STAGES = ["queued", "normalizing", "landmarks", "classifying", "saving"];

/** What to say for a failed analysis: the code's advice and, for bad light, each problem found. */
export function failure(error) {
  const code = error?.code ?? "INTERNAL_ERROR";
  const details = error?.details ?? {};
  const problems = Array.isArray(details.problems) ? details.problems.filter((p) => has(`problem_${p}`)) : [];
  if (code === "POOR_LIGHTING_CONDITION" && problems.length === 0 && details.client_score !== undefined) {
    problems.push("client_score");
  }
  return h("section", { class: "card", dataset: { errorCode: code } },
    h("p", { class: "alert", role: "alert" }, has(`error_${code}`) ? t(`error_${code}`) : t("error_other")),
    problems.length
      ? [h("h2", {}, t("problems_title")),
        h("ul", { class: "problems" }, problems.map((p) => h("li", { dataset: { problem: p } }, t(`problem_${p}`))))]
      : null,
    h("div", { class: "actions" }, h("a", { class: "button", href: "/capture", "data-link": true, id: "retake" }, t("retake"))));
}

export function render(main, { params: [taskId], navigate }) {
  const stage = h("p", { class: "stage", role: "status", "aria-live": "polite" }, t("stage_queued"));
  const steps = h("ol", { class: "steps" }, STAGES.map((name) => h("li", { dataset: { stage: name } }, t(`stage_${name}`))));
  const scanner = h("div", { class: "scanner", "aria-hidden": "true" });
  const body = h("div", {}, scanner, stage, steps);
  const heading = h("h1", {}, t("analyzing_title"));
  main.append(heading, body);

  function showStage(name) {
    const index = STAGES.indexOf(name);
    stage.textContent = t(`stage_${name}`);
    steps.querySelectorAll("li").forEach((item, i) => {
      item.dataset.state = i < index ? "done" : i === index ? "current" : "";
    });
  }

  const abort = new AbortController();
  pollTask(taskId, {
    signal: abort.signal,
    onUpdate(status, { retrying }) {
      if (retrying) stage.textContent = t("reconnecting");
      else if (status.status === "queued") showStage("queued");
      else if (status.status === "processing") showStage(STAGES.includes(status.stage) ? status.stage : "normalizing");
    },
  }).then((status) => {
    if (status.status === "completed") {
      navigate(`/result/${status.result_id}`, { replace: true });
      return;
    }
    heading.textContent = t("failed_title");
    body.replaceWith(failure(status.error));
  }).catch((error) => {
    if (abort.signal.aborted) return;
    heading.textContent = t("failed_title");
    const section = failure(error instanceof ApiError ? { code: error.code, details: error.details } : null);
    if (error instanceof ApiError && !has(`error_${error.code}`)) section.querySelector(".alert").textContent = errorText(error);
    body.replaceWith(section);
  });
  return () => abort.abort();
}
