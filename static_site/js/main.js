// The StyleMixer page: choose a photo and styles, upload straight to storage, create a job, follow
// it, show the result. This module only wires the others together: each owns its part of the page.
import { Api, loadConfig } from "./api.js";
import { byId } from "./dom.js";
import { forgetJob, jobInAddress, resumeJob, setupFlow } from "./flow.js";
import { clearError, messageOf, showError } from "./messages.js";
import { resetOptions, setupOptions } from "./options.js";
import { focusPhotoInput, resetPhoto, setupPhoto } from "./photo.js";
import { showPanel } from "./progress.js";
import { resetResult } from "./result.js";
import { loadGallery, resetStyles, setupStyles } from "./styles.js";

const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

const form = byId("job-form");

function fillLimits(config) {
  for (const node of document.querySelectorAll("[data-limit]")) {
    const name = node.dataset.limit;
    if (name === "max_upload_mb") node.textContent = String(Math.round(config.max_upload_bytes / (1024 * 1024)));
    else if (name in config) node.textContent = String(config[name]);
  }
}

function startAgain() {
  forgetJob();
  clearError();
  form.reset();
  resetPhoto();
  resetStyles();
  resetOptions();
  resetResult();
  document.title = "StyleMixer";
  showPanel("form");
  focusPhotoInput();
}

async function start() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    byId("loading").hidden = true;
    showError(messageOf(error));
    return;
  }
  const api = new Api(config.api_base_url);
  fillLimits(config);
  setupPhoto(config);
  setupStyles(config);
  setupOptions();
  setupFlow(form, api, config);
  byId("again").addEventListener("click", startAgain);
  byId("loading").hidden = true;

  const gallery = loadGallery(api);
  const jobId = jobInAddress();
  if (jobId && JOB_ID_PATTERN.test(jobId)) {
    await resumeJob(jobId);
  } else {
    if (jobId) showError("The job link in the address bar is not valid. Start a new job below.");
    showPanel("form");
  }
  await gallery;
}

start();
