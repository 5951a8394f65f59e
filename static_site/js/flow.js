// One job from the button to the picture: check the form, upload the pictures straight to storage,
// create the job, keep its id in the address bar (?job=…, so a reload resumes it), follow it, show
// the result. This module owns the job in flight.
import { ApiError } from "./api.js";
import { byId } from "./dom.js";
import { followJob } from "./job.js";
import { clearError, messageOf, showError } from "./messages.js";
import { optionsRequest } from "./options.js";
import { chosenPhoto, focusPhotoInput } from "./photo.js";
import {
  setUploadLabel,
  setUploadProgress,
  showJobProgress,
  showPanel,
  showRetry,
  showUploadBlock,
  startProgress,
  uploadDone,
} from "./progress.js";
import { showResult } from "./result.js";
import { focusMixMode, mixProblem, paintingsToUpload, styleCount, styleNames, stylesRequest } from "./styles.js";
import { postToStorage } from "./upload.js";

const submitButton = byId("submit");

let api = null;
let pollIntervalMs = 1000;
let follower = null;
let busy = false;

/** The job id in the address bar, or null. */
export function jobInAddress() {
  return new URL(window.location.href).searchParams.get("job");
}

function setJobInAddress(jobId) {
  const url = new URL(window.location.href);
  if (jobId) url.searchParams.set("job", jobId);
  else url.searchParams.delete("job");
  window.history.replaceState(null, "", url);
}

/** Uploads the photo, then each painting; resolves to their upload ids in that order. */
async function uploadAll(photo, paintings) {
  const images = [photo, ...paintings];
  const purposes = ["content", ...paintings.map(() => "style")];
  const total = images.reduce((sum, image) => sum + image.file.size, 0) || 1;
  let doneBytes = 0;
  const ids = [];
  showUploadBlock(images.length > 0);
  for (const [index, image] of images.entries()) {
    const label = images.length > 1 ? `Uploading picture ${index + 1} of ${images.length}` : "Uploading your photo";
    setUploadLabel(label);
    const presigned = await api.createUpload(purposes[index], image.type, image.file.size);
    await postToStorage(presigned, image.file, (sent) =>
      setUploadProgress((100 * (doneBytes + sent)) / total, label),
    );
    doneBytes += image.file.size;
    ids.push(presigned.upload_id);
  }
  uploadDone();
  return ids;
}

/** Why the form cannot be sent as it is (and where to look), or null. */
function formProblem() {
  if (!chosenPhoto()) return { message: "Choose a photo first.", focus: focusPhotoInput };
  if (styleCount() === 0) {
    return { message: "Choose at least one style: a preset from the gallery or a painting of your own." };
  }
  const mix = mixProblem();
  return mix ? { message: mix, focus: focusMixMode } : null;
}

async function submit(event) {
  event.preventDefault();
  if (busy) return;
  clearError();
  const problem = formProblem();
  if (problem) {
    showError(problem.message);
    if (problem.focus) problem.focus();
    return;
  }
  busy = true;
  submitButton.disabled = true;
  startProgress();
  try {
    const photo = chosenPhoto();
    const [contentId, ...styleUploadIds] = await uploadAll(photo, paintingsToUpload());
    const created = await api.createJob({ content: contentId, ...stylesRequest(styleUploadIds), ...optionsRequest() });
    setJobInAddress(created.job_id);
    await runJob(created.job_id, photo.previewable ? photo.url : null, styleNames());
  } catch (error) {
    showPanel("form");
    showError(messageOf(error));
  } finally {
    busy = false;
    submitButton.disabled = false;
  }
}

/** Follows `jobId` to its end and shows its picture; rejects with an ApiError if it failed. */
async function runJob(jobId, originalUrl, names) {
  showPanel("progress");
  if (follower) follower.cancel();
  follower = followJob(api, jobId, {
    intervalMs: pollIntervalMs,
    onUpdate: showJobProgress,
    onRetry: (error, delay) => showRetry(delay),
  });
  const job = await follower.done;
  if (job.status === "failed") {
    const message =
      job.error && typeof job.error.message === "string" && job.error.message
        ? job.error.message
        : "The picture could not be made. Please try again, perhaps with another photo or style.";
    throw new ApiError(message, { code: (job.error && job.error.code) || "JobFailed" });
  }
  await showResult(job, { api, originalUrl, styleNames: names });
}

/** Sends the form through `client` when it is submitted; `config.poll_interval_ms` paces the polls. */
export function setupFlow(form, client, config) {
  api = client;
  pollIntervalMs = config.poll_interval_ms || 1000;
  form.addEventListener("submit", submit);
}

/** Follows a job opened from a link (no photo or style names known here); errors are shown. */
export async function resumeJob(jobId) {
  try {
    await runJob(jobId, null, []);
  } catch (error) {
    showPanel("form");
    showError(messageOf(error));
  }
}

/** Stops following the job and takes its id out of the address bar. */
export function forgetJob() {
  if (follower) follower.cancel();
  setJobInAddress(null);
}
