// One job from the button to the picture: check the form, upload the pictures straight to storage
// (or name again the uploads an earlier try of this visit made), create the job, keep its id in the
// address bar (?job=…, so a reload resumes it), follow it, show the result. This module owns the job
// in flight and the answer about the job on screen.
import { ApiError } from "./api.js";
import { askedOfJob, showAsked } from "./asked.js";
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
  showStage,
  showUploadBlock,
  startProgress,
  uploadDone,
} from "./progress.js";
import { showResult } from "./result.js";
import { forgetUploads, GONE_UPLOAD_CODES, rememberUpload, reusableUpload } from "./reuse.js";
import {
  chosenStyles,
  focusMixMode,
  mixProblem,
  paintingsToUpload,
  styleCount,
  stylesRequest,
} from "./styles.js";
import { postToStorage } from "./upload.js";

const submitButton = byId("submit");

let api = null;
let pollConfig = {};
let follower = null;
let busy = false;
let hooks = { created() {}, update() {}, shown() {} };
let shown = null; // the latest answer about the job on screen (GET /jobs/{id}): what it asked, its result
let lastSent = null; // the id of the last job this form sent
let shownOriginal = null; // the photo in hand the result on screen is compared with, or null

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

/**
 * Sends `items` ([{purpose, type, file, label, sent?}]) to storage one after another, the progress
 * bar counting their bytes together; `sent(answer)` hears of each as soon as storage has it.
 * Resolves to POST /uploads' answers ({upload_id, usable_until, ...}), in order.
 */
export async function sendFiles(items) {
  const total = items.reduce((sum, item) => sum + item.file.size, 0) || 1;
  let doneBytes = 0;
  const answers = [];
  showUploadBlock(items.length > 0);
  for (const { purpose, type, file, label, sent } of items) {
    setUploadLabel(label);
    const presigned = await api.createUpload(purpose, type, file.size);
    await postToStorage(presigned, file, (bytes) => setUploadProgress((100 * (doneBytes + bytes)) / total, label));
    doneBytes += file.size;
    if (sent) sent(presigned);
    answers.push(presigned);
  }
  if (items.length > 0) uploadDone();
  return answers;
}

/**
 * Uploads the photo, then each painting, except those an earlier try already sent; resolves to
 * their upload ids in that order, and whether any was named again rather than sent.
 */
async function uploadAll(photo, paintings) {
  const images = [photo, ...paintings];
  const ids = images.map((image) => reusableUpload(image));
  const toSend = images.map((_, index) => index).filter((index) => ids[index] === null);
  if (toSend.length === 0) showStage("Using the pictures you already sent");
  await sendFiles(
    toSend.map((index, position) => ({
      purpose: index ? "style" : "content",
      type: images[index].type,
      file: images[index].file,
      label:
        toSend.length > 1
          ? `Uploading picture ${position + 1} of ${toSend.length}`
          : `Uploading your ${index ? "painting" : "photo"}`,
      sent(presigned) {
        rememberUpload(images[index], presigned.upload_id, presigned.usable_until);
        ids[index] = presigned.upload_id;
      },
    })),
  );
  return { ids, reused: toSend.length < images.length };
}

function jobRequest([contentId, ...styleUploadIds]) {
  return { content: contentId, ...stylesRequest(styleUploadIds), ...optionsRequest() };
}

/** Sends the pictures that need sending and creates the job; sends them again if the API says an earlier upload is gone. */
async function createJob(photo, paintings) {
  const { ids, reused } = await uploadAll(photo, paintings);
  try {
    return await api.createJob(jobRequest(ids));
  } catch (error) {
    if (!reused || !GONE_UPLOAD_CODES.has(error.code)) throw error;
    forgetUploads([photo, ...paintings]);
    showStage("Your pictures were sent a while ago and are no longer kept: sending them again");
    return api.createJob(jobRequest((await uploadAll(photo, paintings)).ids));
  }
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
  const photo = chosenPhoto();
  startProgress();
  showAsked({ photo: photo.previewable ? photo.url : null, styles: chosenStyles() });
  try {
    const created = await createJob(photo, paintingsToUpload());
    lastSent = created.job_id;
    setJobInAddress(created.job_id);
    hooks.created(created.job_id, created.owner_token);
    await runJob(created.job_id, { originalUrl: photo.previewable ? photo.url : null, fromForm: true });
  } catch (error) {
    showPanel("form");
    showError(messageOf(error));
  } finally {
    busy = false;
    submitButton.disabled = false;
  }
}

