// The HEIC decoder's Web Worker: libheif (with libde265, compiled to WebAssembly, from npm's
// libheif-js, vendor/libheif/) decodes a HEIC/HEIF picture, upright as the file says (its rotation
// and mirror boxes applied), and the worker sends back a JPEG of it at full size, which every browser
// shows. Off the main thread: a 12 MP photo takes a second or two to decode, and WebAssembly of this
// size may not be compiled synchronously on the main thread.
//
// Messages in:  {id, file}            (a File or Blob of a HEIC/HEIF picture)
// Messages out: {id, blob, width, height}  or  {id, error}
import libheif from "../../vendor/libheif/libheif-bundle.mjs";

/** JPEG quality of the rendition: the photo as seen, never what is uploaded (the original is). */
const QUALITY = 0.92;

let library = null;

function display(image, width, height) {
  const pixels = new ImageData(width, height);
  return new Promise((resolve, reject) => {
    image.display(pixels, (shown) => (shown ? resolve(shown) : reject(new Error("libheif could not decode the picture"))));
  });
}

async function rendition(file) {
  library ??= libheif();
  const decoder = new library.HeifDecoder();
  const images = decoder.decode(new Uint8Array(await file.arrayBuffer()));
  const image = images.find((candidate) => candidate.is_primary()) || images[0];
  if (!image) throw new Error("no picture in the file");
  try {
    const width = image.get_width();
    const height = image.get_height();
    const pixels = await display(image, width, height);
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d").putImageData(pixels, 0, 0);
    const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
    return { blob, width, height };
  } finally {
    for (const each of images) each.free();
  }
}

self.addEventListener("message", async (event) => {
  const { id, file } = event.data || {};
  try {
    self.postMessage({ id, ...(await rendition(file)) });
  } catch (error) {
    self.postMessage({ id, error: String((error && error.message) || error) });
  }
});
