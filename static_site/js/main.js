// The StyleMixer page: choose a photo and styles, upload straight to storage, create a job, follow
// it, show the result. The job id lives in the address bar (?job=…) so a reload resumes it.
import { Api, ApiError, loadConfig } from "./api.js";
import { setupCompare } from "./compare.js";
import { checkImageFile, FileProblem } from "./files.js";
import { el, renderChosen, renderGallery, updateShares } from "./gallery.js";
import { describeStage, followJob } from "./job.js";
import { postToStorage } from "./upload.js";

const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const DEFAULT_WEIGHT = 50;

const $ = (id) => document.getElementById(id);

const ui = {
  error: $("error"),
  loading: $("loading"),
  form: $("job-form"),
  dropzone: $("dropzone"),
  contentInput: $("content-input"),
  contentPreview: $("content-preview"),
  contentPreviewImg: $("content-preview-img"),
  contentCaption: $("content-preview-caption"),
  gallery: $("gallery"),
  galleryStatus: $("gallery-status"),
  customInput: $("custom-style-input"),
  chosen: $("chosen"),
  chosenEmpty: $("chosen-empty"),
  mixMode: $("mix-mode"),
  mixHelp: $("mix-help"),
  strength: $("strength"),
  strengthValue: $("strength-value"),
  stroke: $("stroke"),
  maxSize: $("max-size"),
  format: $("format"),
  preserveColor: $("preserve-color"),
  submit: $("submit"),
  progressPanel: $("progress-panel"),
  progressHeading: $("progress-heading"),
  uploadBlock: $("upload-block"),
  uploadLabel: $("upload-label"),
  uploadPercent: $("upload-percent"),
  uploadProgress: $("upload-progress"),
  uploadBar: $("upload-bar"),
  stage: $("stage"),
  jobPercent: $("job-percent"),
  jobProgress: $("job-progress"),
  jobBar: $("job-bar"),
  statusLive: $("status-live"),
  resultPanel: $("result-panel"),
  resultHeading: $("result-heading"),
  resultImage: $("result-image"),
  resultCaption: $("result-caption"),
  regionsFigure: $("regions-figure"),
  regionsImage: $("regions-image"),
  regionsLegend: $("regions-legend"),
  download: $("download"),
  again: $("again"),
};

const previewUi = {
  figure: $("style-preview"),
  canvas: $("style-preview-canvas"),
  note: $("style-preview-note"),
  caption: $("style-preview-caption"),
};

const compare = setupCompare({
  container: $("compare"),
  before: $("before-image"),
  divider: $("compare-divider"),
  control: $("compare-control"),
  range: $("compare-range"),
  tag: $("compare-tag-before"),
});

const state = {
  config: null,
  api: null,
  content: null, // {file, type, url, width, height}
  chosen: [], // [{key, kind: "preset"|"upload", id?, name, thumb, image?, weight}]
  gallery: null,
  follower: null,
  busy: false,
  nextKey: 1,
  lastAnnounced: "",
  downloadUrl: null,
  preview: null, // the instant preview (./preview/preview.js), loaded once a photo and a style are chosen
  previewLoading: null,
};

// ---- messages -------------------------------------------------------------------------------

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
  ui.error.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function clearError() {
  ui.error.textContent = "";
  ui.error.hidden = true;
}

function messageOf(error) {
  if (error instanceof ApiError || error instanceof FileProblem) return error.message;
  return "Something went wrong in this page. Please reload it and try again.";
}

function announce(text) {
  if (text === state.lastAnnounced) return;
  state.lastAnnounced = text;
  ui.statusLive.textContent = text;
}

// ---- the photo ------------------------------------------------------------------------------

