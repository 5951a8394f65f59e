// Step 1 of the form: the photo, chosen with the file input or dropped on the photo's column, checked
// at once (type, size, pixels) and shown; once chosen, the drop zone folds into a small chip so the
// preview beside the styles gets the room. This module owns the chosen photo.
import { choicesChanged } from "./changes.js";
import { byId } from "./dom.js";
import { checkClipFile, isClipType } from "./clipfile.js";
import { downsize, paintedSize } from "./downsize.js";
import { acceptAttribute, checkImageFile, sniffType } from "./files.js";
import { clearError, messageOf, showError } from "./messages.js";

const ui = {
  form: byId("job-form"),
  stage: byId("photo-stage"),
  dropzone: byId("dropzone"),
  label: document.querySelector("label[for=content-input]"),
  input: byId("content-input"),
  preview: byId("content-preview"),
  previewImg: byId("content-preview-img"),
  caption: byId("content-preview-caption"),
};

let limits = null;
let photo = null; // {file, type, url, shown, previewable, width, height, reducedFrom?}, as checkImageFile (and downsize) return it

/** A photo past the largest size painted, brought down to it here; as it is if this browser cannot (the job will). */
async function withinTheCap(checked) {
  try {
    return await downsize(checked, limits);
  } catch {
    return checked;
  }
}

const EMPTY_LABEL = "Drop a photo here, or choose one";

function showChosen(chosen) {
  ui.form.classList.toggle("has-photo", chosen);
  ui.label.textContent = chosen ? "Another photo? Drop it here, or choose one" : EMPTY_LABEL;
  ui.preview.hidden = !chosen;
}

/**
 * `checked` with `reducedFrom`, the size of the photo it was brought down from before an earlier job
 * sent it, when brought down to the largest size painted that size is `checked`'s (else as it is).
 */
function broughtDownFrom(checked, reducedFrom) {
  if (!reducedFrom || checked.reducedFrom || !checked.previewable) return checked;
  const size = paintedSize(reducedFrom.width, reducedFrom.height, limits);
  return size.width === checked.width && size.height === checked.height ? { ...checked, reducedFrom } : checked;
}

/**
 * Checks `file` (a photo, or a clip) and makes it the photo (rejects with a FileProblem, leaving the
 * photo as it was); `reducedFrom`, as for `restorePhoto`.
 */
async function take(file, reducedFrom = null) {
  const type = await sniffType(file);
  const checked = isClipType(type)
    ? await checkClipFile(file, type, limits)
    : broughtDownFrom(await withinTheCap(await checkImageFile(file, limits, "photo")), reducedFrom);
  if (photo) URL.revokeObjectURL(photo.url);
  photo = checked;
  ui.form.classList.toggle("has-clip", checked.kind === "clip");
  if (checked.kind === "clip") {
    if (checked.previewable) ui.previewImg.src = checked.url;
    else ui.previewImg.removeAttribute("src");
    const length = checked.duration ? ` · ${Math.round(checked.duration)} s` : "";
    const size = checked.width ? ` · ${checked.width} × ${checked.height} pixels` : " · this browser cannot play it, but StyleMixer can read it";
    ui.caption.textContent = `${file.name} · a clip${size}${length}`;
  } else if (checked.previewable) {
    ui.previewImg.src = checked.url;
    const from = checked.reducedFrom;
    ui.caption.textContent = from
      ? `${file.name} · ${from.width} × ${from.height} pixels, brought down to ${checked.width} × ${checked.height}, the largest size painted`
      : `${file.name} · ${checked.width} × ${checked.height} pixels`;
  } else {
    ui.previewImg.removeAttribute("src");
    ui.caption.textContent = `${file.name} · this browser cannot show it, but StyleMixer can read it`;
  }
  ui.previewImg.hidden = !checked.previewable;
  showChosen(true);
  choicesChanged();
  return checked;
}

async function choose(file) {
  clearError();
  if (!file) return;
  try {
    await take(file);
  } catch (error) {
    ui.input.value = "";
    showError(messageOf(error), { near: "photo" });
  }
}

/** Listens to the file input and the drop zone; `config` holds the limits a photo is checked against. */
export function setupPhoto(config) {
  limits = config;
  ui.input.accept = acceptAttribute(config, true);
  const zone = ui.stage; // the whole column takes a dropped photo, chip and preview included
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    ui.dropzone.classList.add("dropzone-active");
  });
  zone.addEventListener("dragleave", () => ui.dropzone.classList.remove("dropzone-active"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    ui.dropzone.classList.remove("dropzone-active");
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) {
      ui.input.files = files;
      choose(files[0]);
    }
  });
  ui.input.addEventListener("change", () => choose(ui.input.files[0]));
}

/**
 * Makes `file` (an earlier job's photo, fetched back) the photo; resolves to it checked, or rejects.
 * `reducedFrom` ({width, height}) is the photo's own size when that job says it was painted smaller
 * (its `painting`): a photo this page brought down before sending it is said so again, and sent so.
 */
export function restorePhoto(file, reducedFrom = null) {
  ui.input.value = "";
  return take(file, reducedFrom);
}

/** The checked photo, or null when none is chosen. */
export function chosenPhoto() {
  return photo;
}

export function focusPhotoInput() {
  ui.input.focus();
}

/** Forgets the photo (the form's own reset clears the input). */
export function resetPhoto() {
  if (photo) URL.revokeObjectURL(photo.url);
  photo = null;
  ui.form.classList.remove("has-clip");
  showChosen(false);
  ui.previewImg.removeAttribute("src");
  choicesChanged();
}
