// What the page says to the person: the one message box, placed next to what it is about (the photo,
// the styles, the button, the result, the map editor) so it is seen where the person is looking, with
// "Send again" when sending again can help; and a polite live region that reads changes of status
// aloud (each sentence once, so a screen reader is not flooded by repeated polls).
import { ApiError } from "./api.js";
import { byId } from "./dom.js";
import { FileProblem } from "./files.js";

const errorBox = byId("error");
const errorText = byId("error-text");
const retryButton = byId("retry");
const home = byId("error-home");
const live = byId("status-live");
let lastAnnounced = "";
let retry = null;

retryButton.addEventListener("click", () => {
  const send = retry;
  clearError();
  if (send) send();
});

/**
 * Shows `message` in the message box and brings it into view. `near` names where it goes (a
 * `data-error-slot`: "photo", "styles", "action", "result", "editor"); without it, the top of the page.
 * `retry`, when given, is what "Send again" does.
 */
export function showError(message, { near = null, retry: again = null } = {}) {
  const slot = near ? document.querySelector(`[data-error-slot="${near}"]`) : null;
  if (slot) slot.append(errorBox);
  else home.after(errorBox);
  errorText.textContent = message;
  retry = again;
  retryButton.hidden = !again;
  errorBox.hidden = false;
  errorBox.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

export function clearError() {
  errorText.textContent = "";
  retry = null;
  retryButton.hidden = true;
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
