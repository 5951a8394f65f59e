// What the page says to the person: the one error box, and a polite live region that reads changes
// of status aloud (each sentence once, so a screen reader is not flooded by repeated polls).
import { ApiError } from "./api.js";
import { byId } from "./dom.js";
import { FileProblem } from "./files.js";

const errorBox = byId("error");
const live = byId("status-live");
let lastAnnounced = "";

/** Shows `message` in the error box and brings it into view. */
export function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  errorBox.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

export function clearError() {
  errorBox.textContent = "";
  errorBox.hidden = true;
}

/** The sentence to show for `error`: our own errors carry one; anything else is a fault of the page. */
export function messageOf(error) {
  if (error instanceof ApiError || error instanceof FileProblem) return error.message;
  return "Something went wrong in this page. Please reload it and try again.";
}

/** Reads `text` aloud through the live region, unless it was the last thing read. */
export function announce(text) {
  if (text === lastAnnounced) return;
  lastAnnounced = text;
  live.textContent = text;
}
