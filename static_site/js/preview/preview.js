// The instant preview, main-thread side: turns the form's state into requests for the preview's Web
// Worker (./worker.js) and draws what it sends back on the canvas beside the form.
//
// The page imports this module only once a photo is chosen, and the worker loads the runtime and the
// preset network only then (to paint the gallery's thumbnails with the person's photo, and the
// preview once a style is chosen), so the page's first load is what it was without a preview.
// It reads the choices from the modules that own them (photo, styles, options) after each change.
// A browser that lacks what the worker needs (WebAssembly with SIMD, module workers, OffscreenCanvas),
// a worker that fails, or a device too slow for the budget below, turns the preview off quietly:
// the form works exactly as it does without it.

import { byId } from "../dom.js";
import { optionsRequest } from "../options.js";
import { chosenPhoto } from "../photo.js";
import { styleChoice } from "../styles.js";
import { fittedSize } from "./resample.js";

/** A first preview slower than this (runtime and models included) means the device is too slow. */
const FIRST_PREVIEW_LIMIT_MS = 20_000;
/** Later previews slower than this, twice in a row, mean the same. */
const LATER_PREVIEW_LIMIT_MS = 4_000;

// A module of one function using SIMD (i8x16.splat, i8x16.popcnt): onnxruntime-web's WASM needs SIMD.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Whether this browser can run the preview at all (checked without loading anything). */
export function previewSupported() {
  try {
    return (
      typeof WebAssembly === "object" &&
      WebAssembly.validate(SIMD_PROBE) &&
      typeof Worker === "function" &&
      typeof OffscreenCanvas === "function" &&
      typeof createImageBitmap === "function"
    );
  } catch {
    return false;
  }
}

/**
 * What the preview shows for a form state: {show: "preview"} or {show: "note", text} or {show: "none"}.
 * `state`: {photo: {previewable}, styles: [{kind: "preset"|"upload"}], mix}.
 */
export function previewPlan(state) {
  if (!state.photo || state.styles.length === 0) return { show: "none" };
  if (state.photo.previewable === false) {
    return { show: "note", text: "This browser cannot show this photo, so there is no preview; it is painted all the same." };
  }
  const kinds = new Set(state.styles.map((s) => s.kind));
  if (state.styles.length >= 2 && state.mix === "regions") {
    return { show: "note", text: "Regions are worked out and shown after painting: press the button to see them." };
  }
  if (kinds.size > 1) {
    return { show: "note", text: "A blend mixes presets with presets, or your paintings with each other: no preview for both." };
  }
  return { show: "preview" };
}

/**
 * The caption under a preview: what it shows, in plain words. `finer`: the job paints finer strokes
 * than the preview shows; `output`: the picture's [width, height], or null.
 */
export function previewCaption({ reduced, finer, output }) {
  const size = output ? ` (${output[0]} × ${output[1]} pixels)` : "";
  if (finer) return `A quick preview: your picture${size} is painted with finer strokes and detail than here.`;
  if (!reduced) return "A preview of your picture, at its own size.";
  return `A smaller preview: your picture${size} has these strokes, with finer detail.`;
}

/**
 * The preview beside the form. `ui`: {figure, canvas, note, caption}. Call `update(state)` after every
 * change of the form (a state without photo or style hides it). `thumbnails.paint(presetId, url)`
 * hears of each preset painted on the photo, `thumbnails.unpaint()` when there is no photo any more.
 *
 *   const preview = createPreview(ui, { paint() {}, unpaint() {} });
 *   preview.update({ photo: { key, file }, styles, mix, strength: 0.8, preserveColor: false });
 */
