// "Edit regions" on a regions result: the job's region map, read from its PNG's exact values, drawn
// over the picture (or the photo); a click gives the clicked region (the connected pixels of one
// style) the chosen style, the brush paints it; undo and reset; "Paint again" sends the map as it is
// (send.js). Pointer events, so mouse, pen and touch all work; the canvas also takes the keyboard
// (arrows move a cross, Enter uses the tool there). On a phone it fills the screen, its tools floating
// over the map's lower edge and "Paint again" among them. Loaded on first use by editing.js.
import { ApiError } from "../api.js";
import { askedOfJob } from "../asked.js";
import { byId, el } from "../dom.js";
import { announce, clearError, messageOf, showError } from "../messages.js";
import { decodeMap, MapFormatError } from "../pngmap.js";
import { fitMap, floodFill, paintDisc, paintLine, restore, snapshot, unionRect } from "../regionmap.js";
import { fetchStored } from "../upload.js";
import { paintAgain } from "./send.js";
import { coloursOf, createView } from "./view.js";

/** The longest side edited: a bigger map is edited at this size (the API resizes any map to the photo). */
const MAX_SIDE = 2048;
const MAX_UNDO = 30;
const UNREADABLE = "The region map of this picture could not be read, so it cannot be edited here.";
const UNAVAILABLE = "The region map of this picture could not be loaded. Please reload the page to try again.";

const ui = {
  panel: byId("map-editor"),
  heading: byId("map-editor-heading"),
  opener: byId("edit-regions"),
  canvas: byId("map-canvas"),
  styles: byId("map-styles"),
  fill: byId("map-tool-fill"),
  brush: byId("map-brush"),
  brushValue: byId("map-brush-value"),
  opacity: byId("map-opacity"),
  opacityValue: byId("map-opacity-value"),
  under: byId("map-under"),
  undo: byId("map-undo"),
  reset: byId("map-reset"),
  paint: byId("paint-again"),
  close: byId("map-close"),
  status: byId("map-status"),
  result: byId("result-image"),
  photo: byId("before-image"),
};

let session = null; // {job, context, names, original, map, colours, view, undo, style, stroke, cross}

/** The bytes of the job's map; a link gone stale is asked for afresh once. */
async function mapBytes(job, api) {
  let answer = job;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const url = answer.result && answer.result.regions_url;
    try {
      return new Uint8Array(await (await fetchStored(url, { cache: "no-store" })).arrayBuffer());
    } catch {
      // A network failure or an expired link: ask the API for a fresh one below.
    }
    if (attempt === 0) answer = await api.job(job.job_id);
  }
  throw new ApiError(UNAVAILABLE, { code: "MapUnavailable" });
}

function fullRect() {
  return { x: 0, y: 0, width: session.map.width, height: session.map.height };
}

function refreshButtons() {
  ui.undo.disabled = session.undo.length === 0;
  const { data } = session.map;
  const original = session.original.data;
  let same = true;
  for (let i = 0; i < data.length && same; i += 1) same = data[i] === original[i];
  ui.reset.disabled = same;
}

/** Keeps what `rect` of the map held (`before`: the whole map's values before the edit) for undo. */
function remember(before, rect) {
  if (!rect) return;
  session.undo.push(snapshot({ width: session.map.width, height: session.map.height, data: before }, rect));
  if (session.undo.length > MAX_UNDO) session.undo.shift();
  refreshButtons();
}

/** Runs `edit` (it changes the map and answers the rectangle touched), redraws and keeps it for undo. */
function apply(edit) {
  const before = session.map.data.slice();
  const rect = edit();
  if (!rect) return;
  session.view.update(rect);
  remember(before, rect);
}

function usingFill() {
  return ui.fill.checked;
}

/** The brush's radius in map pixels: the slider is its width as a share of the longer side. */
function radius() {
  return Math.max(0.5, (Number(ui.brush.value) / 100) * Math.max(session.map.width, session.map.height) * 0.5);
}

function useToolAt(point) {
  const { map, style } = session;
  apply(() => (usingFill() ? floodFill(map, point.x, point.y, style) : paintDisc(map, point.x, point.y, radius(), style)));
  announce(usingFill() ? `Region set to ${session.names[style]}.` : `Painted ${session.names[style]}.`);
}

function onPointerDown(event) {
  if (!session || (event.pointerType === "mouse" && event.button !== 0)) return;
  event.preventDefault();
  ui.canvas.setPointerCapture(event.pointerId);
  const point = session.view.toMap(event);
  if (usingFill()) {
    useToolAt(point);
    return;
  }
  const before = session.map.data.slice();
  const rect = paintDisc(session.map, point.x, point.y, radius(), session.style);
  session.stroke = { pointerId: event.pointerId, before, last: point, rect };
  if (rect) session.view.update(rect);
}

function onPointerMove(event) {
  if (!session) return;
  const point = session.view.toMap(event);
  session.view.setMarker(usingFill() ? null : { ...point, radius: radius() });
  const { stroke } = session;
  if (!stroke || stroke.pointerId !== event.pointerId) return;
  const rect = paintLine(session.map, stroke.last, point, radius(), session.style);
  stroke.last = point;
  stroke.rect = unionRect(stroke.rect, rect);
  if (rect) session.view.update(rect);
}

function onPointerEnd(event) {
  if (!session) return;
  if (event.type === "pointerleave" || event.type === "pointercancel") session.view.setMarker(null);
  const { stroke } = session;
  if (!stroke || stroke.pointerId !== event.pointerId || event.type === "pointerleave") return;
  session.stroke = null;
  remember(stroke.before, stroke.rect);
}

