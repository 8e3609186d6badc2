// /capture: the front camera with an oval guide and the live lighting meter; the shutter works only
// when the meter is green. An upload is the fallback (desktop, refused permission, no camera).
//
// The photo exists only as pixels in a canvas and then as one JPEG Blob in memory while it is sent:
// no storage, no object URL. The canvas is emptied as soon as the JPEG is made.

import { startAnalysis } from "../api.js";
import { h } from "../dom.js";
import { formatPercent, lang, t } from "../i18n.js";
import { MAX_SIDE, measureFrame } from "../meter.js";
import { errorText } from "./login.js";

const MAX_PHOTO_SIDE = 1280; // the capture sent to the API, long side
const JPEG_QUALITY = 0.92;
const METER_INTERVAL_MS = 250; // four readings a second
const ASPECT = 3 / 4; // width / height of the viewfinder (styles.css .viewfinder)

/** The part of a `width` x `height` source the 3:4 viewfinder shows (object-fit: cover). */
function visibleCrop(width, height) {
  if (width / height > ASPECT) {
    const w = Math.round(height * ASPECT);
    return { x: Math.round((width - w) / 2), y: 0, w, h: height };
  }
  const h2 = Math.round(width / ASPECT);
  return { x: 0, y: Math.round((height - h2) / 2), w: width, h: h2 };
}

function fitWithin(w, h2, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(w, h2));
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h2 * scale)) };
}

/** Draw (a crop of) a video frame or bitmap into a new canvas at most `maxSide` on its long side. */
function drawScaled(source, crop, maxSide) {
  const size = fitWithin(crop.w, crop.h, maxSide);
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(source, crop.x, crop.y, crop.w, crop.h, 0, 0, size.width, size.height);
  return { canvas, context };
}

function toJpeg(canvas) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => {
      canvas.width = 0; // free the pixels now, not when the garbage collector gets to it
      if (blob) resolve(blob);
      else reject(new Error("JPEG encoding failed"));
    }, "image/jpeg", JPEG_QUALITY);
  });
}

function reading(key, value, state) {
  return h("li", { "data-state": state, dataset: { reading: key } }, h("span", {}, t(`reading_${key}`)), h("span", {}, value));
}

const stateOf = (quality) => (quality < 0.5 ? "bad" : quality < 0.8 ? "warn" : "ok");