/**
 * Follows `jobId` to its end and shows its picture; rejects with an ApiError if it failed. A job sent
 * `fromForm` is described by the form's choices; any other by the API's first answer.
 */
async function runJob(jobId, { originalUrl = null, fromForm = false } = {}) {
  showPanel("progress");
  if (follower) follower.cancel();
  if (!fromForm) showAsked({ photo: null, styles: [] });
  let described = fromForm;
  follower = followJob(api, jobId, {
    config: pollConfig,
    onUpdate(job) {
      shown = job;
      showJobProgress(job);
      if (!described && job.request) {
        described = true;
        showAsked(askedOfJob(job));
      }
      hooks.update(job);
    },
    onRetry: (error, delay) => showRetry(delay, error),
  });
  const job = await follower.done;
  if (job.status === "failed") {
    const message =
      job.error && typeof job.error.message === "string" && job.error.message
        ? job.error.message
        : "The picture could not be made. Please try again, perhaps with another photo or style.";
    throw new ApiError(message, { code: (job.error && job.error.code) || "JobFailed" });
  }
  await showResult(job, { api, originalUrl });
  shownOriginal = originalUrl;
  hooks.shown(job);
}

/**
 * Sends the form through `client` when it is submitted; `config`'s `poll_*` pace the polls.
 * `on.created(jobId, ownerToken)`, `on.update(job)` and `on.shown(job)` hear of each job sent, each
 * answer about it, and each picture shown.
 */
export function setupFlow(form, client, config, on = {}) {
  api = client;
  pollConfig = config;
  hooks = { ...hooks, ...on };
  form.addEventListener("submit", submit);
}

/** Follows a job opened from a link or the strip (no photo in hand: the API's answer shows it); errors are shown. */
export async function resumeJob(jobId) {
  if (busy) return;
  clearError();
  setJobInAddress(jobId);
  try {
    await runJob(jobId);
  } catch (error) {
    showPanel("form");
    showError(messageOf(error));
  }
}

/**
 * Sends another job from the result on screen: `create()` uploads what it needs and answers
 * POST /jobs. It is followed and shown as any other (the strip hears of it). If it is refused or
 * fails, the result on screen comes back as it was, with the reason; resolves to whether it worked.
 */
export async function sendFromResult(create) {
  if (busy || !shown) return false;
  const before = { job: shown, sent: lastSent, original: shownOriginal };
  busy = true;
  clearError();
  startProgress();
  showAsked({ ...askedOfJob(before.job), photo: before.original || askedOfJob(before.job).photo });
  try {
    const created = await create();
    lastSent = created.job_id;
    setJobInAddress(created.job_id);
    hooks.created(created.job_id, created.owner_token);
    await runJob(created.job_id, { originalUrl: before.original, fromForm: true });
    return true;
  } catch (error) {
    if (follower) follower.cancel();
    shown = before.job;
    lastSent = before.sent;
    setJobInAddress(before.job.job_id);
    document.title = "Done · StyleMixer";
    showPanel("result");
    showError(messageOf(error));
    return false;
  } finally {
    busy = false;
  }
}

/** The latest answer about the job on screen (with what it asked), and whether this form sent it. */
export function shownJob() {
  return { job: shown, sentHere: Boolean(shown) && shown.job_id === lastSent };
}

/** A minute's margin before an answer's links lapse (they live 15 minutes). */
const LINK_MARGIN_MS = 60 * 1000;

/** As shownJob(), asking the API again first when the answer's links have lapsed (or are about to). */
export async function freshShownJob() {
  const lapses = shown && Date.parse(shown.links_expire_at);
  if (shown && Number.isFinite(lapses) && Date.now() > lapses - LINK_MARGIN_MS) {
    try {
      shown = await api.job(shown.job_id);
    } catch {
      // Keep the answer we have: its links may still work, and the caller says if they do not.
    }
  }
  return shownJob();
}

/** Stops following the job and takes its id out of the address bar. */
export function forgetJob() {
  if (follower) follower.cancel();
  setJobInAddress(null);
}