async function chooseContent(file) {
  clearError();
  if (!file) return;
  try {
    const checked = await checkImageFile(file, state.config, "photo");
    if (state.content) URL.revokeObjectURL(state.content.url);
    state.content = { ...checked, key: `photo-${state.nextKey++}` };
    ui.contentPreviewImg.src = checked.url;
    ui.contentCaption.textContent = `${file.name} · ${checked.width} × ${checked.height} pixels`;
    ui.contentPreview.hidden = false;
    refreshPreview();
  } catch (error) {
    ui.contentInput.value = "";
    showError(messageOf(error));
  }
}

function setupDropzone() {
  const zone = ui.dropzone;
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dropzone-active");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dropzone-active"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dropzone-active");
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) {
      ui.contentInput.files = files;
      chooseContent(files[0]);
    }
  });
  ui.contentInput.addEventListener("change", () => chooseContent(ui.contentInput.files[0]));
}

// ---- the styles -----------------------------------------------------------------------------

function maxStyles() {
  return state.config.max_styles || 4;
}

function refuseMoreStyles() {
  ui.galleryStatus.textContent = `You can mix at most ${maxStyles()} styles. Remove one before adding another.`;
}

function togglePreset(style) {
  clearError();
  ui.galleryStatus.textContent = "";
  const index = state.chosen.findIndex((item) => item.kind === "preset" && item.id === style.id);
  if (index >= 0) {
    state.chosen.splice(index, 1);
  } else if (state.chosen.length >= maxStyles()) {
    refuseMoreStyles();
    return;
  } else {
    state.chosen.push({
      key: state.nextKey++,
      kind: "preset",
      id: style.id,
      name: style.name,
      thumb: String(style.thumbnail_url || ""),
      weight: DEFAULT_WEIGHT,
    });
  }
  renderStyles();
}

async function addCustomStyle(file) {
  clearError();
  ui.galleryStatus.textContent = "";
  if (!file) return;
  try {
    if (state.chosen.length >= maxStyles()) {
      refuseMoreStyles();
      return;
    }
    const checked = await checkImageFile(file, state.config, "painting");
    state.chosen.push({
      key: state.nextKey++,
      kind: "upload",
      name: file.name || "Your painting",
      thumb: checked.url,
      image: checked,
      weight: DEFAULT_WEIGHT,
    });
    renderStyles();
  } catch (error) {
    showError(messageOf(error));
  } finally {
    ui.customInput.value = "";
  }
}

function removeStyle(key) {
  const index = state.chosen.findIndex((item) => item.key === key);
  if (index < 0) return;
  const [item] = state.chosen.splice(index, 1);
  if (item.kind === "upload") {
    URL.revokeObjectURL(item.image.url);
    if (state.preview) state.preview.forget(`painting-${item.key}`);
  }
  ui.galleryStatus.textContent = "";
  renderStyles();
}

function renderStyles() {
  const several = state.chosen.length >= 2;
  ui.mixMode.disabled = !several;
  ui.mixHelp.textContent = several
    ? "Blend mixes the looks everywhere; Regions gives each part of the photo the style that fits it best."
    : "Choose two or more styles to mix them.";
  const showWeights = several && ui.mixMode.value === "blend";
  renderChosen(ui.chosen, state.chosen, {
    showWeights,
    onWeight(key, value) {
      const item = state.chosen.find((c) => c.key === key);
      if (item) item.weight = value;
      updateShares(ui.chosen, state.chosen);
      refreshPreview();
    },
    onRemove: removeStyle,
  });
  ui.chosenEmpty.hidden = state.chosen.length > 0;
  if (state.gallery) {
    state.gallery.sync(new Set(state.chosen.filter((c) => c.kind === "preset").map((c) => c.id)));
  }
  refreshPreview();
}

// ---- the instant preview --------------------------------------------------------------------

function previewState() {
  return {
    photo: state.content ? { key: state.content.key, file: state.content.file } : null,
    styles: state.chosen.map((item) =>
      item.kind === "preset"
        ? { kind: "preset", id: item.id, weight: item.weight }
        : { kind: "upload", key: `painting-${item.key}`, file: item.image.file, weight: item.weight },
    ),
    mix: state.chosen.length >= 2 ? ui.mixMode.value : "blend",
    strength: Number(ui.strength.value) / 100,
    preserveColor: ui.preserveColor.checked,
  };
}

