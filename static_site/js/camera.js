// The Camera control: the camera's picture painted live with the chosen style, on the preview's
// networks, off the main thread; "Take a still and paint it" makes the camera's full-resolution frame
// the photo and sends the usual job. This module owns the camera stream and its workers.
//
// Each frame is taken from the camera's video at CAMERA_SIDE across (createImageBitmap scales it
// off the main thread), sent to one of CAMERA_WORKERS workers (js/camera/worker.js) in turn, and drawn
// when it comes back, in order, on <canvas data-testid="camera-preview">, whose `data-frames` counts
// the frames drawn (and `data-fps` their rate over the last two seconds). Each worker has one frame in
// flight: a slow device paints fewer frames a second, never a growing queue. Nothing of it (the
// workers, the runtime, the models) is loaded before the button is pressed.
import { byId } from "./dom.js";
import { clearError, showError } from "./messages.js";
import { optionsRequest } from "./options.js";
import { restorePhoto } from "./photo.js";
import { styleChoice } from "./styles.js";

/** The painted picture's longest side, in pixels. */
export const CAMERA_SIDE = 256;
/** Workers painting side by side: one network run each at a time (WASM runs on one thread). */
const CAMERA_WORKERS = 2;
/** What the camera is asked for: enough for a still worth painting at full resolution. */
const CONSTRAINTS = { video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" }, audio: false };

const ui = {
  open: byId("camera-open"),
  panel: byId("camera-panel"),
  canvas: byId("camera-preview"),
  status: byId("camera-status"),
  still: byId("camera-still"),
  close: byId("camera-close"),
  video: byId("camera-video"),
};

let stream = null;
let workers = [];
let running = false;
let nextId = 1;
let drawnId = 0; // the newest frame drawn: an older one arriving late is dropped
let times = []; // when the last frames were drawn, for data-fps

function say(text) {
  ui.status.textContent = text;
}

/** The chosen style as the workers paint it, or null when none can be painted live. */
function liveStyle() {
  const { mix, styles } = styleChoice();
  if (styles.length === 0) return null;
  const kinds = new Set(styles.map((s) => s.kind));
  if (kinds.size > 1 || mix === "regions") return { kind: "preset", styles: styles.filter((s) => s.kind === "preset").slice(0, 1) };
  const { strength, preserve_color: preserveColor } = optionsRequest();
  const kind = styles[0].kind === "preset" ? "preset" : "painting";
  return {
    kind,
    styles: styles.map((s) => (kind === "preset" ? { id: s.id, weight: s.weight } : { key: s.key, file: s.file, weight: s.weight })),
    strength,
    preserveColor,
  };
}

function frameSize() {
  const { videoWidth: w, videoHeight: h } = ui.video;
  const scale = CAMERA_SIDE / Math.max(w, h);
  return [Math.max(4, Math.round(w * scale)), Math.max(4, Math.round(h * scale))];
}

function draw(message) {
  if (message.id <= drawnId) return;
  drawnId = message.id;
  if (ui.canvas.width !== message.width) ui.canvas.width = message.width;
  if (ui.canvas.height !== message.height) ui.canvas.height = message.height;
  ui.canvas.getContext("2d").putImageData(new ImageData(message.pixels, message.width, message.height), 0, 0);
  const now = performance.now();
  times = [...times.filter((t) => now - t < 2000), now];
  ui.canvas.dataset.frames = String(Number(ui.canvas.dataset.frames || 0) + 1);
  ui.canvas.dataset.fps = times.length > 1 ? ((times.length - 1) / ((now - times[0]) / 1000)).toFixed(1) : "0";
  ui.canvas.dataset.ms = message.ms.toFixed(0);
}

/** One worker's loop: take a frame, paint it, draw it, again, while the camera is on. */
async function pump(worker) {
  while (running) {
    const style = liveStyle();
    if (!style || style.styles.length === 0) {
      say("Choose a style to see your camera painted in it.");
      await new Promise((resolve) => {
        setTimeout(resolve, 250);
      });
      continue;
    }
    const [width, height] = frameSize();
    const bitmap = await createImageBitmap(ui.video, { resizeWidth: width, resizeHeight: height, resizeQuality: "medium" });
    const id = nextId++;
    const answer = await new Promise((resolve) => {
      const onMessage = (event) => {
        if (event.data.id !== id) return;
        worker.removeEventListener("message", onMessage);
        resolve(event.data);
      };
      worker.addEventListener("message", onMessage);
      worker.postMessage({ type: "frame", id, bitmap, style }, [bitmap]);
    });
    if (!running) return;
    if (answer.type === "failed") {
      stop();
      showError("The camera's picture could not be painted in this browser; you can still take a photo and choose it.", { near: "photo" });
      return;
    }
    say("Painted live at a small size; the still is painted at the camera's full resolution.");
    draw(answer);
  }
}

async function start() {
  clearError();
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    showError("This browser gives the page no camera (it needs a secure connection).", { near: "photo" });
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
  } catch (error) {
    const denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
    showError(denied ? "The camera was not allowed. Allow it for this page to paint it live." : "No camera could be opened.", { near: "photo" });
    return;
  }
  ui.video.srcObject = stream;
  await ui.video.play();
  ui.panel.hidden = false;
  ui.open.setAttribute("aria-expanded", "true");
  ui.still.disabled = false;
  ui.canvas.dataset.frames = "0";
  say("Starting the painting…");
  running = true;
  workers = Array.from({ length: CAMERA_WORKERS }, (_, n) =>
    new Worker(new URL("./camera/worker.js", import.meta.url), { type: "module", name: `stylemixer-camera-${n}` }),
  );
  for (const worker of workers) pump(worker);
}

/** Turns the camera and its workers off. */
export function stop() {
  running = false;
  for (const worker of workers) worker.terminate();
  workers = [];
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  ui.video.srcObject = null;
  ui.panel.hidden = true;
  ui.still.disabled = true;
  ui.open.setAttribute("aria-expanded", "false");
}

/** The camera's frame at its full resolution as a JPEG file: the photo a still makes. */
function takeStill() {
  const canvas = document.createElement("canvas");
  canvas.width = ui.video.videoWidth;
  canvas.height = ui.video.videoHeight;
  canvas.getContext("2d").drawImage(ui.video, 0, 0);
  return new Promise((resolve) => {
    canvas.toBlob((blob) => resolve(new File([blob], "camera-still.jpg", { type: "image/jpeg" })), "image/jpeg", 0.92);
  });
}

/** Wires the Camera control; a still becomes the photo of `form`, which is then sent as any photo. */
export function setupCamera(form) {
  ui.open.addEventListener("click", () => (running ? stop() : start()));
  ui.close.addEventListener("click", stop);
  ui.still.addEventListener("click", async () => {
    ui.still.disabled = true;
    const file = await takeStill();
    stop();
    try {
      await restorePhoto(file);
    } catch (error) {
      showError(String(error.message || error), { near: "photo" });
      return;
    }
    form.requestSubmit(byId("submit"));
  });
}
