// /history: past diagnoses newest first (thumbnail colour, type, date); open or delete one; delete
// the whole account (DELETE /me). Both deletions ask first.

import { deleteAccount, deleteEntry, history, logout } from "../api.js";
import { confirmDialog, h } from "../dom.js";
import { formatDate, lang, t } from "../i18n.js";
import { errorText } from "./login.js";

function item(entry, onDelete) {
  const name = entry.type_name[lang()];
  const date = formatDate(entry.analyzed_at);
  const dot = h("span", { class: "dot", "aria-hidden": "true" });
  dot.style.backgroundColor = entry.thumbnail_color;
  const remove = h("button", { class: "button danger small", type: "button", "aria-label": t("delete_label", { name, date }) }, t("delete"));
  const row = h("li", { class: "history-item", dataset: { id: entry.id, type: entry.season_type } },
    dot,
    h("div", { class: "what" },
      h("a", { href: `/result/${entry.id}`, "data-link": true }, name),
      h("time", { datetime: entry.analyzed_at }, date)),
    remove);
  remove.addEventListener("click", () => onDelete(entry, row));
  return row;
}

export function render(main, { navigate }) {
  const list = h("ul", { class: "history-list", "aria-label": t("history_title") });
  const empty = h("p", { class: "muted", hidden: true }, t("history_empty"));
  const alert = h("p", { class: "alert", role: "alert" });
  const more = h("button", { class: "button secondary", type: "button", hidden: true }, t("load_more"));
  const wipe = h("button", { class: "button danger", type: "button", id: "delete-account" }, t("delete_account"));
  const signOut = h("button", { class: "button secondary", type: "button" }, t("sign_out"));
  main.append(h("h1", {}, t("history_title")), alert, list, empty, h("div", { class: "actions" }, more),
    h("div", { class: "actions" }, signOut, wipe));

  let cursor = null;
  let active = true;

  async function onDelete(entry, row) {
    const ok = await confirmDialog({
      title: t("delete_confirm_title"), text: t("delete_confirm_text"), confirm: t("delete"), cancel: t("cancel"),
    });
    if (!ok) return;
    try {
      await deleteEntry(entry.id);
      row.remove();
      empty.hidden = list.children.length > 0;
    } catch (error) {
      alert.textContent = errorText(error);
    }
  }

  async function load() {
    try {
      const page = await history(cursor);
      if (!active) return;
      list.append(...page.items.map((entry) => item(entry, onDelete)));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      empty.hidden = list.children.length > 0;
    } catch (error) {
      if (active) alert.textContent = errorText(error);
    }
  }

  more.addEventListener("click", load);
  signOut.addEventListener("click", async () => {
    await logout().catch(() => {});
    navigate("/login", { replace: true });
  });
  wipe.addEventListener("click", async () => {
    const ok = await confirmDialog({
      title: t("delete_account_title"), text: t("delete_account_text"), confirm: t("delete_account_confirm"), cancel: t("cancel"),
    });
    if (!ok) return;
    try {
      await deleteAccount();
      navigate("/login", { replace: true });
    } catch (error) {
      alert.textContent = errorText(error);
    }
  });
  load();
  return () => { active = false; };
}