/** Shows the current choice in the preview; its code is loaded the first time there is something to show. */
function refreshPreview() {
  const current = previewState();
  if (state.preview) {
    state.preview.update(current);
    return;
  }
  if (!current.photo || current.styles.length === 0 || state.previewLoading) return;
  state.previewLoading = import("./preview/preview.js")
    .then((module) => {
      state.preview = module.createPreview(previewUi);
      state.preview.update(previewState());
    })
    .catch(() => {
      // Without the preview the page works as before: nothing to tell the person.
    });
}

async function loadGallery() {
  try {
    const styles = await state.api.styles();
    state.gallery = renderGallery(ui.gallery, styles, togglePreset);
    renderStyles();
  } catch (error) {
    ui.gallery.replaceChildren(
      el("p", { class: "small text-body-secondary", text: "The preset styles could not be loaded. You can still use a painting of your own." }),
    );
    showError(messageOf(error));
  }
}

// ---- progress -------------------------------------------------------------------------------

function setBar(progressEl, barEl, percentEl, percent, text) {
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  progressEl.setAttribute("aria-valuenow", String(value));
  if (text) progressEl.setAttribute("aria-valuetext", `${value}%, ${text}`);
  barEl.style.width = `${value}%`;
  percentEl.textContent = `${value}%`;
}

function showJobProgress(job) {
  const words = describeStage(job);
  const percent = job.status === "succeeded" ? 100 : Number(job.progress) || 0;
  ui.stage.textContent = words;
  setBar(ui.jobProgress, ui.jobBar, ui.jobPercent, percent, words);
  document.title = `${Math.round(percent)}% · StyleMixer`;
  announce(words);
}

function showPanel(panel) {
  ui.form.hidden = panel !== "form";
  ui.progressPanel.hidden = panel !== "progress";
  ui.resultPanel.hidden = panel !== "result";
}

// ---- one job --------------------------------------------------------------------------------

function jobRequest(contentId, styleRefs) {
  const request = {
    content: contentId,
    styles: styleRefs,
    strength: Number(ui.strength.value) / 100,
    preserve_color: ui.preserveColor.checked,
    format: ui.format.value,
  };
  if (styleRefs.length >= 2) {
    request.mix = ui.mixMode.value;
    if (request.mix === "blend") request.weights = state.chosen.map((item) => item.weight);
  }
  if (ui.maxSize.value) request.max_size = Number(ui.maxSize.value);
  if (ui.stroke.value) request.stroke = ui.stroke.value;
  return request;
}

async function uploadAll() {
  const files = [{ purpose: "content", image: state.content }];
  for (const item of state.chosen) {
    if (item.kind === "upload") files.push({ purpose: "style", image: item.image });
  }
  const total = files.reduce((sum, f) => sum + f.image.file.size, 0) || 1;
  let doneBytes = 0;
  const ids = [];
  ui.uploadBlock.hidden = files.length === 0;
  for (const [index, { purpose, image }] of files.entries()) {
    const label = files.length > 1 ? `Uploading picture ${index + 1} of ${files.length}` : "Uploading your photo";
    ui.uploadLabel.textContent = label;
    announce(label);
    const presigned = await state.api.createUpload(purpose, image.type, image.file.size);
    await postToStorage(presigned, image.file, (sent) =>
      setBar(ui.uploadProgress, ui.uploadBar, ui.uploadPercent, (100 * (doneBytes + sent)) / total, label),
    );
    doneBytes += image.file.size;
    ids.push(presigned.upload_id);
  }
  ui.uploadLabel.textContent = "Uploaded";
  setBar(ui.uploadProgress, ui.uploadBar, ui.uploadPercent, 100, "uploaded");
  return ids;
}

