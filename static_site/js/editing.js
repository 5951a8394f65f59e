// The "Edit regions" button of a regions result. The editor (js/mapedit/: the canvas, the PNG
// codec, the flood fill) is loaded only when the button is first pressed, so the page's first load
// stays as it was. A new result on screen closes an editor left open on the one before.
import { byId } from "./dom.js";
import { shownJob } from "./flow.js";
import { clearError, messageOf, showError } from "./messages.js";

const button = byId("edit-regions");
let editor = null; // Promise of ./mapedit/editor.js, once asked for
let context = null; // {api, optionNames, mapRules}

function hasMap(job) {
  return Boolean(job && job.status === "succeeded" && job.result && typeof job.result.regions_url === "string");
}

async function open() {
  const { job } = shownJob();
  if (!hasMap(job)) return;
  clearError();
  button.disabled = true;
  try {
    editor ??= import("./mapedit/editor.js");
    const module = await editor;
    await module.openEditor(job, context);
  } catch (error) {
    showError(messageOf(error));
  } finally {
    button.disabled = false;
  }
}

/**
 * Wires the button. `api` makes the new job; `optionNames` are the options config.json describes,
 * `mapRules` its `regions_map` (what a map sent must be: type, most bytes, each style's colour).
 */
export function setupEditing(api, optionNames, mapRules) {
  context = { api, optionNames, mapRules: mapRules || {} };
  button.addEventListener("click", open);
}

/** A result is on screen (or the page leaves it): the button shows for a map, an open editor closes. */
export function resultChanged(job) {
  button.hidden = !hasMap(job);
  if (editor) editor.then((module) => module.closeEditor()).catch(() => null);
}
