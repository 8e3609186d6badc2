// Every text exists in Korean and English, with the same {placeholders}.

import assert from "node:assert/strict";
import { it } from "node:test";

// i18n.js reads the saved choice and the browser's languages when it loads.
globalThis.localStorage = { getItem: () => null, setItem: () => {} };
Object.defineProperty(globalThis, "navigator", {
  value: { languages: ["ko-KR", "en-US"], language: "ko-KR" },
  configurable: true,
});
const { TEXTS, lang } = await import("../js/i18n.js");

const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

it("has every key in both languages, none empty, with the same placeholders", () => {
  assert.deepEqual(Object.keys(TEXTS.ko).sort(), Object.keys(TEXTS.en).sort());
  for (const key of Object.keys(TEXTS.en)) {
    assert.ok(TEXTS.en[key].trim() && TEXTS.ko[key].trim(), key);
    assert.deepEqual(placeholders(TEXTS.ko[key]), placeholders(TEXTS.en[key]), key);
  }
});

it("picks Korean from a Korean browser", () => {
  assert.equal(lang(), "ko");
});
