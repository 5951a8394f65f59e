// The pictures of this visit: a strip of thumbnails, newest first, each to view again or download,
// that stays through a reload. The browser keeps only each job's id and when it was sent
// (localStorage); everything shown is asked of the API again (GET /jobs/{id}), which also hands out
// fresh links, since a picture's link lasts 15 minutes. Jobs the API no longer has (kept 7 days), or
// that failed, leave the strip. Only jobs this browser sent are kept: a link someone shared shows
// their picture but never joins the strip. Their owner tokens are kept beside (owners.js). Each item
// has its label under the thumbnail and a row of actions (`.strip-actions`: Download, and Delete for
// a job whose token this browser holds). Server text is only placed as text or attribute values.
import { askedOfJob } from "./asked.js";
import { byId, el } from "./dom.js";
import { isClipResult } from "./clipresult.js";
import { keepOwners, ownerToken } from "./owners.js";
import { downloadName, localCopy } from "./result.js";

const STORE_KEY = "stylemixer.visit";
const MAX_ITEMS = 12;

const ui = { panel: byId("strip-panel"), list: byId("strip") };

let api = null;
let view = () => {};
let remove = async () => false; // deleting.js's deleteJob: asks, deletes, says whether it did
let entries = []; // [{id, at}], newest first: what the browser keeps
const answers = new Map(); // job id -> the answer its tile is drawn from
let current = null; // the job on screen

function stored() {
  try {
    const value = JSON.parse(window.localStorage.getItem(STORE_KEY) || "[]");
    return Array.isArray(value)
      ? value.filter((entry) => entry && api.isId(entry.id) && Number.isFinite(entry.at))
      : [];
  } catch {
    return [];
  }
}

function store() {
  try {
    window.localStorage.setItem(STORE_KEY, JSON.stringify(entries));
  } catch {
    // Storage refused (private browsing, full): the strip lasts as long as this page.
  }
  keepOwners(entries.map((entry) => entry.id));
}

function drop(jobId) {
  entries = entries.filter((entry) => entry.id !== jobId);
  answers.delete(jobId);
  store();
}

function finished(job) {
  return job.status === "succeeded" && job.result && typeof job.result.url === "string";
}

/** A picture's small copy for its tile (a dozen full-size results would each be fetched and
 *  decoded whole); the picture itself for a job painted before the API made them. */
function thumbnailOf(result) {
  return typeof result.thumbnail_url === "string" ? result.thumbnail_url : result.url;
}

/** What the tile says about a job: its styles' names, from what the job asked. */
function describe(job, number) {
  const names = askedOfJob(job).styles.map((style) => style.name).filter(Boolean);
  return `Picture ${number}${names.length ? `: ${names.join(" + ")}` : ""}`;
}

/** Fetches a fresh answer for `jobId` (new links); null if the API no longer has the job. */
async function refresh(jobId) {
  try {
    const job = await api.job(jobId);
    answers.set(jobId, job);
    return job;
  } catch (error) {
    if (!error.retryable) drop(jobId);
    return null;
  }
}

