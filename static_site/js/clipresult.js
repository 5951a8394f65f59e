// A painted clip on the result panel: it plays in a video element in the picture's place (the
// before/after comparison is for pictures), with its sound, looped, with the player's own controls;
// Download saves the MP4 (result.js). A job's result is a clip when its format is "mp4".

/** Whether a job's `result` is a painted clip. */
export function isClipResult(result) {
  return Boolean(result) && String(result.format || "").toLowerCase() === "mp4";
}

/** Loads `url` into `video`; resolves once its first frame can be shown, rejects if it cannot play. */
export function loadClip(video, url) {
  return new Promise((resolve, reject) => {
    const onLoad = () => {
      video.removeEventListener("error", onError);
      resolve();
    };
    const onError = () => {
      video.removeEventListener("loadeddata", onLoad);
      reject(new Error("clip"));
    };
    video.addEventListener("loadeddata", onLoad, { once: true });
    video.addEventListener("error", onError, { once: true });
    video.src = url;
    video.load();
  });
}

/** Shows the clip's player (`clip`) or the picture's comparison in the result's place. */
export function showClipOrPicture(ui, clip) {
  ui.video.hidden = !clip;
  ui.compare.hidden = clip;
  if (clip) ui.help.hidden = true;
  if (!clip) {
    ui.video.pause();
    ui.video.removeAttribute("src");
  }
}

/** "1920 × 1080 pixels, 12 s, MP4 (H.264)." for a loaded clip. */
export function clipCaption(video) {
  const length = Number.isFinite(video.duration) ? `, ${Math.round(video.duration)} s` : "";
  return `${video.videoWidth} × ${video.videoHeight} pixels${length}, MP4 (H.264).`;
}
