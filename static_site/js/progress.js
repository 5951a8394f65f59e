// The three panels (form, progress, result) and the two progress bars: the upload's, measured in
// bytes sent, and the job's, as the worker reports it. Before the job reports any progress its bar
// moves without a figure (not a stuck "0%"), and a job that ends between two polls is seen to reach
// 100% before its picture replaces the panel; meanwhile the picture's small copy shows under the bar.
import { byId } from "./dom.js";
import { describeStage } from "./job.js";
import { announce } from "./messages.js";

const ui = {
  form: byId("job-form"),
  progressPanel: byId("progress-panel"),
  progressHeading: byId("progress-heading"),
  resultPanel: byId("result-panel"),
  uploadBlock: byId("upload-block"),
  uploadLabel: byId("upload-label"),
  uploadPercent: byId("upload-percent"),
  uploadProgress: byId("upload-progress"),
  uploadBar: byId("upload-bar"),
  stage: byId("stage"),
  jobPercent: byId("job-percent"),
  jobProgress: byId("job-progress"),
  jobBar: byId("job-bar"),
  paintedPreview: byId("painted-preview"),
  cancel: byId("cancel"),
};

function setBar(progressEl, barEl, percentEl, percent, text) {
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  progressEl.setAttribute("aria-valuenow", String(value));
  if (text) progressEl.setAttribute("aria-valuetext", `${value}%, ${text}`);
  barEl.style.width = `${value}%`;
  percentEl.textContent = `${value}%`;
}

/** Shows one of "form", "progress" and "result", and hides the others. */
export function showPanel(panel) {
  ui.form.hidden = panel !== "form";
  ui.progressPanel.hidden = panel !== "progress";
  ui.resultPanel.hidden = panel !== "result";
  if (panel !== "progress") hidePaintedPreview();
}

function hidePaintedPreview() {
  ui.paintedPreview.hidden = true;
  ui.paintedPreview.removeAttribute("src");
  ui.cancel.hidden = false;
}

// A small copy that cannot be loaded leaves no broken picture: the full one follows regardless.
ui.paintedPreview.addEventListener("error", hidePaintedPreview);

/**
 * A finished job's small copy (`url`, the API's `thumbnail_url`), shown in the progress panel while
 * the full-size picture downloads: a 50-megapixel result can take seconds on a phone's connection,
 * and a full bar with nothing under it looks stuck. Nothing is shown without one (a clip).
 */
export function showPaintedPreview(url) {
  if (typeof url !== "string") return;
  ui.paintedPreview.src = url;
  ui.paintedPreview.hidden = false;
  ui.cancel.hidden = true; // the job is done: nothing is left to cancel
  ui.stage.textContent = "Done; loading the picture at full size…";
}

/** Empties both bars and shows the progress panel, its heading focused, before anything is sent. */
export function startProgress() {
  hidePaintedPreview();
  setUploadProgress(0);
  showJobProgress({ status: "queued", progress: 0 });
  ui.stage.textContent = "Waiting for the upload";
  showPanel("progress");
  ui.progressHeading.focus();
}

/** Shows (or hides) the upload bar, for the number of files about to be sent. */
export function showUploadBlock(visible) {
  ui.uploadBlock.hidden = !visible;
}

/** Says what is happening before the job's own stages start, aloud too. */
export function showStage(words) {
  ui.stage.textContent = words;
  announce(words);
}

/** Names what is being uploaded, aloud too. */
export function setUploadLabel(label) {
  ui.uploadLabel.textContent = label;
  announce(label);
}

export function setUploadProgress(percent, text) {
  setBar(ui.uploadProgress, ui.uploadBar, ui.uploadPercent, percent, text);
}

/** The upload bar, full. */
export function uploadDone() {
  ui.uploadLabel.textContent = "Uploaded";
  setUploadProgress(100, "uploaded");
}

/** How long a bar that jumped to 100% is left to be seen full. */
const FULL_BAR_MS = 450;
let shownPercent = 0;

/** Shows a job's stage and progress, in the bar, the page's title and the live region. */
export function showJobProgress(job) {
  const words = describeStage(job);
  const percent = job.status === "succeeded" ? 100 : Number(job.progress) || 0;
  const waiting = percent <= 0 && job.status !== "failed";
  ui.stage.textContent = words;
  setBar(ui.jobProgress, ui.jobBar, ui.jobPercent, percent, words);
  ui.jobProgress.classList.toggle("progress-waiting", waiting);
  if (waiting) ui.jobPercent.textContent = "";
  document.title = waiting ? "Working · StyleMixer" : `${Math.round(percent)}% · StyleMixer`;
  announce(words);
  shownPercent = percent;
}

/** Before a finished job's picture is shown: its bar full, seen for a moment if it was far from it. */
export function finishProgress(job) {
  const jumped = shownPercent < 90;
  showJobProgress({ ...job, status: "succeeded", progress: 100 });
  return new Promise((resolve) => {
    setTimeout(resolve, jumped ? FULL_BAR_MS : 0);
  });
}

/** Says that polling met trouble (or was told to wait: `error.status` 429 or 503) and when it asks again. */
export function showRetry(delayMs, error) {
  const busy = error && (error.status === 429 || error.status === 503);
  const words = `${busy ? "StyleMixer is busy" : "Connection trouble"}; trying again in ${Math.round(delayMs / 1000)} s.`;
  ui.stage.textContent = words;
  announce(words);
}
