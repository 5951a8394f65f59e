// The form's button: check the form, upload the pictures straight to storage (or name again the
// uploads an earlier try of this visit made), create the job; flow.js follows it to its picture.
//
// Nothing is dropped: when storage refuses an upload or the network cuts it, no job is created, the
// form comes back with the photo and every choice as they were, a sentence next to the button says
// what happened, with "Send again", and a connection that comes back sends it again by itself.
import { ApiError } from "./api.js";
import { byId } from "./dom.js";
import { reducedFromRequest, showPaintingNote } from "./downsize.js";
import { flowApi, sendFiles, sendNew, stoppedWaiting } from "./flow.js";
import { clearError, messageOf, showError } from "./messages.js";
import { optionsRequest } from "./options.js";
import { chosenPhoto, focusPhotoInput } from "./photo.js";
import { showPanel, showStage } from "./progress.js";
import { resendable, stopWaiting, waitForConnection } from "./resend.js";
import { forgetUploads, GONE_UPLOAD_CODES, rememberUpload, reusableUpload } from "./reuse.js";
import {
  chosenStyles,
  focusMixMode,
  mixProblem,
  paintingsToUpload,
  styleCount,
  styleChoice,
  stylesRequest,
} from "./styles.js";

const submitButton = byId("submit");
/** The API's refusal of a clip by regions (RegionsNotForClips), told before anything is uploaded. */
const CLIP_REGIONS =
  "The regions mix places styles on a photo's regions; a clip is painted in one style or a blend. Choose one style, or blend them.";

/**
 * Uploads the photo, then each painting, except those an earlier try already sent; resolves to
 * their upload ids in that order, and whether any was named again rather than sent.
 */
async function uploadAll(photo, paintings, signal) {
  const images = [photo, ...paintings];
  const ids = images.map((image) => reusableUpload(image));
  const toSend = images.map((_, index) => index).filter((index) => ids[index] === null);
  if (toSend.length === 0) showStage("Using the pictures you already sent");
  await sendFiles(
    toSend.map((index, position) => ({
      purpose: index ? "style" : "content",
      type: images[index].type,
      file: images[index].file,
      label:
        toSend.length > 1
          ? `Uploading picture ${position + 1} of ${toSend.length}`
          : `Uploading your ${index ? "painting" : "photo"}`,
      sent(presigned) {
        rememberUpload(images[index], presigned.upload_id, presigned.usable_until);
        ids[index] = presigned.upload_id;
      },
    })),
    signal,
  );
  return { ids, reused: toSend.length < images.length };
}

/** The job's request: the photo's upload (with its own size when it was brought down here), the styles, the options. */
function jobRequest(photo, [contentId, ...styleUploadIds]) {
  return { content: contentId, ...reducedFromRequest(photo), ...stylesRequest(styleUploadIds), ...optionsRequest() };
}

/** The job is not sent: the person pressed Cancel before it was. */
function refuseIfCancelled(signal) {
  if (signal.aborted) throw new ApiError("Cancelled: nothing was sent.", { code: "UploadAborted" });
}

/** Sends the pictures that need sending and creates the job; sends them again if the API says an earlier upload is gone. */
async function createJob(photo, paintings, signal) {
  const { ids, reused } = await uploadAll(photo, paintings, signal);
  refuseIfCancelled(signal);
  try {
    return await flowApi().createJob(jobRequest(photo, ids));
  } catch (error) {
    if (!reused || !GONE_UPLOAD_CODES.has(error.code)) throw error;
    forgetUploads([photo, ...paintings]);
    showStage("Your pictures were sent a while ago and are no longer kept: sending them again");
    const again = await uploadAll(photo, paintings, signal);
    refuseIfCancelled(signal);
    return flowApi().createJob(jobRequest(photo, again.ids));
  }
}

/** Why the form cannot be sent as it is (and where to look), or null. */
function formProblem() {
  if (!chosenPhoto()) return { message: "Choose a photo first.", focus: focusPhotoInput };
  if (styleCount() === 0) {
    return { message: "Choose at least one style: a preset from the gallery or a painting of your own." };
  }
  if (chosenPhoto().kind === "clip" && styleChoice().mix === "regions") {
    return { message: CLIP_REGIONS, focus: focusMixMode };
  }
  const mix = mixProblem();
  return mix ? { message: mix, focus: focusMixMode } : null;
}

/** Sends the form again, with the photo and the choices it still holds. */
function resend() {
  submitButton.form.requestSubmit(submitButton);
}

/** Back at the form after a submission that did not make a job: says why, and how it is sent again. */
function submissionFailed(error) {
  showPanel("form");
  if (error.code === "UploadAborted") {
    showError("Cancelled: nothing was sent. Your photo and choices are still here.", { near: "action" });
    return;
  }
  if (!resendable(error)) {
    showError(messageOf(error), { near: "action" });
    return;
  }
  const offline = waitForConnection(resend);
  const message = offline
    ? "The connection was lost, so your photo was not sent. It will be sent again as soon as the connection is back."
    : messageOf(error);
  showError(message, { near: "action", retry: resend });
}

async function submit(event) {
  event.preventDefault();
  stopWaiting();
  clearError();
  const problem = formProblem();
  if (problem) {
    showError(problem.message, { near: "action" });
    if (problem.focus) problem.focus();
    return;
  }
  const photo = chosenPhoto();
  const paintings = paintingsToUpload();
  const originalUrl = photo.previewable ? photo.url : null;
  submitButton.disabled = true;
  try {
    const create = async (signal) => {
      const created = await createJob(photo, paintings, signal);
      showPaintingNote(created, photo); // told beside what the job asks for if it is painted smaller
      return created;
    };
    await sendNew(create, {
      originalUrl,
      asked: { photo: originalUrl, styles: chosenStyles() },
    });
  } catch (error) {
    if (error.code === "StoppedWaiting") stoppedWaiting();
    else submissionFailed(error);
  } finally {
    submitButton.disabled = false;
  }
}

/** Sends the form (`form`) when it is submitted. */
export function setupSendForm(form) {
  form.addEventListener("submit", submit);
}