export function render(main, { navigate }) {
  const video = h("video", { autoplay: true, muted: true, playsinline: true, "aria-label": t("camera_label") });
  const noCamera = h("p", { class: "no-camera", hidden: true }, t("camera_unavailable"));
  const finder = h("div", { class: "viewfinder", "data-verdict": "bad" }, video, h("div", { class: "oval", "aria-hidden": "true" }), noCamera);
  const verdict = h("span", { class: "meter-verdict" }, t("camera_starting"));
  const scoreText = h("span", { class: "muted" });
  const bar = h("span");
  const barTrack = h("div", { class: "meter-bar", role: "meter", "aria-label": t("meter_label"), "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0 }, bar);
  const readings = h("ul", { class: "readings" });
  const coach = h("p", { class: "coach", role: "status", "aria-live": "polite" });
  const meter = h("section", { class: "meter card", "aria-label": t("meter_label"), "data-verdict": "bad" },
    h("div", { class: "meter-head" }, verdict, scoreText), barTrack, readings, coach);
  const shutter = h("button", { class: "button shutter", type: "button", disabled: true, "aria-describedby": "shutter-hint" }, t("shutter"));
  const shutterHint = h("p", { id: "shutter-hint", class: "muted" }, t("shutter_disabled_hint"));
  const file = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp", id: "upload-input" });
  const upload = h("label", { class: "button secondary file-label" }, t("upload"), file);
  const alert = h("p", { class: "alert", role: "alert" });

  main.append(
    h("h1", {}, t("capture_title")),
    h("p", { class: "muted" }, t("capture_intro")),
    finder, meter,
    h("div", { class: "shutter-row" }, shutter, upload),
    shutterHint,
    h("p", { class: "muted" }, t("upload_hint")),
    alert);

  let stream = null;
  let timer = null;
  let latest = null;
  let busy = false;
  let lastCoach = null;

  function show(measurement) {
    latest = measurement;
    const v = measurement.verdict;
    finder.dataset.verdict = v;
    meter.dataset.verdict = v;
    verdict.textContent = t(`verdict_${v}`);
    scoreText.textContent = t("meter_score", { score: Math.round(measurement.score) });
    bar.style.width = `${measurement.score}%`;
    barTrack.setAttribute("aria-valuenow", String(Math.round(measurement.score)));
    const q = measurement.qualities;
    const light = measurement.castDeg < 10 ? t("value_neutral") : t(`value_${measurement.castHue}`);
    readings.replaceChildren(
      reading("brightness", `L* ${Math.round(measurement.exposure)}`, stateOf(q.too_dark === 1 ? q.too_bright : q.too_dark)),
      reading("highlights", formatPercent(measurement.clippedHighlights), stateOf(q.too_bright)),
      reading("cast", `${light} · ${Math.round(measurement.castDeg)}°`, stateOf(q.color_cast)),
      reading("backlight", `${Math.round(measurement.backlight)}`, stateOf(q.backlit)),
      reading("face", measurement.faceInFrame ? t("value_yes") : t("value_no"), measurement.faceInFrame ? "ok" : "bad"));
    if (measurement.coach !== lastCoach) {
      lastCoach = measurement.coach;
      coach.textContent = t(measurement.coach);
      coach.dataset.coach = measurement.coach;
    }
    shutter.disabled = busy || !measurement.ready;
    shutterHint.hidden = !shutter.disabled;
  }

  function tick() {
    if (video.readyState < 2 || !video.videoWidth) return;
    const { canvas, context } = drawScaled(video, visibleCrop(video.videoWidth, video.videoHeight), MAX_SIDE);
    const frame = context.getImageData(0, 0, canvas.width, canvas.height);
    canvas.width = 0;
    show(measureFrame(frame.data, frame.width, frame.height));
  }

  async function send(photo, lightingScore) {
    busy = true;
    shutter.disabled = true;
    file.disabled = true;
    alert.textContent = t("sending");
    try {
      const accepted = await startAnalysis(photo, { lightingScore, lang: lang() });
      navigate(`/analyzing/${accepted.task_id}`);
    } catch (error) {
      alert.textContent = errorText(error);
      busy = false;
      file.disabled = false;
      if (latest) shutter.disabled = !latest.ready;
    }
  }

  shutter.addEventListener("click", async () => {
    if (!latest?.ready || busy) return;
    const score = Math.round(latest.score * 10) / 10;
    const { canvas } = drawScaled(video, visibleCrop(video.videoWidth, video.videoHeight), MAX_PHOTO_SIDE);
    await send(await toJpeg(canvas), score);
  });

  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    file.value = "";
    if (!chosen) return;
    let bitmap;
    try {
      bitmap = await createImageBitmap(chosen); // applies the EXIF orientation
    } catch {
      alert.textContent = t("error_INVALID_IMAGE");
      return;
    }
    const { canvas } = drawScaled(bitmap, { x: 0, y: 0, w: bitmap.width, h: bitmap.height }, MAX_PHOTO_SIDE);
    bitmap.close();
    // No lighting_score: the meter's oval says nothing about where the face is in an uploaded photo;
    // the server's own lighting gate judges it.
    await send(await toJpeg(canvas), undefined);
  });

  // Without a camera the upload is the way in: the meter and the shutter step aside.
  function cameraUnavailable() {
    noCamera.hidden = false;
    finder.dataset.camera = "none";
    meter.hidden = true;
    shutter.hidden = true;
    shutterHint.hidden = true;
    upload.classList.remove("secondary");
  }

  if (navigator.mediaDevices?.getUserMedia) {
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 960 } }, audio: false })
      .then((media) => {
        if (timer === "stopped") {
          media.getTracks().forEach((track) => track.stop());
          return;
        }
        stream = media;
        video.srcObject = media;
        timer = setInterval(tick, METER_INTERVAL_MS);
      })
      .catch(cameraUnavailable);
  } else {
    cameraUnavailable();
  }

  return () => {
    if (timer !== null && timer !== "stopped") clearInterval(timer);
    timer = "stopped";
    stream?.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
  };
}
