// The live lighting meter: what the camera frame's light is like, measured in the browser.
//
// `measureFrame(pixels, width, height)` is a pure function (RGBA bytes in, readings out) so it runs
// on a downscaled video frame a few times a second and in Node's test runner alike. It never keeps
// pixels: everything it returns is a handful of numbers.
//
// It mirrors the server's lighting report (pipeline/normalize.py, `_measure`) where the two overlap,
// with the same quality ramps (1 where fine, 0.5 at the "problem" level, 0 where hopeless), the same
// score (100 x the product of the qualities) and the same gate (PIPELINE__MIN_LIGHTING_SCORE, 50):
//   - brightness: median CIELAB L* of the face, too dark 10/20/30, too bright 98/93/88;
//   - clipped highlights: share of face pixels with at least two channels >= 250, 0.5/0.3/0.1;
//   - crushed shadows: share of face pixels with every channel <= 8, 0.5/0.3/0.1;
//   - colour cast: angle of the light's colour from neutral in linear RGB, 52/40/28 degrees,
//     estimated by first-order gray edge with p = 6 (one of the two estimators the server averages);
//   - backlight: median L* beside and above the face minus the face's, 55/40/25;
//   - contrast: 99th minus 1st percentile of L* over the frame, 15/30/45.
// What differs: the server finds the face with a detector; the meter takes the oval guide the
// person is asked to fill (the middle 60% of the frame), and calls the face "in frame" when enough
// of the oval looks like skin. The server's gate still decides; the meter only coaches.

export const MIN_SCORE = 50; // serve_app/settings.py: PIPELINE__MIN_LIGHTING_SCORE
export const MAX_SIDE = 160; // frames are measured at most this big, as the server's statistics are
export const OVAL = { cx: 0.5, cy: 0.5, rx: 0.3, ry: 0.3 }; // fractions of the frame; styles.css .oval
export const RAMPS = {
  dark: [10, 20, 30],
  bright: [98, 93, 88],
  clipped: [0.5, 0.3, 0.1],
  shadows: [0.5, 0.3, 0.1],
  cast: [52, 40, 28],
  backlight: [55, 40, 25],
  contrast: [15, 30, 45],
};
export const PROBLEMS = ["too_dark", "too_bright", "color_cast", "backlit", "low_contrast"];
const CLIP_LEVEL = 250;
const DARK_LEVEL = 8;
const MIN_SKIN_SHARE = 0.3; // of the oval; a heuristic, not a face detector
const MINKOWSKI_P = 6;
const WEIGHTS = [0.2126, 0.7152, 0.0722]; // Rec. 709 luminance, as pipeline/color.py