async function submit(event) {
  event.preventDefault();
  if (state.busy) return;
  clearError();
  if (!state.content) {
    showError("Choose a photo first.");
    ui.contentInput.focus();
    return;
  }
  if (state.chosen.length === 0) {
    showError("Choose at least one style: a preset from the gallery or a painting of your own.");
    return;
  }
  const kinds = new Set(state.chosen.map((item) => item.kind));
  if (kinds.size > 1 && ui.mixMode.value === "blend") {
    showError(
      "A blend can combine presets with presets, or your own paintings with each other, but not both. " +
        "Choose “Regions” to combine them, or remove one kind.",
    );
    ui.mixMode.focus();
    return;
  }
  state.busy = true;
  ui.submit.disabled = true;
  setBar(ui.uploadProgress, ui.uploadBar, ui.uploadPercent, 0);
  showJobProgress({ status: "queued", progress: 0 });
  ui.stage.textContent = "Waiting for the upload";
  showPanel("progress");
  ui.progressHeading.focus();
  try {
    const [contentId, ...styleUploadIds] = await uploadAll();
    const styleRefs = state.chosen.map((item) =>
      item.kind === "preset" ? { preset: item.id } : { upload: styleUploadIds.shift() },
    );
    const created = await state.api.createJob(jobRequest(contentId, styleRefs));
    const url = new URL(window.location.href);
    url.searchParams.set("job", created.job_id);
    window.history.replaceState(null, "", url);
    await runJob(created.job_id, state.content.url);
  } catch (error) {
    showPanel("form");
    showError(messageOf(error));
  } finally {
    state.busy = false;
    ui.submit.disabled = false;
  }
}

async function runJob(jobId, originalUrl) {
  showPanel("progress");
  if (state.follower) state.follower.cancel();
  state.follower = followJob(state.api, jobId, {
    intervalMs: state.config.poll_interval_ms || 1000,
    onUpdate: showJobProgress,
    onRetry(error, delay) {
      const words = `Connection trouble; trying again in ${Math.round(delay / 1000)} s.`;
      ui.stage.textContent = words;
      announce(words);
    },
  });
  const job = await state.follower.done;
  if (job.status === "failed") {
    const message =
      job.error && typeof job.error.message === "string" && job.error.message
        ? job.error.message
        : "The picture could not be made. Please try again, perhaps with another photo or style.";
    throw new ApiError(message, { code: (job.error && job.error.code) || "JobFailed" });
  }
  await showResult(job, originalUrl);
}

function loadImage(img, src) {
  return new Promise((resolve, reject) => {
    const onLoad = () => {
      img.removeEventListener("error", onError);
      resolve();
    };
    const onError = () => {
      img.removeEventListener("load", onLoad);
      reject(new Error("image"));
    };
    img.addEventListener("load", onLoad, { once: true });
    img.addEventListener("error", onError, { once: true });
    img.src = src;
  });
}

async function showResult(job, originalUrl, retried = false) {
  const result = job.result || {};
  if (typeof result.url !== "string") {
    throw new ApiError("The job finished but its picture is missing. Please start again.", { code: "NoResult" });
  }
  try {
    await loadImage(ui.resultImage, result.url);
  } catch {
    if (!retried) {
      // The picture's link is short-lived: ask for a fresh one once.
      const fresh = await state.api.job(job.job_id);
      return showResult(fresh, originalUrl, true);
    }
    throw new ApiError("The finished picture could not be loaded. Please reload the page to try again.", {
      code: "ResultUnavailable",
    });
  }
  const format = String(result.format || "").toUpperCase();
  ui.resultCaption.textContent = `${ui.resultImage.naturalWidth} × ${ui.resultImage.naturalHeight} pixels${format ? `, ${format}` : ""}.`;
  compare.show(originalUrl);
  if (typeof result.regions_url === "string") {
    ui.regionsFigure.hidden = false;
    ui.regionsImage.src = result.regions_url;
    showLegend(originalUrl ? state.chosen : []);
  } else {
    ui.regionsFigure.hidden = true;
    ui.regionsImage.removeAttribute("src");
  }
  prepareDownload(result.url, job.job_id, result.format);
  document.title = "Done · StyleMixer";
  showPanel("result");
  announce("Your picture is ready.");
  ui.resultHeading.focus();
}

