// The camera's Web Worker: paints one camera frame at a time with the chosen style on the preview's
// networks (the same ONNX files, runtime and checks as js/preview/, through its runtime.js), off the
// main thread. The page runs two of these side by side (camera.js): each frame goes whole through one
// network run, so two workers keep both cores busy where one thread would leave one idle.
//
// Messages in:  {type: "frame", id, bitmap (ImageBitmap, transferred), style: {kind: "preset"|"painting",
//                styles: [{id, weight} | {key, file, weight}], strength, preserveColor}}
// Messages out: {type: "frame", id, width, height, pixels (RGBA, transferred), ms}
//               {type: "failed", id, reason}
import { bitmapPixels, fromOutput, toInput, toRGBA } from "../preview/pictures.js";
import { fadeToPhoto, keepColors, squareCrop } from "../preview/resample.js";
import { loadManifest, loadRuntime, serial, session } from "../preview/runtime.js";

const vectors = new Map(); // painting key -> Promise<Float32Array>: a painting's style, once

self.addEventListener("message", async (event) => {
  const message = event.data || {};
  if (message.type !== "frame") return;
  const started = performance.now();
  try {
    const picture = await paint(message.bitmap, message.style);
    const pixels = toRGBA(picture);
    self.postMessage(
      { type: "frame", id: message.id, width: picture.width, height: picture.height, pixels, ms: performance.now() - started },
      [pixels.buffer],
    );
  } catch (error) {
    self.postMessage({ type: "failed", id: message.id, reason: String((error && error.message) || error) });
  }
});

function weightsOf(styles) {
  const total = styles.reduce((sum, s) => sum + Math.max(0, Number(s.weight) || 0), 0);
  return styles.map((s) => (total > 0 ? Math.max(0, Number(s.weight) || 0) / total : 1 / styles.length));
}

async function run(name, input, style) {
  const [features, net, { ort }] = await Promise.all([session(`${name}_features`), session(name), loadRuntime()]);
  const image = new ort.Tensor("float32", input.data, [1, 3, input.height, input.width]);
  const first = await serial(() => features.run({ image }));
  const output = await serial(() =>
    net.run({ features: first.features, style: new ort.Tensor("float32", style, [1, style.length]) }),
  );
  return output.stylized;
}

async function paintingVector(style) {
  if (!vectors.has(style.key)) {
    const vector = (async () => {
      const bitmap = await createImageBitmap(style.file, { imageOrientation: "from-image" });
      const square = squareCrop(bitmapPixels(bitmap), 256);
      const input = toInput(square);
      const [predictor, { ort }] = await Promise.all([session("predictor"), loadRuntime()]);
      const output = await serial(() =>
        predictor.run({ image: new ort.Tensor("float32", input.data, [1, 3, 256, 256]) }),
      );
      return Float32Array.from(output.style.data);
    })();
    vector.catch(() => vectors.delete(style.key));
    vectors.set(style.key, vector);
  }
  return vectors.get(style.key);
}

async function paint(bitmap, choice) {
  const photo = bitmapPixels(bitmap);
  const input = toInput(photo);
  const weights = weightsOf(choice.styles);
  const strength = Math.min(1, Math.max(0, Number(choice.strength)));
  let name = "multistyle";
  let style;
  if (choice.kind === "preset") {
    const { presets } = await loadManifest();
    style = new Float32Array(presets.length);
    choice.styles.forEach((s, i) => {
      const row = presets.indexOf(s.id);
      if (row >= 0) style[row] += weights[i];
    });
  } else {
    name = "transformer";
    const all = await Promise.all(choice.styles.map(paintingVector));
    style = new Float32Array(all[0].length);
    all.forEach((v, i) => v.forEach((x, j) => (style[j] += Math.fround(weights[i] * x))));
  }
  let picture = fromOutput(await run(name, input, style), input, photo.width, photo.height);
  if (choice.preserveColor) picture = keepColors(picture, photo);
  if (strength < 1) picture = fadeToPhoto(photo, picture, strength);
  return picture;
}
