// A tiny element builder: h("p", {class: "muted"}, "text", child). Text is always set as text,
// never parsed as HTML, so nothing the API returns can inject markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A colour chip with its hex code (and an optional label), as every swatch section shows them. */
export function swatch(hex, label) {
  const chip = h("span", { class: "chip", "aria-hidden": "true" });
  chip.style.backgroundColor = hex; // CSSOM, allowed by the style-src 'self' policy
  return h("li", { class: "swatch", dataset: { hex } }, chip, h("code", {}, hex), label ? h("span", { class: "label" }, label) : null);
}

/** Ask before something irreversible, in a modal <dialog> (focus is trapped and Escape cancels). */
export function confirmDialog({ title, text, confirm, cancel, danger = true }) {
  return new Promise((resolve) => {
    const titleId = "dialog-title-" + Math.random().toString(36).slice(2);
    const dialog = h("dialog", { "aria-labelledby": titleId },
      h("h2", { id: titleId }, title),
      h("p", {}, text),
      h("form", { method: "dialog", class: "actions" },
        h("button", { class: "button secondary", value: "cancel", autofocus: true }, cancel),
        h("button", { class: danger ? "button danger" : "button", value: "confirm" }, confirm)));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
