// Unit tests of the lighting meter's pixel function on synthetic frames, in Node's own test runner
// (`node --test web/tests/`; tests/browser/test_meter_unit.py runs it from pytest).
//
// The scene: a 120 x 160 frame (the meter's size for a 3:4 camera) with a neutral gray checkerboard
// background, whose edges tell the light's colour, and a textured skin-coloured face filling the
// oval guide. Lights are applied as gains in linear RGB, as a real lamp multiplies reflectances.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MIN_SCORE, OVAL, lightness, measureFrame, ramp } from "../js/meter.js";

const W = 120;
const H = 160;
const SKIN = [196, 150, 128]; // a medium skin tone in sRGB under daylight

const toLinear = (v) => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
const toSrgb = (l) => {
  const c = Math.min(1, Math.max(0, l));
  return Math.round(255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055));
};

function inOval(x, y) {
  return ((x + 0.5 - OVAL.cx * W) / (OVAL.rx * W)) ** 2 + ((y + 0.5 - OVAL.cy * H) / (OVAL.ry * H)) ** 2 <= 1;
}

/** The scene under a light of linear gains `light` (1, 1, 1 = daylight); a `backdrop` (sRGB) is a
 * light source of its own, a window behind the person, so the face's light does not dim it. */
function scene({ light = [1, 1, 1], backdrop = null } = {}) {
  const pixels = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let rgb;
      let lit = light;
      if (inOval(x, y)) {
        const shade = 1 + 0.12 * Math.sin(x / 3) * Math.cos(y / 4); // pores and shading: some edges
        rgb = SKIN.map((v) => toLinear(v) * shade);
      } else if (backdrop) {
        rgb = backdrop.map(toLinear);
        lit = [1, 1, 1];
      } else {
        const level = ((x >> 3) + (y >> 3)) % 2 ? 200 : 60; // a neutral checkerboard
        rgb = [level, level, level].map(toLinear);
      }
      const i = (y * W + x) * 4;
      for (let c = 0; c < 3; c++) pixels[i + c] = toSrgb(rgb[c] * lit[c]);
      pixels[i + 3] = 255;
    }
  }
  return pixels;
}

const uniform = (value) => {
  const pixels = new Uint8ClampedArray(W * H * 4).fill(value);
  for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
  return pixels;
};

describe("measureFrame", () => {
  it("passes even daylight on a face in the oval: green, full score, nothing to fix", () => {
    const m = measureFrame(scene(), W, H);
    assert.equal(m.faceInFrame, true);
    assert.deepEqual(m.problems, []);
    assert.ok(m.score >= 90, `score ${m.score}`);
    assert.equal(m.ready, true);
    assert.equal(m.coach, "coach_good");
    assert.ok(m.castDeg < 5, `cast ${m.castDeg}`);
  });

  it("reads a dark room as too dark and refuses the shutter", () => {
    const m = measureFrame(scene({ light: [0.01, 0.01, 0.01] }), W, H);
    assert.ok(m.exposure < 20, `L* ${m.exposure}`);
    assert.ok(m.problems.includes("too_dark"));
    assert.equal(m.ready, false);
    assert.equal(m.coach, "coach_too_dark");
    assert.ok(m.score < MIN_SCORE);
  });

  it("reads a black frame as too dark (no face can be seen either)", () => {
    const m = measureFrame(uniform(3), W, H);
    assert.deepEqual(m.problems, ["too_dark"]);
    assert.equal(m.faceInFrame, false);
    assert.equal(m.score, 0);
  });

  it("reads an overexposed face as too bright", () => {
    const m = measureFrame(scene({ light: [3.5, 3.5, 3.5] }), W, H);
    assert.ok(m.exposure > 93, `L* ${m.exposure}`);
    assert.ok(m.problems.includes("too_bright"));
    assert.equal(m.coach, "coach_too_bright");
    assert.equal(m.ready, false);
  });

  it("counts clipped highlights: a face blown out in two channels", () => {
    const pixels = scene();
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (inOval(x, y) && x < W / 2) {
          const i = (y * W + x) * 4;
          pixels[i] = 255; pixels[i + 1] = 255; // red and green blown on half the face
        }
      }
    }
    const m = measureFrame(pixels, W, H);
    assert.ok(m.clippedHighlights > 0.45 && m.clippedHighlights < 0.55, `clipped ${m.clippedHighlights}`);
    assert.ok(m.qualities.too_bright < 0.5);
    assert.ok(m.problems.includes("too_bright"));
  });

  it("names a strong warm cast as yellow light", () => {
    const m = measureFrame(scene({ light: [1, 0.3, 0.02] }), W, H);
    assert.ok(m.castDeg > 40, `cast ${m.castDeg}`);
    assert.equal(m.castHue, "warm");
    assert.ok(m.problems.includes("color_cast"));
    assert.equal(m.coach, "coach_cast_warm");
    assert.equal(m.ready, false);
  });

  it("names a strong cool cast as blue light", () => {
    const m = measureFrame(scene({ light: [0.02, 0.3, 1] }), W, H);
    assert.ok(m.castDeg > 40, `cast ${m.castDeg}`);
    assert.equal(m.castHue, "cool");
    assert.equal(m.coach, "coach_cast_cool");
    assert.equal(m.ready, false);
  });

  it("lets a mild warm lamp (about 4000 K, which the server corrects) through", () => {
    const m = measureFrame(scene({ light: [1, 0.8, 0.6] }), W, H);
    assert.ok(m.castDeg > 5 && m.castDeg < 28, `cast ${m.castDeg}`);
    assert.equal(m.qualities.color_cast, 1);
    assert.equal(m.ready, true);
  });

  it("sees backlight: a bright window behind a face in shade", () => {
    const m = measureFrame(scene({ light: [0.12, 0.12, 0.12], backdrop: [250, 250, 250] }), W, H);
    assert.ok(m.backlight > 40, `backlight ${m.backlight}`);
    assert.ok(m.problems.includes("backlit"));
    assert.equal(m.ready, false);
  });

  it("asks for a face when the oval shows a gray wall", () => {
    const m = measureFrame(uniform(128), W, H);
    assert.equal(m.faceInFrame, false);
    assert.equal(m.ready, false);
    assert.equal(m.coach, "coach_no_face");
  });

  it("uses the server's ramp and lightness", () => {
    assert.equal(ramp(20, 10, 20, 30), 0.5);
    assert.equal(ramp(35, 10, 20, 30), 1);
    assert.equal(ramp(5, 10, 20, 30), 0);
    assert.ok(Math.abs(lightness(0.18) - 49.5) < 0.1);
    assert.equal(Math.round(lightness(1)), 100);
  });

  it("refuses frames it cannot measure", () => {
    assert.throws(() => measureFrame(new Uint8ClampedArray(8), 2, 1), RangeError);
  });
});
