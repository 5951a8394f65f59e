// Sending a form again that did not get through: which failures are worth another try as they are
// (the network, storage refusing or failing, the API busy or failing), and waiting for a lost
// connection to come back to send it again by itself.

/** Codes of failures that another try of the same photo and choices can get past. */
const RESENDABLE = new Set(["UploadRejected", "UploadFailed", "UploadStalled", "NetworkError"]);

let waiting = null; // the listener waiting for the connection, if any

/** True when sending the same form again may work: nothing about the photo or choices was refused. */
export function resendable(error) {
  return Boolean(error) && (RESENDABLE.has(error.code) || error.retryable === true);
}

/**
 * When the browser is offline, calls `send` once the connection is back (one wait at a time, the
 * latest `send` wins) and answers true; answers false when it is online (nothing to wait for).
 */
export function waitForConnection(send) {
  if (waiting) window.removeEventListener("online", waiting);
  waiting = null;
  if (navigator.onLine !== false) return false;
  waiting = () => {
    waiting = null;
    send();
  };
  window.addEventListener("online", waiting, { once: true });
  return true;
}

/** Stops waiting for the connection (the person sent the form themselves, or started again). */
export function stopWaiting() {
  if (waiting) window.removeEventListener("online", waiting);
  waiting = null;
}
