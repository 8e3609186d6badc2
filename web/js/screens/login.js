// /login: sign in to, or create, a local account. After it, back to where the person was going.

import { ApiError, login, register } from "../api.js";
import { h } from "../dom.js";
import { has, t } from "../i18n.js";

export function errorText(error) {
  if (error instanceof ApiError && has(`error_${error.code}`)) return t(`error_${error.code}`);
  if (error instanceof ApiError && error.code === "network") return t("error_network");
  return error instanceof ApiError && error.status < 500 && error.message ? error.message : t("error_other");
}

export function render(main, { query, navigate }) {
  const alert = h("p", { class: "alert", role: "alert", id: "login-error" });
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true, minlength: 3, maxlength: 64, autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true, minlength: 8, "aria-describedby": "password-hint" });
  const next = query.get("next");
  const target = next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : "/capture";

  async function submit(action, button) {
    alert.textContent = "";
    if (!form.reportValidity()) return;
    button.disabled = true;
    try {
      await action(username.value.trim(), password.value);
      navigate(target, { replace: true });
    } catch (error) {
      alert.textContent = error instanceof ApiError && error.status === 401 ? t("login_failed") : errorText(error);
      button.disabled = false;
    }
  }

  const signIn = h("button", { class: "button", type: "submit" }, t("sign_in"));
  const create = h("button", { class: "button secondary", type: "button" }, t("register"));
  const form = h("form", { class: "card", novalidate: true, "aria-describedby": "login-error" },
    h("div", { class: "field" }, h("label", { for: "username" }, t("username")), username),
    h("div", { class: "field" }, h("label", { for: "password" }, t("password")), password,
      h("small", { id: "password-hint", class: "muted" }, t("password_hint"))),
    alert,
    h("div", { class: "actions" }, signIn, create));
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(login, signIn); });
  create.addEventListener("click", () => {
    password.autocomplete = "new-password";
    submit(register, create);
  });
  main.append(h("h1", {}, t("login_title")), h("p", { class: "muted" }, t("login_intro")), form);
}
