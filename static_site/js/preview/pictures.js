// Pictures between the browser, the networks and the canvas, as the engine moves them between
// Pillow and torch (stylemixer.images.read_image, stylemixer.neural.tensors). Pictures are
// {width, height, data: Uint8Array of RGB triplets}; network tensors are NCHW float32 in 0..1.

/** Both transformers halve the picture twice, so sides are padded to a multiple of this. */
const SIDE_MULTIPLE = 4;

/** A picture this browser cannot decode (HEIC in most browsers): no preview for it, nothing worse. */
export class Unreadable extends Error {}

/** A file as upright sRGB RGB pixels, transparency on white: what stylemixer.images.read_image gives. */
export async function decode(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image", premultiplyAlpha: "default" });
  } catch (error) {
    throw new Unreadable(`this browser cannot decode the picture (${error && error.name})`);
  }
  return bitmapPixels(bitmap);
}

/** An ImageBitmap's pixels as {width, height, data: RGB}, transparency on white; closes the bitmap. */
export function bitmapPixels(bitmap) {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return { width, height, data: rgb };
}

/** NCHW float32 in 0..1, sides reflect-padded up to a multiple of 4 (tensors.pad_to_multiple). */
export function toInput(image, multiple = SIDE_MULTIPLE) {
  const width = image.width + ((multiple - (image.width % multiple)) % multiple);
  const height = image.height + ((multiple - (image.height % multiple)) % multiple);
  const reflect = (i, n) => (i < n ? i : 2 * (n - 1) - i);
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    const sy = reflect(y, image.height);
    for (let x = 0; x < width; x++) {
      const s = (sy * image.width + reflect(x, image.width)) * 3;
      const o = y * width + x;
      data[o] = image.data[s] / 255;
      data[plane + o] = image.data[s + 1] / 255;
      data[2 * plane + o] = image.data[s + 2] / 255;
    }
  }
  return { data, width, height };
}

/** The network's (1, 3, H, W) output cropped to the picture, as RGB bytes (tensors.tensor_to_image). */
export function fromOutput(tensor, input, width, height) {
  const out = new Uint8Array(width * height * 3);
  const plane = input.width * input.height;
  const values = tensor.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = y * input.width + x;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = Math.min(1, Math.max(0, values[c * plane + s]));
        out[o + c] = Math.trunc(Math.fround(Math.fround(v * 255) + 0.5));
      }
    }
  }
  return { width, height, data: out };
}

/** RGB bytes as the canvas's RGBA ImageData buffer (opaque). */
export function toRGBA(image) {
  const pixels = new Uint8ClampedArray(image.width * image.height * 4);
  for (let i = 0, j = 0; j < image.data.length; i += 4, j += 3) {
    pixels[i] = image.data[j];
    pixels[i + 1] = image.data[j + 1];
    pixels[i + 2] = image.data[j + 2];
    pixels[i + 3] = 255;
  }
  return pixels;
}
