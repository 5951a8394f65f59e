// Showing a HEIC photo (what iPhones save) in a browser that cannot decode it, which is every browser
// but Safari: the page decodes it itself (./heic/worker.js, libheif compiled to WebAssembly) into a
// JPEG rendition for the preview, the instant preview's networks and the before/after. The file
// uploaded stays the original: the service reads HEIC itself. The decoder (2 MB) is fetched only
// when such a picture is chosen, and once.

let worker = null;
let nextId = 1;
const waiting = new Map(); // request id -> {resolve, reject}

function start() {
  if (worker) return worker;
  worker = new Worker(new URL("./heic/worker.js", import.meta.url), { type: "module", name: "stylemixer-heic" });
  worker.addEventListener("message", (event) => {
    const { id, error, ...answer } = event.data || {};
    const pending = waiting.get(id);
    if (!pending) return;
    waiting.delete(id);
    if (error) pending.reject(new Error(error));
    else pending.resolve(answer);
  });
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    for (const pending of waiting.values()) pending.reject(new Error(event.message || "the HEIC decoder failed"));
    waiting.clear();
    worker.terminate();
    worker = null;
  });
  return worker;
}

/**
 * A JPEG rendition of the HEIC picture `file`: resolves to {blob, width, height} (upright), or
 * rejects when the picture cannot be decoded here (damaged, or not HEVC-coded).
 */
export function heicRendition(file) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    try {
      start().postMessage({ id, file });
    } catch (error) {
      waiting.delete(id);
      reject(error);
    }
  });
}