const KEY_STEPS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function onKey(event) {
  if (!session) return;
  const { map } = session;
  const cross = session.cross || { x: Math.floor(map.width / 2), y: Math.floor(map.height / 2) };
  if (event.key in KEY_STEPS) {
    const step = Math.max(1, Math.round((Math.max(map.width, map.height) * (event.shiftKey ? 5 : 1)) / 100));
    const [dx, dy] = KEY_STEPS[event.key];
    cross.x = Math.min(map.width - 1, Math.max(0, cross.x + dx * step));
    cross.y = Math.min(map.height - 1, Math.max(0, cross.y + dy * step));
  } else if (event.key === "Enter" || event.key === " ") {
    useToolAt(cross);
  } else {
    return;
  }
  event.preventDefault();
  session.cross = cross;
  session.view.setMarker({ ...cross, cross: true });
}

function showBackground() {
  const photo = ui.under.value === "photo" && ui.photo.naturalWidth > 0;
  session.view.setBackground(photo ? ui.photo : ui.result);
}

function showOpacity() {
  ui.opacityValue.textContent = `${ui.opacity.value}%`;
  if (session) session.view.setOpacity(Number(ui.opacity.value) / 100);
}

/** One radio per style, with its colour and name; the chosen one is the style given. */
function styleChoices(names) {
  ui.styles.replaceChildren(
    ...names.map((name, index) => {
      const id = `map-style-${index}`;
      const input = el("input", {
        id,
        class: "form-check-input",
        type: "radio",
        name: "map-style",
        value: String(index),
        "data-testid": "map-style",
        checked: index === 0,
      });
      input.addEventListener("change", () => {
        if (session && input.checked) session.style = index;
      });
      const swatch = el("span", { class: `swatch swatch-${index}`, "aria-hidden": "true" });
      const label = el("label", { for: id, class: "form-check-label" }, swatch, el("span", { text: name }));
      return el("div", { class: "form-check" }, input, label);
    }),
  );
}

/** Takes the editor off the page, dropping its map. */
export function closeEditor() {
  if (session) session.view.stop();
  session = null;
  ui.panel.hidden = true;
  document.documentElement.classList.remove("editor-open");
  ui.opener.setAttribute("aria-expanded", "false");
  ui.status.textContent = "";
}

/**
 * Opens the editor on `job` (a succeeded regions job's answer). `context`: {api, optionNames,
 * mapRules}. Rejects with an ApiError (a sentence) when the map cannot be loaded or read.
 */
export async function openEditor(job, context) {
  const { api } = context;
  closeEditor();
  let decoded;
  try {
    decoded = await decodeMap(await mapBytes(job, api));
  } catch (error) {
    throw error instanceof MapFormatError ? new ApiError(UNREADABLE, { code: "MapUnreadable" }) : error;
  }
  const names = askedOfJob(job).styles.map((style) => style.name);
  const original = fitMap(decoded, MAX_SIDE);
  const map = { width: original.width, height: original.height, data: original.data.slice() };
  const colours = coloursOf(decoded, names.length, context.mapRules);
  const view = createView(ui.canvas, map, colours);
  session = { job, context, names, original, map, colours, view, undo: [], style: 0, stroke: null, cross: null };
  styleChoices(names);
  ui.under.querySelector("option[value=photo]").disabled = ui.photo.naturalWidth === 0;
  showBackground();
  showOpacity();
  refreshButtons();
  ui.panel.hidden = false;
  // On a phone the editor fills the screen (css: .map-editor); the page under it must not scroll.
  document.documentElement.classList.add("editor-open");
  ui.opener.setAttribute("aria-expanded", "true");
  ui.panel.scrollIntoView({ block: "nearest" });
  ui.heading.focus({ preventScroll: true });
}

async function onPaintAgain() {
  if (!session) return;
  clearError();
  ui.paint.disabled = true;
  ui.status.textContent = "Sending your map…";
  try {
    const { context, job, map, colours } = session;
    await paintAgain({ ...context, job, map, palette: colours });
  } catch (error) {
    showError(messageOf(error));
  } finally {
    ui.paint.disabled = false;
    ui.status.textContent = "";
  }
}

function onUndo() {
  const saved = session && session.undo.pop();
  if (!saved) return;
  session.view.update(restore(session.map, saved));
  refreshButtons();
  announce("Undone.");
}

function onReset() {
  if (!session) return;
  apply(() => {
    session.map.data.set(session.original.data);
    return fullRect();
  });
  announce("The map is back as it was painted.");
}

function showBrush() {
  ui.brushValue.textContent = `${ui.brush.value}%`;
}

ui.canvas.addEventListener("pointerdown", onPointerDown);
ui.canvas.addEventListener("pointermove", onPointerMove);
for (const type of ["pointerup", "pointercancel", "pointerleave"]) ui.canvas.addEventListener(type, onPointerEnd);
ui.canvas.addEventListener("keydown", onKey);
ui.canvas.addEventListener("blur", () => session && session.view.setMarker(null));
ui.brush.addEventListener("input", showBrush);
ui.opacity.addEventListener("input", showOpacity);
ui.under.addEventListener("change", () => session && showBackground());
ui.undo.addEventListener("click", onUndo);
ui.reset.addEventListener("click", onReset);
ui.paint.addEventListener("click", onPaintAgain);
ui.close.addEventListener("click", () => {
  closeEditor();
  ui.opener.focus();
});
showBrush();
