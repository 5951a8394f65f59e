// The finished picture: shown beside the original with the before/after slider, with the region
// map and its legend for a regions mix, and a download link. What the job asked for (the photo, the
// styles' names) comes from the API's answer, so a page opened from the job's link shows them too.
// This module owns the downloaded copy.
import { ApiError } from "./api.js";
import { askedOfJob } from "./asked.js";
import { setupCompare } from "./compare.js";
import { byId, el } from "./dom.js";
import { announce } from "./messages.js";
import { showPanel } from "./progress.js";
import { fetchStored } from "./upload.js";

const EXTENSIONS = { jpeg: "jpg", png: "png", webp: "webp" };

const ui = {
  heading: byId("result-heading"),
  image: byId("result-image"),
  caption: byId("result-caption"),
  regionsFigure: byId("regions-figure"),
  regionsImage: byId("regions-image"),
  regionsLegend: byId("regions-legend"),
  download: byId("download"),
};

const compare = setupCompare({
  container: byId("compare"),
  before: byId("before-image"),
  divider: byId("compare-divider"),
  control: byId("compare-control"),
  range: byId("compare-range"),
  tag: byId("compare-tag-before"),
});

let downloadUrl = null;

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

/** `url` if it loads as a picture in this browser (not a HEIC in Chromium, not a link gone), else null. */
async function viewable(url) {
  if (!url) return null;
  try {
    await loadImage(new Image(), url);
    return url;
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
 * Shows a succeeded job's picture. `originalUrl` is the photo in hand, for the slider, on the page
 * that sent the job; elsewhere the API's link to the photo is used, when this browser can show it.
 * `api` asks once for fresh links when the picture's short-lived link has expired.
 */
export async function showResult(job, { api, originalUrl }, retried = false) {
  const result = job.result || {};
  if (typeof result.url !== "string") {
    throw new ApiError("The job finished but its picture is missing. Please start again.", { code: "NoResult" });
  }
  try {
    await loadImage(ui.image, result.url);
  } catch {
    if (!retried) {
      const fresh = await api.job(job.job_id);
      return showResult(fresh, { api, originalUrl }, true);
    }
    throw new ApiError("The finished picture could not be loaded. Please reload the page to try again.", {
      code: "ResultUnavailable",
    });
  }
  const format = String(result.format || "").toUpperCase();
  ui.caption.textContent = `${ui.image.naturalWidth} × ${ui.image.naturalHeight} pixels${format ? `, ${format}` : ""}.`;
  const asked = askedOfJob(job);
  compare.show(originalUrl || (await viewable(asked.photo)));
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
  ui.heading.focus();
}

/** Takes the picture off the page before a new job. */
export function resetResult() {
  ui.image.removeAttribute("src");
}
