// One job from its sending to the picture: send the files straight to storage, create the job (what
// to send is the caller's: the form, sendform.js; "Paint again", mapedit/send.js), keep its id in the
// address bar (?job=…, so a reload resumes it), follow it, show the result. This module owns the job
// in flight and the answer about the job on screen. Cancel stops an upload (nothing is queued) or,
// once the job is sent, stops waiting for it.
import { ApiError } from "./api.js";
import { askedOfJob, showAsked } from "./asked.js";
import { showPaintingNote } from "./downsize.js";
import { followJob } from "./job.js";
import { clearError, messageOf, showError } from "./messages.js";
import {
  finishProgress,
  setUploadLabel,
  setUploadProgress,
  showJobProgress,
  showPaintedPreview,
  showPanel,
  showRetry,
  showUploadBlock,
  startProgress,
  uploadDone,
} from "./progress.js";
import { showResult } from "./result.js";
import { postToStorage } from "./upload.js";

const STOPPED_WAITING =
  "Stopped waiting. The picture is still being painted: it will be in your pictures below when it is ready.";

let api = null;
let pollConfig = {};
let follower = null;
let busy = false;
let hooks = { created() {}, update() {}, shown() {}, own: () => false };
let shown = null; // the latest answer about the job on screen (GET /jobs/{id}): what it asked, its result
let lastSent = null; // the id of the last job this form sent
let shownOriginal = null; // the photo in hand the result on screen is compared with, or null
let sending = null; // the job being sent: {abort: AbortController, created: boolean}

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
export async function sendFiles(items, signal = null) {
  const total = items.reduce((sum, item) => sum + item.file.size, 0) || 1;
  let doneBytes = 0;
  const answers = [];
  showUploadBlock(items.length > 0);
  for (const { purpose, type, file, label, sent } of items) {
    setUploadLabel(label);
    const presigned = await api.createUpload(purpose, type, file.size);
    const progress = (bytes) => setUploadProgress((100 * (doneBytes + bytes)) / total, label);
    await postToStorage(presigned, file, progress, signal);
    doneBytes += file.size;
    if (sent) sent(presigned);
    answers.push(presigned);
  }
  if (items.length > 0) uploadDone();
  return answers;
}

/**
 * Sends a new job from the form: `create(signal)` uploads what it needs and answers POST /jobs (it
 * stops when `signal` is aborted); the job is followed and shown with `originalUrl` as its before
 * picture. Rejects with an ApiError: what went wrong, or "StoppedWaiting" (see `stoppedWaiting`).
 * Resolves to false, sending nothing, while another job is being sent.
 */
export async function sendNew(create, { originalUrl = null, asked }) {
  if (busy) return false;
  busy = true;
  sending = { abort: new AbortController(), created: false };
  const { signal } = sending.abort;
  startProgress();
  showAsked(asked);
  try {
    const created = await create(signal);
    sending.created = true;
    lastSent = created.job_id;
    setJobInAddress(created.job_id);
    hooks.created(created.job_id, created.owner_token);
    if (signal.aborted) throw new ApiError(STOPPED_WAITING, { code: "StoppedWaiting" });
    await runJob(created.job_id, { originalUrl, fromForm: true });
    return true;
  } finally {
    busy = false;
    sending = null;
  }
}

/** Back at the form after Cancel once the job was sent: it goes on, and will be in the strip. */
export function stoppedWaiting() {
  setJobInAddress(null);
  showPanel("form");
  showError(STOPPED_WAITING, { near: "action" });
}

function stopFollowing() {
  if (!follower) return;
  follower.cancel();
  follower.stop(new ApiError(STOPPED_WAITING, { code: "StoppedWaiting" }));
}

/**
 * Cancel on the progress panel: an upload in flight is stopped and nothing is queued; a job already
 * sent goes on, and the page stops waiting for it (it stays in the visit's pictures).
 */
export function cancelSending() {
  if (sending) sending.abort.abort();
  if (!sending || sending.created) stopFollowing();
}

/**
 * Follows `jobId` to its end and shows its picture; rejects with an ApiError if it failed. A job sent
 * `fromForm` is described by the form's choices; any other by the API's first answer.
 */
async function runJob(jobId, { originalUrl = null, fromForm = false } = {}) {
  showPanel("progress");
  if (follower) follower.cancel();
  if (!fromForm) {
    showAsked({ photo: null, styles: [] });
    showPaintingNote(null); // an earlier job's, until this one's answer says
  }
  const own = fromForm || hooks.own(jobId);
  let described = fromForm;
  const following = followJob(api, jobId, {
    config: pollConfig,
    onUpdate(job) {
      shown = job;
      showJobProgress(job);
      if (!described && job.request) {
        described = true;
        const asked = askedOfJob(job);
        showAsked(own ? asked : { ...asked, photo: null }); // someone else's photo is not shown
        showPaintingNote(job); // painted smaller than the photo: said from the job's own answer
      }
      hooks.update(job);
    },
    onRetry: (error, delay) => showRetry(delay, error),
  });
  follower = stoppable(following);
  const job = await follower.done;
  if (job.status === "failed") {
    const message =
      job.error && typeof job.error.message === "string" && job.error.message
        ? job.error.message
        : "The picture could not be made. Please try again, perhaps with another photo or style.";
    throw new ApiError(message, { code: (job.error && job.error.code) || "JobFailed" });
  }
  await finishProgress(job);
  showPaintedPreview(job.result && job.result.thumbnail_url);
  await showResult(job, { api, originalUrl, own });
  shownOriginal = originalUrl;
  hooks.shown(job);
}

/** `following` ({done, cancel}) with `stop(error)`, which makes `done` reject with `error` at once. */
function stoppable(following) {
  let stop = () => {};
  const stopped = new Promise((_, reject) => {
    stop = reject;
  });
  return { ...following, done: Promise.race([following.done, stopped]), stop };
}

/**
 * Sends and follows jobs through `client`; `config`'s `poll_*` pace the polls (polling.js).
 * `on.created(jobId, ownerToken)`, `on.update(job)` and `on.shown(job)` hear of each job sent, each
 * answer about it, and each picture shown; `on.own(jobId)` says whether a job is one of this
 * browser's visit (its photo is shown only then).
 */
export function setupFlow(client, config, on = {}) {
  api = client;
  pollConfig = config;
  hooks = { ...hooks, ...on };
}

/** The API client jobs are sent through. */
export function flowApi() {
  return api;
}

/** Follows a job opened from a link or the strip (no photo in hand: the API's answer shows it); errors are shown. */
export async function resumeJob(jobId) {
  if (busy) return;
  clearError();
  setJobInAddress(jobId);
  try {
    await runJob(jobId);
  } catch (error) {
    if (error.code === "StoppedWaiting") {
      stoppedWaiting();
      return;
    }
    showPanel("form");
    showError(messageOf(error));
  }
}

/**
 * Sends another job from the result on screen: `create()` uploads what it needs and answers
 * POST /jobs. It is followed and shown as any other (the strip hears of it). If it is refused or
 * fails, the result on screen comes back as it was, with the reason; resolves to whether it worked.
 */
export async function sendFromResult(create, { near = "result" } = {}) {
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
    showError(messageOf(error), { near });
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
