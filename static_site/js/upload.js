// Sends a file straight to the storage bucket with the presigned POST the API signed, so the API
// never carries image bytes (XHR rather than fetch, because only XHR reports upload progress), and
// reads a stored object back through the short-lived link the API gave for it.
import { ApiError } from "./api.js";

const UPLOAD_FAILED = "The upload did not go through: the connection dropped. Check your internet connection and send it again.";
const UPLOAD_REFUSED = "Storage refused the file, so nothing was sent. Send it again; if it is refused again, choose a smaller picture.";
const STORAGE_DOWN = "Storage could not take the file just now, so nothing was sent. Please send it again in a moment.";
const UPLOAD_STALLED = "The upload stopped moving, so it was stopped. Check your internet connection and send it again.";
/** An upload that sends no byte for this long is stopped, rather than left hanging for ever. */
const STALL_MS = 30_000;

/**
 * POST `file` to `presigned.url` with `presigned.fields`; `onProgress(sentBytes)` as it goes.
 * Resolves when storage has accepted the file; rejects with an ApiError whose sentence says what
 * happened (refused, storage failing, the network cut, stalled, or cancelled through `signal`).
 */
export function postToStorage(presigned, file, onProgress, signal = null) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new ApiError("The upload was cancelled.", { code: "UploadAborted" }));
      return;
    }
    const form = new FormData();
    for (const [name, value] of Object.entries(presigned.fields || {})) {
      form.append(name, value);
    }
    // The file must be the last field of a presigned POST.
    form.append("file", file);

    const xhr = new XMLHttpRequest();
    let stalled = false;
    let watchdog = 0;
    const watch = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        xhr.abort();
      }, STALL_MS);
    };
    const cancel = () => xhr.abort();
    const settle = (outcome, value) => {
      clearTimeout(watchdog);
      if (signal) signal.removeEventListener("abort", cancel);
      outcome(value);
    };
    xhr.open("POST", presigned.url);
    // Every byte sent: the watchdog waits for the answer alone, which a dropped connection ends.
    xhr.upload.addEventListener("load", () => clearTimeout(watchdog));
    xhr.upload.addEventListener("progress", (event) => {
      watch();
      if (event.lengthComputable && onProgress) onProgress(Math.min(event.loaded, file.size));
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(file.size);
        settle(resolve);
      } else if (xhr.status >= 400 && xhr.status < 500) {
        settle(reject, new ApiError(UPLOAD_REFUSED, { code: "UploadRejected", status: xhr.status }));
      } else {
        settle(reject, new ApiError(STORAGE_DOWN, { code: "UploadFailed", status: xhr.status, retryable: true }));
      }
    });
    xhr.addEventListener("error", () => settle(reject, new ApiError(UPLOAD_FAILED, { code: "UploadFailed", retryable: true })));
    xhr.addEventListener("abort", () =>
      settle(
        reject,
        stalled
          ? new ApiError(UPLOAD_STALLED, { code: "UploadStalled", retryable: true })
          : new ApiError("The upload was cancelled.", { code: "UploadAborted" }),
      ),
    );
    if (signal) signal.addEventListener("abort", cancel, { once: true });
    watch();
    xhr.send(form);
  });
}

/** The stored object at `url` (a picture, a region map) as a Blob; rejects when the link is gone or the network fails. */
export async function fetchStored(url, init = {}) {
  const response = await fetch(url, { mode: "cors", ...init });
  if (!response.ok) throw new Error(`storage answered ${response.status}`);
  return response.blob();
}