/** Saves a job's picture under its own name: the bytes fetched with a fresh link, or the link opened. */
async function download(jobId) {
  const job = await refresh(jobId);
  if (!job || !finished(job)) {
    render();
    return;
  }
  try {
    const href = await localCopy(job.result.url);
    const link = el("a", { href, download: downloadName(jobId, job.result.format), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
  } catch {
    window.open(job.result.url, "_blank", "noopener");
  }
}

function tile(entry, number) {
  const job = answers.get(entry.id);
  const label = describe(job, number);
  const labelId = `strip-label-${entry.id}`;
  const show = el("button", {
    type: "button",
    class: "strip-view",
    "data-testid": "strip-view",
    "aria-label": `Show ${label}`,
    "aria-current": entry.id === current ? "true" : null,
  });
  show.addEventListener("click", () => view(entry.id));
  const caption = el("span", { id: labelId, class: "strip-label", "data-testid": "strip-label", text: label });
  const actions = el("div", { class: "strip-actions", "data-testid": "strip-actions" });
  const item = el(
    "li",
    { class: "strip-item", "data-testid": "strip-item", "data-job-id": entry.id },
    show,
    caption,
    actions,
  );
  if (!finished(job)) {
    show.append(el("span", { class: "strip-thumb strip-pending", text: "Painting…" }));
    if (ownerToken(entry.id)) actions.append(deleteButton(entry.id, label));
    return item;
  }
  const img = isClipResult(job.result)
    ? el("video", { src: job.result.url, class: "strip-thumb", muted: true, preload: "metadata", "aria-hidden": "true" })
    : el("img", { src: thumbnailOf(job.result), alt: "", class: "strip-thumb", decoding: "async" });
  // An hour-old link: ask once for a fresh one.
  img.addEventListener(
    "error",
    async () => {
      const fresh = await refresh(entry.id);
      if (fresh && finished(fresh)) {
        img.src = isClipResult(fresh.result) ? fresh.result.url : thumbnailOf(fresh.result);
      }
    },
    { once: true },
  );
  show.append(img);
  const save = el("button", {
    type: "button",
    class: "btn btn-sm btn-outline-secondary strip-download",
    "data-testid": "strip-download",
    "aria-label": `Download ${label}`,
    text: "Download",
  });
  save.addEventListener("click", () => download(entry.id));
  actions.append(save);
  if (ownerToken(entry.id)) actions.append(deleteButton(entry.id, label));
  return item;
}

function deleteButton(jobId, label) {
  const button = el("button", {
    type: "button",
    class: "btn btn-sm btn-outline-danger strip-delete",
    "data-testid": "strip-delete",
    "aria-label": `Delete ${label}`,
    text: "Delete",
  });
  button.addEventListener("click", async () => {
    button.disabled = true;
    if (!(await remove(jobId))) button.disabled = false;
  });
  return button;
}

function render() {
  const shown = entries.filter((entry) => answers.has(entry.id));
  const count = shown.length;
  ui.list.replaceChildren(...shown.map((entry, index) => tile(entry, count - index)));
  ui.panel.hidden = count === 0;
}

/**
 * Draws the strip from what this browser kept, asking `client` about each job; `onView(jobId)` is
 * called when a thumbnail is chosen, `onDelete(jobId)` (resolving to whether it deleted the job)
 * when its Delete button is pressed.
 */
export async function setupStrip(client, onView, onDelete = async () => false) {
  api = client;
  view = onView;
  remove = onDelete;
  entries = stored().slice(0, MAX_ITEMS);
  await Promise.all(entries.map((entry) => refresh(entry.id)));
  for (const [jobId, job] of answers) if (job.status === "failed") drop(jobId);
  render();
}

/** Whether `jobId` is one of the jobs this browser sent (its photo is then the person's own). */
export function isVisitJob(jobId) {
  return entries.some((entry) => entry.id === jobId);
}

/** Keeps `jobId` in the strip (a job this browser just sent). */
export function rememberJob(jobId) {
  if (entries.some((entry) => entry.id === jobId)) return;
  entries = [{ id: jobId, at: Date.now() }, ...entries].slice(0, MAX_ITEMS);
  for (const known of answers.keys()) if (!entries.some((entry) => entry.id === known)) answers.delete(known);
  store();
}

/** Takes in a new answer about a job of the strip; redraws only when its tile would change. */
export function updateJob(job) {
  if (!entries.some((entry) => entry.id === job.job_id)) return;
  if (job.status === "failed") {
    drop(job.job_id);
    render();
    return;
  }
  const before = answers.get(job.job_id);
  if (before && finished(before) === finished(job)) return; // a fresh link alone: keep the picture shown
  answers.set(job.job_id, job);
  render();
}

/** Takes `jobId` out of the strip (it was deleted). */
export function forgetJobOfStrip(jobId) {
  drop(jobId);
  render();
}

/** Marks the job on screen (or none). */
export function markShown(jobId) {
  current = jobId;
  render();
}