export function createPreview(ui, thumbnails = { paint() {}, unpaint() {} }, rule = null) {
  let worker = null;
  let off = !previewSupported();
  let nextId = 1;
  let firstAsked = null; // when the first request was made (the first preview's clock)
  let drawn = 0;
  let slow = 0;
  let showing = "none"; // what the latest form state asks the preview to show
  let photoShown = null; // the latest state's photo
  let thumbsFor = null; // the photo key the gallery's thumbnails are being painted for
  let thumbsId = 0;
  const thumbUrls = [];
  const asked = new Map(); // request id -> performance.now() when asked

  function dropThumbnails() {
    for (const url of thumbUrls.splice(0)) URL.revokeObjectURL(url);
    thumbnails.unpaint();
  }

  /** The gallery's thumbnails follow the photo: painted on it once it is chosen, put back without one. */
  function followPhoto(photo) {
    const key = photo && photo.previewable !== false ? photo.key : null;
    if (key === thumbsFor) return;
    thumbsFor = key;
    dropThumbnails();
    const target = key ? ensureWorker() : null;
    if (!target) return;
    thumbsId = nextId++;
    target.postMessage({ type: "thumbnails", id: thumbsId, photo: { key, file: photo.file } });
  }

  function turnOff(reason) {
    off = true;
    dropThumbnails();
    ui.canvas.dataset.reason = String(reason || "");
    if (worker) worker.terminate();
    worker = null;
    ui.figure.hidden = true;
    ui.canvas.dataset.state = "off";
  }

  function onMessage(event) {
    const message = event.data || {};
    const since = asked.get(message.id);
    // A request is answered once its last picture came (a quick one may come first: see worker.js).
    if (message.final !== false) for (const id of asked.keys()) if (id <= message.id) asked.delete(id);
    if (off) return;
    if (message.type === "thumbnail") {
      if (message.id !== thumbsId || !thumbsFor) return;
      const url = URL.createObjectURL(message.blob);
      thumbUrls.push(url);
      thumbnails.paint(message.preset, url);
      return;
    }
    if (message.type === "unreadable") {
      // This picture only: the browser cannot decode it. Later choices may preview again.
      ui.canvas.hidden = true;
      ui.note.hidden = false;
      ui.note.textContent = "This browser cannot read that picture, so there is no preview; it is painted all the same.";
      ui.canvas.dataset.state = asked.size ? "working" : "ready";
      return;
    }
    if (message.type === "failed") {
      turnOff(message.reason);
      return;
    }
    if (message.type !== "preview") return;
    const now = performance.now();
    const tookMs = since === undefined ? 0 : now - since;
    const firstMs = drawn === 0 ? now - firstAsked : null;
    ui.canvas.width = message.width;
    ui.canvas.height = message.height;
    ui.canvas.getContext("2d").putImageData(new ImageData(message.pixels, message.width, message.height), 0, 0);
    drawn += 1;
    ui.canvas.dataset.renders = String(drawn);
    ui.canvas.dataset.backend = message.backend;
    ui.canvas.dataset.state = asked.size ? "working" : "ready";
    ui.canvas.hidden = showing !== "preview";
    ui.caption.textContent = previewCaption({ ...message, output: outputSize(photoShown) });
    if (message.refined) {
      // The true-scale step: its time from the change, apart; the device's speed is judged on the quick one.
      ui.canvas.dataset.refinedMs = tookMs.toFixed(0);
      return;
    }
    ui.canvas.dataset.lastMs = tookMs.toFixed(0);
    ui.canvas.dataset.prepareMs = message.ms.prepare.toFixed(0);
    ui.canvas.dataset.networkMs = message.ms.network.toFixed(0);
    if (firstMs !== null) ui.canvas.dataset.firstMs = firstMs.toFixed(0);
    const tooSlow = firstMs !== null ? firstMs > FIRST_PREVIEW_LIMIT_MS : tookMs > LATER_PREVIEW_LIMIT_MS;
    slow = tooSlow ? slow + 1 : 0;
    if ((firstMs !== null && tooSlow) || slow >= 2) turnOff("too slow on this device");
  }

  function ensureWorker() {
    if (worker || off) return worker;
    try {
      worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "stylemixer-preview" });
    } catch (error) {
      turnOff(error);
      return null;
    }
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      turnOff(event.message || "the preview's worker failed");
    });
    return worker;
  }

  function update(state) {
    if (off) return;
    photoShown = state.photo;
    followPhoto(state.photo);
    const plan = previewPlan(state);
    showing = plan.show;
    ui.figure.hidden = plan.show === "none";
    ui.note.hidden = plan.show !== "note";
    ui.canvas.hidden = plan.show !== "preview" || drawn === 0;
    if (plan.show === "note") ui.note.textContent = plan.text;
    if (plan.show !== "preview") {
      ui.caption.textContent = "";
      return;
    }
    if (drawn === 0) ui.caption.textContent = "Painting a quick preview…";
    const target = ensureWorker();
    if (!target) return;
    const id = nextId++;
    const now = performance.now();
    asked.set(id, now);
    firstAsked ??= now;
    ui.canvas.dataset.state = "working";
    const kind = state.styles[0].kind === "preset" ? "preset" : "painting";
    target.postMessage({
      type: "render",
      id,
      stroke: state.stroke || null,
      maxSize: state.maxSize || null,
      rule,
      photo: { key: state.photo.key, file: state.photo.file },
      kind,
      styles: state.styles.map((s) =>
        kind === "preset" ? { id: s.id, weight: s.weight } : { key: s.key, file: s.file, weight: s.weight },
      ),
      strength: state.strength,
      preserveColor: state.preserveColor,
    });
  }

  return { update };
}

/** The size the job will give the photo `{width, height, maxSize}`, as [width, height], or null. */
function outputSize(photo) {
  if (!photo || !photo.width) return null;
  return fittedSize(photo.width, photo.height, Number(photo.maxSize) || Infinity);
}

/** The form's current choices, as `createPreview().update` takes them. */
function currentState() {
  const photo = chosenPhoto();
  const { mix, styles } = styleChoice();
  const { strength, preserve_color: preserveColor, stroke, max_size: maxSize } = optionsRequest();
  return {
    // The photo's object URL is unique to one chosen file: the worker keeps its work per key. What it
    // paints is what the page shows (a HEIC's rendition made by the page; the upload is the original).
    photo: photo
      ? {
          key: photo.url,
          file: photo.shown,
          previewable: photo.previewable,
          width: photo.width,
          height: photo.height,
          maxSize,
        }
      : null,
    styles,
    mix,
    strength,
    preserveColor,
    stroke,
    maxSize,
  };
}

/**
 * The preview beside the form, bound to the page; `refresh()` after each change of a choice.
 * `thumbnails` ({paint, unpaint}) shows the gallery's presets painted on the photo; `rule` is
 * config.json's `stroke` (without it the preview paints at its own size, whatever the stroke).
 */
export function startPreview(thumbnails, rule = null) {
  const preview = createPreview(
    {
      figure: byId("style-preview"),
      canvas: byId("style-preview-canvas"),
      note: byId("style-preview-note"),
      caption: byId("style-preview-caption"),
    },
    thumbnails,
    rule,
  );
  return { refresh: () => preview.update(currentState()) };
}
