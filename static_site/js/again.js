// "Try other styles": from a result back to the form, with its photo and its choices, so another
// job is one click away and the photo is not sent again. On the page that sent the job the form
// still holds them. For a job opened from its link or the strip they are restored from what the API
// says the job asked for: options and presets as they were, the photo and the paintings fetched back
// from storage and named again as the uploads they are (kept a day; after that the page says so).
import { reducedFromOf } from "./downsize.js";
import { forgetJob, freshShownJob } from "./flow.js";
import { clearError, showError } from "./messages.js";
import { restoreOptions } from "./options.js";
import { chosenPhoto, resetPhoto, restorePhoto } from "./photo.js";
import { showPanel } from "./progress.js";
import { rememberUpload, uploadOf } from "./reuse.js";
import { restoreStyles } from "./styles.js";
import { fetchStored } from "./upload.js";

const PHOTO_GONE = "The photo of that picture is no longer kept (photos are kept for a day). Choose it again below.";
const PAINTING_GONE = "A painting of that picture is no longer kept. Add it again if you want it in the mix.";
const NOT_YOURS = "The photo of a picture shared with you stays with the person who sent it: choose a photo below.";
const EXTENSIONS = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic", "image/avif": "avif" };

/** The picture at `url` as a File called `name` (with its type's suffix when it has none). */
async function fetchFile(url, name) {
  const blob = await fetchStored(url);
  const ext = EXTENSIONS[blob.type];
  const fileName = /\.[a-z0-9]+$/i.test(name) || !ext ? name : `${name}.${ext}`;
  return new File([blob], fileName, { type: blob.type });
}

/** The photo of `asked`, unless the photo in hand is it already; says so if it is gone. */
async function restoreThePhoto(content, painting, problems) {
  if (!content || typeof content.upload !== "string" || uploadOf(chosenPhoto()) === content.upload) return;
  try {
    const photo = await restorePhoto(await fetchFile(content.url, "photo"), reducedFromOf(painting));
    rememberUpload(photo, content.upload, null);
  } catch {
    resetPhoto();
    problems.push(PHOTO_GONE);
  }
}

/** The styles, mix, weights and options of `asked` (a job's `request`). */
async function restoreTheChoices(asked, problems) {
  const styles = Array.isArray(asked.styles) ? asked.styles : [];
  const weights = Array.isArray(asked.weights) ? asked.weights : [];
  const wanted = [];
  const uploads = [];
  for (const [index, style] of styles.entries()) {
    const weight = weights[index] ?? null;
    const name = String(style.name || "");
    if (typeof style.preset === "string") {
      wanted.push({ preset: style.preset, name, thumb: String(style.thumbnail_url || ""), weight });
      continue;
    }
    try {
      wanted.push({ file: await fetchFile(style.thumbnail_url, name || "painting"), name, weight });
      uploads.push(style.upload);
    } catch {
      if (!problems.includes(PAINTING_GONE)) problems.push(PAINTING_GONE);
    }
  }
  const paintings = await restoreStyles(wanted, asked.mix);
  paintings.forEach((painting, index) => {
    if (painting) rememberUpload(painting, uploads[index], null);
  });
  restoreOptions(asked);
}

/** Back to the form with the shown result's photo and choices; `button` is busy meanwhile. */
export async function tryOtherStyles(button) {
  const { job, sentHere } = await freshShownJob();
  const asked = job && job.request && typeof job.request === "object" ? job.request : null;
  forgetJob();
  clearError();
  const problems = [];
  const inHand = sentHere && asked && asked.content && uploadOf(chosenPhoto()) === asked.content.upload;
  if (asked && !inHand) {
    button.disabled = true;
    try {
      if (!asked.content) problems.push(NOT_YOURS);
      await restoreThePhoto(asked.content, job.painting, problems);
      await restoreTheChoices(asked, problems);
    } finally {
      button.disabled = false;
    }
  }
  document.title = "StyleMixer";
  showPanel("form");
  if (problems.length) showError(problems.join(" "));
  const heading = document.getElementById("styles-heading");
  heading.scrollIntoView({ block: "start" });
  heading.focus({ preventScroll: true });
}