const LINEAR = new Float32Array(256);
for (let v = 0; v < 256; v++) {
  const c = v / 255;
  LINEAR[v] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** CIELAB L* of a relative luminance Y (0-1). */
export function lightness(y) {
  const f = y > 216 / 24389 ? Math.cbrt(y) : (24389 / 27 * y + 16) / 116;
  return 116 * f - 16;
}

/** Piecewise-linear quality, as pipeline/normalize.py `_ramp`: 0 at zeroAt, 0.5 at halfAt, 1 at oneAt. */
export function ramp(value, zeroAt, halfAt, oneAt) {
  if (value >= oneAt) return 1;
  if (value <= zeroAt) return 0;
  if (value >= halfAt) return 0.5 + (0.5 * (value - halfAt)) / (oneAt - halfAt);
  return (0.5 * (value - zeroAt)) / (halfAt - zeroAt);
}

/** The same ramp for a reading where lower is better (the server negates value and thresholds). */
function rampDown(value, [zeroAt, halfAt, oneAt]) {
  return ramp(-value, -zeroAt, -halfAt, -oneAt);
}

function median(values) {
  if (values.length === 0) return 0;
  const sorted = Float32Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(sorted, percent) {
  const position = (sorted.length - 1) * (percent / 100);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** The light's colour (linear RGB, unit sum) by first-order gray edge, clipped and black pixels left out. */
function grayEdge(linear, usable, width, height) {
  const sums = [0, 0, 0];
  let count = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      // An edge touching a clipped or black pixel has a false colour: only fully usable 3x3 windows.
      if (!(usable[i - width - 1] & usable[i - width] & usable[i - width + 1] & usable[i - 1] & usable[i]
        & usable[i + 1] & usable[i + width - 1] & usable[i + width] & usable[i + width + 1])) continue;
      count++;
      const up = (i - width) * 3, mid = i * 3, down = (i + width) * 3;
      for (let c = 0; c < 3; c++) {
        const nw = linear[up - 3 + c], n = linear[up + c], ne = linear[up + 3 + c];
        const w = linear[mid - 3 + c], e = linear[mid + 3 + c];
        const sw = linear[down - 3 + c], so = linear[down + c], se = linear[down + 3 + c];
        const gx = ne + 2 * e + se - nw - 2 * w - sw; // Sobel, as the server's cv2.Sobel
        const gy = sw + 2 * so + se - nw - 2 * n - ne;
        const squared = gx * gx + gy * gy;
        sums[c] += squared * squared * squared; // |gradient| ** 6 (MINKOWSKI_P)
      }
    }
  }
  const estimate = sums.map((s) => (count ? (s / count) ** (1 / MINKOWSKI_P) : 0));
  const total = estimate[0] + estimate[1] + estimate[2];
  // A frame without usable edges (flat, black or blown out) says nothing about the light: neutral.
  return total > 1e-6 && estimate.every((e) => e > 0) ? estimate.map((e) => e / total) : [1 / 3, 1 / 3, 1 / 3];
}

function angleFromNeutralDeg(rgb) {
  const dot = rgb[0] + rgb[1] + rgb[2];
  const norm = Math.hypot(rgb[0], rgb[1], rgb[2]) * Math.sqrt(3);
  return (Math.acos(Math.min(1, dot / norm)) * 180) / Math.PI;
}

/** Which way the light leans: "warm" (yellow/orange), "cool" (blue), "green" or "magenta". */
function castHue([r, g, b]) {
  const warmth = r - b;
  const tint = g - (r + b) / 2;
  if (Math.abs(warmth) >= Math.abs(tint)) return warmth > 0 ? "warm" : "cool";
  return tint > 0 ? "green" : "magenta";
}

/**
 * Measure one frame. `pixels`: RGBA bytes (ImageData.data), row-major, `width` x `height`.
 * Returns the readings, the qualities (0-1), the problems (server names), the 0-100 score,
 * `ready` (green: score at or above the server's gate and a face in the oval) and `coach`, the key
 * of the one coaching line to show (see i18n.js, "coach_*").
 */
export function measureFrame(pixels, width, height) {
  if (!(width > 2 && height > 2) || pixels.length < width * height * 4) {
    throw new RangeError("measureFrame needs RGBA pixels of at least 3 x 3");
  }
  const n = width * height;
  const linear = new Float32Array(n * 3);
  const luminance = new Float32Array(n);
  const usable = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = pixels[i * 4], g = pixels[i * 4 + 1], b = pixels[i * 4 + 2];
    const lr = LINEAR[r], lg = LINEAR[g], lb = LINEAR[b];
    linear[i * 3] = lr; linear[i * 3 + 1] = lg; linear[i * 3 + 2] = lb;
    luminance[i] = WEIGHTS[0] * lr + WEIGHTS[1] * lg + WEIGHTS[2] * lb;
    usable[i] = r < CLIP_LEVEL && g < CLIP_LEVEL && b < CLIP_LEVEL && Math.max(r, g, b) > DARK_LEVEL ? 1 : 0;
  }
  const illuminant = grayEdge(linear, usable, width, height);

  // The oval guide is the face; its bounding box stands in for the server's face box.
  const cx = OVAL.cx * width, cy = OVAL.cy * height, rx = OVAL.rx * width, ry = OVAL.ry * height;
  const box = { x: Math.round(cx - rx), y: Math.round(cy - ry), w: Math.round(2 * rx), h: Math.round(2 * ry) };
  const face = [];
  let blown = 0, crushed = 0, skin = 0;
  for (let y = box.y; y < box.y + box.h; y++) {
    for (let x = box.x; x < box.x + box.w; x++) {
      if (((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 > 1) continue;
      const i = y * width + x;
      const r = pixels[i * 4], g = pixels[i * 4 + 1], b = pixels[i * 4 + 2];
      face.push(luminance[i]);
      if ((r >= CLIP_LEVEL) + (g >= CLIP_LEVEL) + (b >= CLIP_LEVEL) >= 2) blown++;
      if (Math.max(r, g, b) <= DARK_LEVEL) crushed++;
      // Skin as the camera sees it: red over green over blue, neither gray nor saturated. Taken
      // before any white balance: a face filling the frame would otherwise balance itself to gray.
      const lr = linear[i * 3], lg = linear[i * 3 + 1], lb = linear[i * 3 + 2];
      if (luminance[i] > 0.01 && lr > lg && lg >= 0.9 * lb && lr >= 1.15 * lb && lr <= 12 * lb) skin++;
    }
  }
  const exposure = lightness(median(face));
  const clippedHighlights = face.length ? blown / face.length : 0;
  const clippedShadows = face.length ? crushed / face.length : 0;
  const skinShare = face.length ? skin / face.length : 0;
  const faceInFrame = skinShare >= MIN_SKIN_SHARE;

  const surround = [];
  for (let y = Math.max(0, box.y - box.h); y < Math.min(height, box.y + box.h); y++) {
    for (let x = Math.max(0, box.x - box.w); x < Math.min(width, box.x + 2 * box.w); x++) {
      if (y >= box.y && x >= box.x && x < box.x + box.w) continue;
      surround.push(luminance[y * width + x]);
    }
  }
  const backlight = surround.length ? lightness(median(surround)) - exposure : 0;
  const sorted = Float32Array.from(luminance).sort();
  const contrast = lightness(percentile(sorted, 99)) - lightness(percentile(sorted, 1));
  const castDeg = angleFromNeutralDeg(illuminant);

  const qualities = {
    too_dark: Math.min(ramp(exposure, ...RAMPS.dark), rampDown(clippedShadows, RAMPS.shadows)),
    too_bright: Math.min(rampDown(exposure, RAMPS.bright), rampDown(clippedHighlights, RAMPS.clipped)),
    color_cast: rampDown(castDeg, RAMPS.cast),
    // As on the server: without a face, a bright wall cannot be told from backlight, nor a flat one from haze.
    backlit: faceInFrame ? rampDown(backlight, RAMPS.backlight) : 1,
    low_contrast: faceInFrame ? ramp(contrast, ...RAMPS.contrast) : 1,
  };
  const score = Math.round(1000 * PROBLEMS.reduce((product, p) => product * qualities[p], 1)) / 10;
  let problems = PROBLEMS.filter((p) => qualities[p] < 0.5);
  if (score < MIN_SCORE && problems.length === 0) problems = PROBLEMS.filter((p) => qualities[p] < 0.8);
  const warnings = PROBLEMS.filter((p) => qualities[p] < 0.8 && !problems.includes(p));
  const ready = score >= MIN_SCORE && faceInFrame;
  return {
    exposure, clippedHighlights, clippedShadows, contrast, castDeg, backlight, illuminant,
    castHue: castHue(illuminant), skinShare, faceInFrame, qualities, problems, warnings, score, ready,
    verdict: ready ? (warnings.length ? "warn" : "good") : "bad",
    coach: coachKey(problems, warnings, faceInFrame, castHue(illuminant)),
  };
}

/** The one most useful thing to say: the first problem, else a missing face, else a warning. */
function coachKey(problems, warnings, faceInFrame, hue) {
  const line = (problem) => (problem === "color_cast" ? `coach_cast_${hue}` : `coach_${problem}`);
  if (problems.length) return line(problems[0]);
  if (!faceInFrame) return "coach_no_face";
  if (warnings.length) return line(warnings[0]);
  return "coach_good";
}
