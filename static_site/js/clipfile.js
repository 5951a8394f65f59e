// A clip chosen as the thing to paint, checked before anything is uploaded: its type from its first
// bytes (an MP4 or MOV container, not a HEIC photo, which shares the container), its size, and where
// this browser can play it, its length and frame size, against config.json's `clips`. A still of its
// first frame stands in for it on the page: shown in the photo's place, painted by the preview, and
// shown while the job runs. A clip this browser cannot play (HEVC in some browsers) is sent unseen,
// as a HEIC photo is where the page cannot decode it; the service checks every clip again.
import { FileProblem, formatBytes } from "./files.js";

/** ISO base media brands of video files (MP4 and its relatives, QuickTime), as stylemixer.clips.header. */
const MP4_BRANDS = new Set([
  "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V ", "M4VH", "M4VP",
  "mmp4", "MSNV", "XAVC", "dash", "3gp4", "3gp5", "3gp6", "3g2a", "M4A ", "f4v ", "qt  ",
]);
/** A still for the page: its longest side (enough for the chip and the preview's 384 px). */
const STILL_SIDE = 1280;
/** A browser that has not read a clip's first frame by then cannot play it. */
const METADATA_MS = 8_000;

function ascii(bytes, start, end) {
  return String.fromCharCode(...bytes.slice(start, end));
}

/** "video/quicktime" or "video/mp4" for a video container's first bytes, or null. */
export function clipType(head, brands) {
  if (!brands.some((brand) => MP4_BRANDS.has(brand))) return null;
  return ascii(head, 8, 12) === "qt  " ? "video/quicktime" : "video/mp4";
}

/** Whether `type` (from sniffType) is a clip's. */
export function isClipType(type) {
  return type === "video/mp4" || type === "video/quicktime";
}

function playable(url) {
  return new Promise((resolve) => {
    const video = document.createElement("video");
    video.muted = true;
    video.preload = "auto";
    video.playsInline = true;
    const done = (ok) => {
      clearTimeout(timer);
      resolve(ok ? video : null);
    };
    const timer = setTimeout(() => done(false), METADATA_MS);
    video.addEventListener("loadeddata", () => done(video.videoWidth > 0), { once: true });
    video.addEventListener("error", () => done(false), { once: true });
    video.src = url;
  });
}

/** The clip's first frame as a JPEG blob, at most STILL_SIDE across. */
function still(video) {
  const scale = Math.min(1, STILL_SIDE / Math.max(video.videoWidth, video.videoHeight));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(video.videoWidth * scale));
  canvas.height = Math.max(1, Math.round(video.videoHeight * scale));
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => {
    canvas.toBlob(resolve, "image/jpeg", 0.9);
  });
}

function seconds(value) {
  return `${Math.round(value)} s`;
}

/**
 * Checks the clip `file` of `type` against `config.clips`. Resolves to what photo.js keeps of a photo,
 * with `kind: "clip"`: {file, type, kind, url, shown, previewable, width, height, duration}, where
 * `url` and `shown` are its first frame's still (or the clip itself, unseen, when this browser cannot
 * play it); rejects with a FileProblem.
 */
export async function checkClipFile(file, type, config) {
  const limits = config.clips || {};
  const name = file.name ? `“${file.name}”` : "That clip";
  if (!(limits.content_types || []).includes(type)) {
    throw new FileProblem(`${name} is a clip, and this service paints photos only.`);
  }
  if (file.size > limits.max_bytes) {
    throw new FileProblem(
      `${name} is ${formatBytes(file.size)}; the largest clip we accept is ${formatBytes(limits.max_bytes)}. ` +
        "Trim it, or export it at 1080p.",
    );
  }
  const clipUrl = URL.createObjectURL(file);
  const video = await playable(clipUrl);
  if (!video) {
    return { file, type, kind: "clip", url: clipUrl, shown: file, previewable: false, width: null, height: null, duration: null };
  }
  URL.revokeObjectURL(clipUrl);
  const { videoWidth: width, videoHeight: height, duration } = video;
  if (Number.isFinite(duration) && duration > limits.max_seconds + 0.5) {
    throw new FileProblem(`${name} is ${seconds(duration)} long; the longest clip we accept is ${seconds(limits.max_seconds)}. Trim it and choose it again.`);
  }
  if (Math.max(width, height) > limits.max_side) {
    throw new FileProblem(`${name} is ${width} × ${height} pixels; clips may be at most 1920 × 1080 (1080p). Export it at 1080p and choose it again.`);
  }
  const shown = await still(video);
  video.removeAttribute("src");
  video.load();
  return { file, type, kind: "clip", url: URL.createObjectURL(shown), shown, previewable: true, width, height, duration };
}
