// The finished picture: as large as the screen allows, compared with the original on the picture
// itself (compare.js), its actions (Download, Try other styles, ...) beside it on a wide screen and
// under it on a phone, so they are in view with it; the region map and its legend for a regions mix.
// The styles' names come from the API's answer. The original is shown only on the page that sent the
// job, or for a job of this browser's visit; a link someone shared shows the result alone. This
// module owns the downloaded copy and the original's shown copy.
import { ApiError } from "./api.js";
import { askedOfJob } from "./asked.js";
import { setupCompare } from "./compare.js";
import { clipCaption, isClipResult, loadClip, showClipOrPicture } from "./clipresult.js";
import { byId, el } from "./dom.js";
import { paintingNoteFor } from "./downsize.js";
import { showableUrl } from "./files.js";
import { announce } from "./messages.js";
import { showPanel } from "./progress.js";
import { fetchStored } from "./upload.js";

const EXTENSIONS = { jpeg: "jpg", png: "png", webp: "webp", mp4: "mp4" };

const ui = {
  panel: byId("result-panel"),
  heading: byId("result-heading"),
  image: byId("result-image"),
  video: byId("result-video"),
  compare: byId("compare"),
  help: byId("compare-help"),
  caption: byId("result-caption"),
  regionsFigure: byId("regions-figure"),
  regionsImage: byId("regions-image"),
  regionsLegend: byId("regions-legend"),
  download: byId("download"),
};

const compare = setupCompare({
  frame: byId("compare"),
  before: byId("before-image"),
  divider: byId("compare-divider"),
  tag: byId("compare-tag-before"),
  help: byId("compare-help"),
});

let downloadUrl = null;
let originalCopy = null; // an object URL made here for the original (a HEIC decoded by the page)

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

/**
 * `url` if it loads as a picture in this browser; else a copy this browser can show (a HEIC decoded
 * by the page); null when there is none (a link gone).
 */
async function viewable(url) {
  if (!url) return null;
  try {
    await loadImage(new Image(), url);
    return url;
  } catch {
    // Not a picture this browser decodes: fetched once and decoded here, if it is a HEIC.
  }
  try {
    const copy = await showableUrl(await fetchStored(url));
    if (copy) originalCopy = copy;
    return copy;
  } catch {
    return null;
  }
}

/** Names the colour of each style in the region map. */
function showLegend(names) {
  ui.regionsLegend.replaceChildren(
    ...names.map((name, index) => {
      const swatch = el("span", { class: `swatch swatch-${index}`, "aria-hidden": "true" });
      return el("li", {}, swatch, el("span", { text: name }));
    }),
  );
  ui.regionsLegend.hidden = names.length === 0;
}

/** The name a job's picture is saved under: `stylemixer-<job id>.<its format's suffix>`. */
export function downloadName(jobId, format) {
  return `stylemixer-${jobId}.${EXTENSIONS[String(format || "").toLowerCase()] || "jpg"}`;
}

/**
 * An object URL of a local copy of the picture at `url` (a cross-origin link ignores `download`; a
 * local copy saves the file instead of opening it); rejects when the bytes cannot be fetched.
 */
export async function localCopy(url) {
  return URL.createObjectURL(await fetchStored(url));
}

function prepareDownload(url, jobId, format) {
  ui.download.href = url;
  ui.download.setAttribute("download", downloadName(jobId, format));
  localCopy(url)
    .then((copy) => {
      if (downloadUrl) URL.revokeObjectURL(downloadUrl);
      downloadUrl = copy;
      ui.download.href = downloadUrl;
    })
    .catch(() => {
      ui.download.target = "_blank";
      ui.download.rel = "noopener";
    });
}

/**
 * Shows a succeeded job's picture. `originalUrl` is the photo in hand, for the comparison, on the page
 * that sent the job; for another job of this visit (`own`) the API's link to the photo is used; a job
 * opened from someone else's link is shown without its original. `api` asks once for fresh links
 * when the picture's short-lived link has expired.
 */
export async function showResult(job, { api, originalUrl, own = false }, retried = false) {
  const result = job.result || {};
  if (typeof result.url !== "string") {
    throw new ApiError("The job finished but its picture is missing. Please start again.", { code: "NoResult" });
  }
  const clip = isClipResult(result);
  try {
    if (clip) await loadClip(ui.video, result.url);
    else await loadImage(ui.image, result.url);
  } catch {
    if (!retried) {
      const fresh = await api.job(job.job_id);
      return showResult(fresh, { api, originalUrl, own }, true);
    }
    throw new ApiError("The finished picture could not be loaded. Please reload the page to try again.", {
      code: "ResultUnavailable",
    });
  }
  const format = String(result.format || "").toUpperCase();
  const asked = askedOfJob(job);
  if (originalCopy) URL.revokeObjectURL(originalCopy);
  originalCopy = null;
  showClipOrPicture(ui, clip);
  if (clip) {
    ui.caption.textContent = clipCaption(ui.video);
  } else {
    const size = `${ui.image.naturalWidth} × ${ui.image.naturalHeight} pixels${format ? `, ${format}` : ""}.`;
    // Painted smaller than sent (past the largest size): said again where the person looks last.
    ui.caption.textContent = [size, paintingNoteFor(job)].filter(Boolean).join(" ");
    const original = originalUrl || (own ? await viewable(asked.photo) : null);
    compare.show(original, ui.image.naturalWidth / Math.max(1, ui.image.naturalHeight));
  }
  if (typeof result.regions_url === "string") {
    ui.regionsFigure.hidden = false;
    ui.regionsImage.src = result.regions_url;
    showLegend(asked.styles.map((style) => style.name));
  } else {
    ui.regionsFigure.hidden = true;
    ui.regionsImage.removeAttribute("src");
  }
  prepareDownload(result.url, job.job_id, result.format);
  document.title = "Done · StyleMixer";
  showPanel("result");
  announce("Your picture is ready.");
  // The picture and its actions fill the screen from the panel's top.
  ui.panel.scrollIntoView({ block: "start" });
  ui.heading.focus({ preventScroll: true });
}

/** Takes the picture off the page before a new job. */
export function resetResult() {
  ui.image.removeAttribute("src");
  showClipOrPicture(ui, false);
}
