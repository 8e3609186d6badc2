// The app shell: client-side routes on the History API, the language switch, the sign-in guard.
//
// Every screen is a module exporting `render(main, params)`; it may return a clean-up function
// (stop the camera, stop polling) that runs before the next screen renders. The server answers
// every route below with index.html (serve_app/web_app.py), so each is reachable by URL.

import { signedIn } from "./api.js";
import { lang, onLangChange, setLang, t, translateStatic } from "./i18n.js";
import * as analyzing from "./screens/analyzing.js";
import * as capture from "./screens/capture.js";
import * as history from "./screens/history.js";
import * as login from "./screens/login.js";
import * as result from "./screens/result.js";

const ROUTES = [
  { pattern: /^\/login\/?$/, screen: login, nav: null, open: true },
  { pattern: /^\/capture\/?$/, screen: capture, nav: "capture" },
  { pattern: /^\/analyzing\/([\w-]+)\/?$/, screen: analyzing, nav: null },
  { pattern: /^\/result\/([\w-]+)\/?$/, screen: result, nav: null },
  { pattern: /^\/history\/?$/, screen: history, nav: "history" },
];

const main = document.getElementById("main");
let cleanup = null;

/** Go to an app path (pushes a history entry unless `replace`). */
export function navigate(path, { replace = false } = {}) {
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  render();
}

function render() {
  cleanup?.();
  cleanup = null;
  const path = window.location.pathname;
  if (path === "/") {
    navigate("/capture", { replace: true }); // one address per screen
    return;
  }
  const route = ROUTES.find((candidate) => candidate.pattern.test(path));
  if (route && !route.open && !signedIn()) {
    navigate(`/login?next=${encodeURIComponent(path)}`, { replace: true });
    return;
  }
  document.querySelector(".nav").hidden = !signedIn();
  document.querySelectorAll("[data-nav]").forEach((link) => {
    if (route && link.dataset.nav === route.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  });
  main.replaceChildren();
  if (!route) {
    main.append(Object.assign(document.createElement("h1"), { textContent: t("not_found_title") }));
    return;
  }
  const params = path.match(route.pattern).slice(1);
  cleanup = route.screen.render(main, { params, query: new URLSearchParams(window.location.search), navigate }) ?? null;
  // Move focus to the new screen's heading, so keyboard and screen-reader users start there.
  const heading = main.querySelector("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", render);

const select = document.getElementById("lang-select");
select.value = lang();
select.addEventListener("change", () => setLang(select.value));
onLangChange(() => {
  select.value = lang();
  translateStatic();
  render();
});
translateStatic();
render();
