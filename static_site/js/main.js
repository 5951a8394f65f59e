// The StyleMixer page: choose a photo and styles, upload straight to storage, create a job, follow
// it, show the result. This module only wires the others together: each owns its part of the page.
import { tryOtherStyles } from "./again.js";
import { Api, loadConfig } from "./api.js";
import { onChoicesChanged } from "./changes.js";
import { setupCamera } from "./camera.js";
import { deletableShown, deleteJob, setupDeleting } from "./deleting.js";
import { byId } from "./dom.js";
import { setupDownsize } from "./downsize.js";
import { resultChanged, setupEditing } from "./editing.js";
import { acceptedNames } from "./files.js";
import { cancelSending, forgetJob, jobInAddress, resumeJob, setupFlow } from "./flow.js";
import { showKept } from "./kept.js";
import { setupLayout } from "./layout.js";
import { clearError, messageOf, showError } from "./messages.js";
import { resetOptions, setupOptions } from "./options.js";
import { ownerToken, rememberOwner } from "./owners.js";
import { chosenPhoto, focusPhotoInput, resetPhoto, setupPhoto } from "./photo.js";
import { showPanel } from "./progress.js";
import { resetResult } from "./result.js";
import { stopWaiting } from "./resend.js";
import { readRules } from "./rules.js";
import { setupSendForm } from "./sendform.js";
import { forgetJobOfStrip, isVisitJob, markShown, rememberJob, setupStrip, updateJob } from "./strip.js";
import { loadGallery, presetThumbnails, resetStyles, setupStyles } from "./styles.js";
import { setupSummary } from "./summary.js";

const form = byId("job-form");
let preview = null; // Promise of ./preview/preview.js's preview, loaded once a photo and a style are chosen

/**
 * The instant preview follows every change; its code and models load only once there is a photo to
 * paint (the gallery's thumbnails of it first, the preview once a style is chosen).
 */
function followChoices(strokeRule) {
  onChoicesChanged(() => {
    if (!preview && !chosenPhoto()) return;
    preview ??= import("./preview/preview.js")
      .then((module) => module.startPreview(presetThumbnails, strokeRule))
      .catch(() => null);
    preview.then((shown) => shown && shown.refresh());
  });
}

/** Writes the limits into the page's help texts (`<span data-limit="…">`). */
function fillLimits(config, rules) {
  const limits = {
    accepted_names: acceptedNames(config),
    max_upload_mb: Math.round(config.max_upload_bytes / (1024 * 1024)),
    max_styles: rules.maxStyles,
    max_clip_seconds: config.clips ? config.clips.max_seconds : "",
  };
  for (const node of document.querySelectorAll("[data-limit]")) {
    const name = node.dataset.limit;
    if (name in limits) node.textContent = String(limits[name]);
  }
}

function startAgain() {
  stopWaiting();
  forgetJob();
  clearError();
  form.reset();
  resetPhoto();
  resetStyles();
  resetOptions();
  resetResult();
  resultChanged(null);
  deletableShown(null);
  markShown(null);
  document.title = "StyleMixer";
  showPanel("form");
  focusPhotoInput();
}

async function start() {
  let config;
  let rules;
  try {
    config = await loadConfig();
    rules = readRules(config);
    setupStyles(config, rules);
    setupOptions(rules);
  } catch (error) {
    byId("loading").hidden = true;
    showError(messageOf(error));
    return;
  }
  const api = new Api(config.api_base_url, rules.isId, ownerToken);
  fillLimits(config, rules);
  showKept(config);
  setupLayout();
  setupPhoto(config);
  setupDownsize(config);
  setupCamera(form);
  setupSummary();
  // Only the jobs this browser sent join its strip, with their owner tokens; a link someone shared
  // is shown, not kept as ours.
  setupFlow(api, config, {
    created(jobId, token) {
      rememberOwner(jobId, token);
      rememberJob(jobId);
    },
    update: updateJob,
    own: isVisitJob,
    shown(job) {
      updateJob(job);
      markShown(job.job_id);
      resultChanged(job);
      deletableShown(job);
    },
  });
  setupDeleting(api, (jobId) => {
    forgetJobOfStrip(jobId);
    if (jobInAddress() === jobId) startAgain();
  });
  setupSendForm(form);
  byId("cancel").addEventListener("click", cancelSending);
  setupEditing(api, rules.optionNames, config.regions_map);
  byId("again").addEventListener("click", startAgain);
  const tryOther = byId("try-other");
  tryOther.addEventListener("click", () => {
    markShown(null);
    resultChanged(null);
    deletableShown(null);
    tryOtherStyles(tryOther);
  });
  followChoices(config.stroke || null);
  byId("loading").hidden = true;

  const gallery = loadGallery(api);
  // A picture chosen from the strip: a form waiting for the connection to send itself stops waiting.
  const strip = setupStrip(
    api,
    (jobId) => {
      stopWaiting();
      return resumeJob(jobId);
    },
    deleteJob,
  );
  const jobId = jobInAddress();
  if (jobId && rules.isId(jobId)) {
    await resumeJob(jobId);
  } else {
    if (jobId) showError("The job link in the address bar is not valid. Start a new job below.");
    showPanel("form");
  }
  await Promise.all([gallery, strip]);
}

start();
