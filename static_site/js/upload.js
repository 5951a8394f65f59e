// Sends a file straight to the storage bucket with the presigned POST the API signed, so the API
// never carries image bytes (XHR rather than fetch, because only XHR reports upload progress), and
// reads a stored object back through the short-lived link the API gave for it.
import { ApiError } from "./api.js";

const UPLOAD_FAILED = "The upload did not go through. Check your internet connection and try again.";

/**
 * POST `file` to `presigned.url` with `presigned.fields`; `onProgress(sentBytes)` as it goes.
 * Resolves when storage has accepted the file.
 */
export function postToStorage(presigned, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(presigned.fields || {})) {
      form.append(name, value);
    }
    // The file must be the last field of a presigned POST.
    form.append("file", file);

    const xhr = new XMLHttpRequest();
    xhr.open("POST", presigned.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(Math.min(event.loaded, file.size));
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(file.size);
        resolve();
      } else if (xhr.status === 400 || xhr.status === 403) {
        reject(
          new ApiError("Storage refused the file: it may be too large, or the upload link expired. Please try again.", {
            code: "UploadRejected",
            status: xhr.status,
          }),
        );
      } else {
        reject(new ApiError(UPLOAD_FAILED, { code: "UploadFailed", status: xhr.status, retryable: true }));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(UPLOAD_FAILED, { code: "UploadFailed", retryable: true })));
    xhr.addEventListener("abort", () => reject(new ApiError("The upload was cancelled.", { code: "UploadAborted" })));
    xhr.send(form);
  });
}

/** The stored object at `url` (a picture, a region map) as a Blob; rejects when the link is gone or the network fails. */
export async function fetchStored(url, init = {}) {
  const response = await fetch(url, { mode: "cors", ...init });
  if (!response.ok) throw new Error(`storage answered ${response.status}`);
  return response.blob();
}
