// A photo past the largest size painted (config.json's max_pixels and max_side: 50 megapixels, 8192
// pixels on a side) is brought down to it here before it is sent, where this browser can decode it:
// upright as it is shown (its EXIF orientation applied), its colours converted to sRGB as they are
// shown, as a JPEG of the same shape. The service would bring it down too, but sending a 108 or 200 MP
// photo whole costs the person minutes of upload for pixels that are not painted. A photo this browser
// cannot decode (HEIC outside Safari) is sent as it is and the job brings it down. The job is told the
// photo's own size (`reduced_from`) and keeps it: its `painting`, in the answer to POST /jobs and in
// every GET of the job, says the photo is painted smaller, so a reload or a shared link says it too.
import { el } from "./dom.js";

/** JPEG quality of a photo brought down: its detail kept (the service paints from it). */
const QUALITY = 0.92;

let cap = null; // config.json's max_pixels and max_side, for the words (`setupDownsize`)

/** Keeps `config`'s cap: the words say the largest size painted, not a job's smaller `max_size`. */
export function setupDownsize(config) {
  cap = config;
}

/** The size a `width` × `height` picture is painted at: its own, or the largest of its shape within the cap (as the service rounds it). */
export function paintedSize(width, height, config) {
  const scale = Math.min(1, Math.sqrt(config.max_pixels / (width * height)), config.max_side / Math.max(width, height));
  if (scale >= 1) return { width, height };
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

/** Whether a checked picture ({width, height}, null when the browser cannot show it) is past the cap. */
export function pastTheCap(checked, config) {
  if (!checked.previewable) return false;
  const size = paintedSize(checked.width, checked.height, config);
  return size.width !== checked.width || size.height !== checked.height;
}

/** The bitmap as a JPEG (an OffscreenCanvas: every browser that decodes such a photo has one). */
function encodeJpeg(bitmap) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  return canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
}

/**
 * `checked` (as files.js's checkImageFile gives it) brought down to the largest size painted: resolves
 * to the same shape of object for the new JPEG, with `reducedFrom` {width, height}, or to `checked`
 * itself when it is within the cap. Rejects when the browser cannot resize it (then send it as it is).
 */
export async function downsize(checked, config) {
  if (!pastTheCap(checked, config)) return checked;
  const size = paintedSize(checked.width, checked.height, config);
  const bitmap = await createImageBitmap(checked.file, {
    imageOrientation: "from-image",
    colorSpaceConversion: "default",
    resizeWidth: size.width,
    resizeHeight: size.height,
    resizeQuality: "high",
  });
  try {
    if (bitmap.width !== size.width || bitmap.height !== size.height) throw new Error("resize");
    const blob = await encodeJpeg(bitmap);
    const name = `${(checked.file.name || "photo").replace(/\.[^.]*$/, "")}.jpg`;
    const file = new File([blob], name, { type: "image/jpeg" });
    URL.revokeObjectURL(checked.url);
    return {
      ...checked,
      file,
      type: "image/jpeg",
      url: URL.createObjectURL(file),
      shown: file,
      width: size.width,
      height: size.height,
      reducedFrom: { width: checked.width, height: checked.height },
    };
  } finally {
    bitmap.close();
  }
}

/** "… is 12000 × 9000 pixels; it is painted at 8164 × 6123, the largest size accepted." */
export function reducedWords(from, to) {
  return `Your photo is ${from.width} × ${from.height} pixels; it is painted at ${to.width} × ${to.height}, the largest size accepted.`;
}

/** The request's `reduced_from` for `photo`: its own size when it was brought down here, else nothing. */
export function reducedFromRequest(photo) {
  const from = photo && photo.reducedFrom;
  return from ? { reduced_from: { width: from.width, height: from.height } } : {};
}

/** The photo's own size ({width, height}) when a job's `painting` (as the API answers it) says it is painted smaller; else null. */
export function reducedFromOf(painting) {
  if (!painting || typeof painting !== "object" || painting.reduced !== true) return null;
  return { width: painting.photo_width, height: painting.photo_height };
}

/**
 * The sentence saying that `job` (an answer of the API) paints the photo smaller than it was sent;
 * "" otherwise. From the job's own `painting`, so it is said on the page that sent the job, after a
 * reload and on a shared link alike.
 */
export function paintingNoteFor(job) {
  const painting = job && job.painting;
  const from = reducedFromOf(painting);
  if (!from) return "";
  return reducedWords(from, cap ? paintedSize(from.width, from.height, cap) : painting);
}

let note = null;

/**
 * Tells the person, beside what the running job asked for (`#asked`), that their photo is painted
 * smaller than they sent it, as the API's answer about the job (`job.painting`) says, or, when it
 * does not know the size yet, as this page brought the photo down (`photo.reducedFrom`). Removes the
 * note of an earlier job otherwise.
 */
export function showPaintingNote(job, photo = null) {
  if (note) note.remove();
  note = null;
  let words = paintingNoteFor(job);
  if (!words && photo && photo.reducedFrom) words = reducedWords(photo.reducedFrom, photo);
  const block = document.getElementById("asked");
  if (!words || !block) return;
  note = el("p", { class: "small text-body-secondary mt-2 mb-0", "data-testid": "painting-note", text: words });
  block.append(note);
  block.hidden = false;
}
