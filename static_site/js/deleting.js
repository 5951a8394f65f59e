// "Delete": a job's owner (the browser that sent it, holding its owner token) removes the picture,
// its region map, the photo and paintings it was sent with, and the job itself, at once. On the
// result on screen and on each picture of the strip; nowhere for a job opened from a shared link.
import { byId } from "./dom.js";
import { clearError, messageOf, showError } from "./messages.js";
import { forgetOwner, ownerToken } from "./owners.js";

const ui = { button: byId("delete-job"), notice: byId("notice") };
const QUESTION = "Delete this picture, and the photo it was made from, from StyleMixer? This cannot be undone.";
const DONE = "Deleted: the picture and the photo it was made from are gone from StyleMixer.";

let api = null;
let onDeleted = () => {};
let shown = null; // the id of the job on screen

/** Says something that went well (not an error), until the next one or the next error. */
function notify(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = !text;
}

/**
 * Deletes `jobId` after asking; resolves to whether it was deleted. `onDeleted(jobId)` hears of it
 * (the strip drops it, the page leaves it). A job already gone counts as deleted.
 */
export async function deleteJob(jobId) {
  if (!ownerToken(jobId) || !window.confirm(QUESTION)) return false;
  clearError();
  notify("");
  try {
    await api.deleteJob(jobId);
  } catch (error) {
    if (error.status !== 404) {
      showError(messageOf(error));
      return false;
    }
  }
  forgetOwner(jobId);
  onDeleted(jobId);
  notify(DONE);
  return true;
}

/** Wires the result's Delete button; `deleted(jobId)` is called after each deletion. */
export function setupDeleting(client, deleted) {
  api = client;
  onDeleted = deleted;
  ui.button.addEventListener("click", () => {
    if (shown) deleteJob(shown);
  });
}

/** The job on screen (or none): Delete shows for a job this browser sent. */
export function deletableShown(job) {
  shown = job ? job.job_id : null;
  ui.button.hidden = !(shown && ownerToken(shown));
  if (job) notify("");
}
