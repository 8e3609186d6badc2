// The palette card: a PNG drawn on a canvas in the browser (type name, swatches, hex codes), the
// thing people share. Nothing is uploaded; the object URL made for the download is revoked at once.

const WIDTH = 1080;
const HEIGHT = 1350; // 4:5, what phone galleries and feeds show uncropped
const FONT = 'system-ui, -apple-system, "Noto Sans KR", "Apple SD Gothic Neo", sans-serif';

/** Black or white, whichever reads better on `hex` (relative luminance, as WCAG). */
function inkOn(hex) {
  const channel = (i) => {
    const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const y = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
  return y > 0.179 ? "#1d1b20" : "#ffffff";
}

function row(context, colors, top, { size, columns, label }) {
  context.fillStyle = "#4a4458";
  context.font = `600 34px ${FONT}`;
  context.fillText(label, 72, top);
  const gap = 20;
  const side = Math.min(size, (WIDTH - 144 - gap * (columns - 1)) / columns);
  colors.forEach((hex, i) => {
    const x = 72 + (i % columns) * (side + gap);
    const y = top + 24 + Math.floor(i / columns) * (side + gap);
    context.fillStyle = hex;
    context.beginPath();
    context.roundRect(x, y, side, side, 18);
    context.fill();
    context.fillStyle = inkOn(hex);
    context.font = `500 ${Math.round(side / 6.2)}px ui-monospace, monospace`;
    context.fillText(hex.toUpperCase(), x + 14, y + side - 16);
  });
  return top + 24 + Math.ceil(colors.length / columns) * (side + gap) + 40;
}

/** Draw the card for a result and answer it as a PNG Blob. */
export function drawCard(result, { lang, labels }) {
  const canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fbf8fd";
  context.fillRect(0, 0, WIDTH, HEIGHT);
  context.fillStyle = result.thumbnail_color;
  context.fillRect(0, 0, WIDTH, 24);
  const other = lang === "ko" ? "en" : "ko";
  context.fillStyle = "#1d1b20";
  context.font = `700 72px ${FONT}`;
  context.fillText(result.type_name[lang], 72, 140);
  context.fillStyle = "#4a4458";
  context.font = `400 40px ${FONT}`;
  context.fillText(result.type_name[other], 72, 200);
  let top = 290;
  top = row(context, result.main_colors, top, { size: 170, columns: 5, label: labels.best });
  top = row(context, result.worst_colors, top, { size: 110, columns: 8, label: labels.worst });
  const makeup = ["lip", "blush", "eyeshadow"].flatMap((part) => result.makeup[part]?.colors ?? []);
  top = row(context, makeup, top, { size: 110, columns: 8, label: labels.makeup });
  row(context, (result.hair.colors ?? []).map((c) => c.hex), top, { size: 110, columns: 8, label: labels.hair });
  context.fillStyle = "#4a4458";
  context.font = `400 30px ${FONT}`;
  context.fillText(labels.footer, 72, HEIGHT - 56);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => {
      canvas.width = 0;
      if (blob) resolve(blob);
      else reject(new Error("PNG encoding failed"));
    }, "image/png");
  });
}

/** Offer a Blob as a download, then revoke its object URL so nothing stays alive. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The click starts the download synchronously; revoking on the next task is safe in every browser.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