/** Names the colour of each style in the region map (known only on the page that sent the job). */
function showLegend(chosen) {
  ui.regionsLegend.replaceChildren(
    ...chosen.map((item, index) => {
      const swatch = el("span", { class: `swatch swatch-${index}`, "aria-hidden": "true" });
      return el("li", {}, swatch, el("span", { text: item.name }));
    }),
  );
  ui.regionsLegend.hidden = chosen.length === 0;
}

function prepareDownload(url, jobId, format) {
  const ext = { jpeg: "jpg", png: "png", webp: "webp" }[String(format || "").toLowerCase()] || "jpg";
  ui.download.href = url;
  ui.download.setAttribute("download", `stylemixer-${jobId}.${ext}`);
  // A cross-origin link ignores `download`; a local copy of the bytes saves the file instead of opening it.
  fetch(url, { mode: "cors" })
    .then((response) => (response.ok ? response.blob() : Promise.reject(new Error("download"))))
    .then((blob) => {
      if (state.downloadUrl) URL.revokeObjectURL(state.downloadUrl);
      state.downloadUrl = URL.createObjectURL(blob);
      ui.download.href = state.downloadUrl;
    })
    .catch(() => {
      ui.download.target = "_blank";
      ui.download.rel = "noopener";
    });
}

function startAgain() {
  if (state.follower) state.follower.cancel();
  clearError();
  if (state.content) URL.revokeObjectURL(state.content.url);
  for (const item of state.chosen) if (item.kind === "upload") URL.revokeObjectURL(item.image.url);
  state.content = null;
  state.chosen = [];
  ui.form.reset();
  ui.strengthValue.textContent = "100%";
  ui.contentPreview.hidden = true;
  ui.contentPreviewImg.removeAttribute("src");
  ui.resultImage.removeAttribute("src");
  ui.galleryStatus.textContent = "";
  renderStyles();
  const url = new URL(window.location.href);
  url.searchParams.delete("job");
  window.history.replaceState(null, "", url);
  document.title = "StyleMixer";
  showPanel("form");
  ui.contentInput.focus();
}

// ---- start ----------------------------------------------------------------------------------

function fillLimits(config) {
  for (const node of document.querySelectorAll("[data-limit]")) {
    const name = node.dataset.limit;
    if (name === "max_upload_mb") node.textContent = String(Math.round(config.max_upload_bytes / (1024 * 1024)));
    else if (name in config) node.textContent = String(config[name]);
  }
}

async function start() {
  try {
    state.config = await loadConfig();
  } catch (error) {
    ui.loading.hidden = true;
    showError(messageOf(error));
    return;
  }
  state.api = new Api(state.config.api_base_url);
  fillLimits(state.config);
  setupDropzone();
  ui.customInput.addEventListener("change", () => addCustomStyle(ui.customInput.files[0]));
  ui.mixMode.addEventListener("change", renderStyles);
  ui.strength.addEventListener("input", () => {
    ui.strengthValue.textContent = `${ui.strength.value}%`;
    refreshPreview();
  });
  ui.preserveColor.addEventListener("change", refreshPreview);
  ui.form.addEventListener("submit", submit);
  ui.again.addEventListener("click", startAgain);
  renderStyles();
  ui.loading.hidden = true;

  const gallery = loadGallery();
  const jobId = new URL(window.location.href).searchParams.get("job");
  if (jobId && JOB_ID_PATTERN.test(jobId)) {
    try {
      await runJob(jobId, null);
    } catch (error) {
      showPanel("form");
      showError(messageOf(error));
    }
  } else {
    if (jobId) showError("The job link in the address bar is not valid. Start a new job below.");
    showPanel("form");
  }
  await gallery;
}

start();
