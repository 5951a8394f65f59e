// Pictures already sent in this visit: a photo (or a painting) is uploaded once, and later jobs name
// the same upload, for as long as the API said new jobs may (`usable_until` of POST /uploads). An
// upload restored from an earlier job (after a reload) has no known end: it is tried, and if the API
// answers that it is gone, the picture is sent again.

/** Codes of POST /jobs that mean "an upload it names is no longer there": send the pictures again. */
export const GONE_UPLOAD_CODES = new Set(["UploadExpired", "UploadNotFound"]);

/** A minute's margin, for a clock that runs a little ahead of the API's. */
const MARGIN_MS = 60 * 1000;

const known = new WeakMap(); // checked picture (photo.js, styles.js) -> {uploadId, usableUntil}

/** Remembers that `image` was uploaded as `uploadId`, usable by jobs until `usableUntil` (ISO, or null). */
export function rememberUpload(image, uploadId, usableUntil) {
  const until = usableUntil ? Date.parse(usableUntil) : Number.NaN;
  known.set(image, { uploadId, usableUntil: Number.isFinite(until) ? until : null });
}

/** The upload id `image` was sent as, if a new job may still name it; else null. */
export function reusableUpload(image) {
  const upload = image ? known.get(image) : undefined;
  if (!upload) return null;
  if (upload.usableUntil !== null && Date.now() > upload.usableUntil - MARGIN_MS) {
    known.delete(image);
    return null;
  }
  return upload.uploadId;
}

/** The upload id `image` was last sent as (fresh or not), or null: which job's picture it is. */
export function uploadOf(image) {
  const upload = image ? known.get(image) : undefined;
  return upload ? upload.uploadId : null;
}

/** Forgets the uploads of `images`, so the next job sends them again. */
export function forgetUploads(images) {
  for (const image of images) known.delete(image);
}
