// The preview's Web Worker: decodes the photo and the paintings, runs the project's own networks
// (exported to ONNX by `stylemixer weights web`) with onnxruntime-web (WebGPU where the browser has
// an adapter, else WASM), and posts back RGBA pixels. Off the main thread, so sliders stay smooth.
//
// Nothing is fetched until the first request: then the runtime (vendor/onnxruntime/), the models'
// manifest and only the models the request needs (multistyle for presets; predictor and transformer
// for paintings), each checked against the manifest's sha256. Requests coalesce: while one preview
// is painted, only the newest waiting request is kept. What no style changes is kept per photo: its
// picture at the preview's size, the transformers' first layers (`*_features`, 40 % of multistyle's
// arithmetic), the photo's own style vector. The last network output is kept too, so strength and
// "keep colours" on presets, which apply after the network, cost no run.
//
// The gallery's thumbnails are painted here too, after the preview and whenever it leaves time: the
// person's photo (its centre square, small) in each preset, one at a time, so a new preview request
// never waits for more than one thumbnail.
//
// Each preview comes in two steps. First a quick one, the photo painted at the size it is shown
// (up to 384 px), in a fraction of a second. Then, unless another change came meanwhile, the true
// one: painted at the scale the job will paint at (the stroke size and the output size applied as
// the engine applies them, ./stroke.js; up to PREVIEW_WORK_SIDE) and shown at up to 384 px, so a
// finer stroke size shows finer strokes here too. A device too slow for the second step keeps the first.
//
// Messages in:  {type: "render", id, photo: {key, file}, kind: "preset" | "painting",
//                styles: [{id, weight} | {key, file, weight}], strength, preserveColor,
//                stroke, maxSize, rule (config.json's `stroke`)}
//               {type: "thumbnails", id, photo: {key, file}}  (the presets' thumbnails of this photo)
// Messages out: {type: "preview", id, width, height, reduced, finer, refined, final, pixels (RGBA),
//                backend, ms: {...}}  (final: no other picture follows for this request)
//               {type: "thumbnail", id, preset, blob}  (one preset's thumbnail, a JPEG)
//               {type: "unreadable", id, reason}  (this browser cannot decode one of the pictures)
//               {type: "failed", id, reason}  (the page then falls back to the flow without preview)
import { decode, fromOutput, toInput, toRGBA, Unreadable } from "./pictures.js";
import { fadeToPhoto, fitWithin, fittedSize, keepColors, resize, squareCrop } from "./resample.js";
import { loadManifest, loadRuntime, onFallback, serial, session } from "./runtime.js";
import { jobScale } from "./stroke.js";

/** The preview's longest side: the engine paints `--max-size 384` the same way. */
const PREVIEW_SIDE = 384;
/** The gallery's thumbnails: a square this many pixels across (shown about 100 CSS pixels wide). */
const THUMB_SIDE = 160;

/** A true-scale step slower than this means the device is too slow for it: the quick step stays. */
const REFINE_LIMIT_MS = 6_000;
/** The true-scale step waits this long for the person to pause: a slider being moved gets quick ones. */
const REFINE_PAUSE_MS = 300;

let photo = null; // the photo at the scale last painted: {key, work, image, input, features, vector}
let decodedPhoto = { key: "", image: null, scales: new Map() }; // the last photo decoded, and its scales
let refining = true;
const paintings = new Map(); // painting key -> Promise<Float32Array(100)>
const painted = new Map(); // scale -> {key, image}: the last network output at it, before strength and colour
let pending = null;
let thumbnails = null; // {id, key, input, features: Map, presets: [ids still to paint]}
let busy = false;

// When WebGPU hands over to WASM, tensors computed by the old runtime cannot feed the new one.
onFallback(() => {
  for (const scaled of decodedPhoto.scales.values()) scaled.features.clear();
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "render") {
    pending = message;
    pump();
  } else if (message.type === "thumbnails") {
    thumbnails = { id: message.id, photo: message.photo, ready: null, presets: null };
    pump();
  }
});

async function pump() {
  if (busy) return;
  busy = true;
  while (pending || thumbnails) {
    if (!pending) {
      await nextThumbnail();
      continue;
    }
    const request = pending;
    pending = null;
    try {
      const quick = await render(request, "quick");
      const refine = quick.finer && refining;
      self.postMessage({ type: "preview", id: request.id, ...quick, final: !refine }, [quick.pixels.buffer]);
      if (refine) await pause();
      if (refine && !pending) {
        const started = performance.now();
        const exact = await render(request, "work");
        if (performance.now() - started > REFINE_LIMIT_MS) refining = false;
        self.postMessage({ type: "preview", id: request.id, ...exact, refined: true, final: true }, [
          exact.pixels.buffer,
        ]);
      }
      // With a painting, the strength slider needs the photo's own style vector: work it out while
      // the person looks, so the slider's first move costs one transformer run, as the later ones.
      if (!pending && request.kind !== "preset" && photo && photo.vector === null) {
        photo.vector = styleVector(photo.work);
        photo.vector.catch(() => {});
      }
    } catch (error) {
      // A picture this browser cannot decode concerns that picture only; anything else turns the preview off.
      const type = error instanceof Unreadable ? "unreadable" : "failed";
      self.postMessage({ type, id: request.id, reason: String((error && error.message) || error) });
    }
  }
  busy = false;
}

/** Paints the next preset's thumbnail of the photo asked for, and posts it; stops quietly on failure. */
async function nextThumbnail() {
  const job = thumbnails;
  try {
    job.ready ??= (async () => {
      const [decoded, { presets }] = await Promise.all([decode(job.photo.file), loadManifest()]);
      const image = squareCrop(decoded, THUMB_SIDE);
      job.presets ??= [...presets];
      return { image, input: toInput(image), features: new Map(), all: presets };
    })();
    const square = await job.ready;
    const preset = job.presets.shift();
    if (preset === undefined) {
      if (thumbnails === job) thumbnails = null;
      return;
    }
    const style = new Float32Array(square.all.length);
    style[square.all.indexOf(preset)] = 1;
    const output = await runNetwork(square, "multistyle", style);
    const pixels = toRGBA(fromOutput(output, square.input, THUMB_SIDE, THUMB_SIDE));
    const canvas = new OffscreenCanvas(THUMB_SIDE, THUMB_SIDE);
    canvas.getContext("2d").putImageData(new ImageData(pixels, THUMB_SIDE, THUMB_SIDE), 0, 0);
    const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.85 });
    if (thumbnails === job) self.postMessage({ type: "thumbnail", id: job.id, preset, blob });
  } catch {
    // The thumbnails are a nicety: the presets' own stay.
    if (thumbnails === job) thumbnails = null;
  }
}

/** Resolves after REFINE_PAUSE_MS, or as soon as a new request comes. */
function pause() {
  return new Promise((resolve) => {
    const started = performance.now();
    const look = () => {
      if (pending || performance.now() - started >= REFINE_PAUSE_MS) resolve();
      else setTimeout(look, 25);
    };
    look();
  });
}

/**
 * The photo of `request` at `scale`: "quick" (the size it is shown at) or "work" (the job's scale),
 * kept per photo and size. `finer`: whether the job paints finer strokes than this scale shows.
 */
async function loadPhoto(request, scale) {
  if (decodedPhoto.key !== request.photo.key) {
    decodedPhoto = { key: "", image: await decode(request.photo.file), scales: new Map() };
    decodedPhoto.key = request.photo.key;
    painted.clear();
  }
  const decoded = decodedPhoto.image;
  const job = jobScale(decoded, request, PREVIEW_SIDE);
  const quick = fittedSize(decoded.width, decoded.height, PREVIEW_SIDE);
  const size = scale === "quick" ? quick : job.size;
  const finer = scale === "quick" ? job.size[0] > quick[0] || job.capped : job.capped;
  const key = `${request.photo.key}@${size.join("x")}`;
  if (!decodedPhoto.scales.has(key)) {
    const work =
      size[0] > decoded.width ? resize(decoded, size[0], size[1]) : fitWithin(decoded, Math.max(...size));
    const image = fitWithin(work, PREVIEW_SIDE); // the photo as the preview shows it
    const reduced = image.width !== decoded.width;
    decodedPhoto.scales.set(key, { key, work, image, reduced, input: toInput(work), features: new Map(), vector: null });
  }
  photo = decodedPhoto.scales.get(key);
  return { ...photo, finer, self: photo };
}

async function styleVector(image) {
  const predictor = await session("predictor");
  const { ort } = await loadRuntime(); // after the session: the runtime it was made with
  const square = toInput(squareCrop(image, 256));
  const output = await serial(() =>
    predictor.run({ image: new ort.Tensor("float32", square.data, [1, 3, 256, 256]) }),
  );
  return Float32Array.from(output.style.data);
}

function paintingVector(style) {
  if (!paintings.has(style.key)) {
    const vector = decode(style.file).then(styleVector);
    vector.catch(() => paintings.delete(style.key));
    paintings.set(style.key, vector);
  }
  return paintings.get(style.key);
}

// ---- one preview ----------------------------------------------------------------------------------

function normalized(styles) {
  const total = styles.reduce((sum, s) => sum + Math.max(0, Number(s.weight) || 0), 0);
  return styles.map((s) => (total > 0 ? Math.max(0, Number(s.weight) || 0) / total : 1 / styles.length));
}

/** The photo through a network's style-free first layers (`<name>_features`), once per photo. */
function features(current, name) {
  if (!current.features.has(name)) {
    const computed = (async () => {
      const net = await session(`${name}_features`);
      const { ort } = await loadRuntime();
      const { data, width, height } = current.input;
      const output = await serial(() => net.run({ image: new ort.Tensor("float32", data, [1, 3, height, width]) }));
      return output.features;
    })();
    computed.catch(() => current.features.delete(name));
    current.features.set(name, computed);
  }
  return current.features.get(name);
}

async function runNetwork(current, name, style) {
  const [net, input] = await Promise.all([session(name), features(current, name)]);
  const { ort } = await loadRuntime();
  const output = await serial(() =>
    net.run({ features: input, style: new ort.Tensor("float32", style, [1, style.length]) }),
  );
  return output.stylized;
}

async function render(request, scale) {
  const started = performance.now();
  const name = request.kind === "preset" ? "multistyle" : "transformer";
  // Everything the first preview needs starts at once: the photo's decoding, the runtime, the models.
  if (request.kind !== "preset") session("predictor");
  session(`${name}_features`);
  const [loaded, { presets }] = await Promise.all([
    loadPhoto(request, scale),
    loadManifest(),
    loadRuntime(),
    session(name),
  ]);
  const current = loaded.self; // the cached photo at this scale (its features and vector are kept on it)
  const weights = normalized(request.styles);
  const strength = Math.min(1, Math.max(0, Number(request.strength)));
  let style;
  if (request.kind === "preset") {
    style = new Float32Array(presets.length);
    request.styles.forEach((s, i) => {
      const row = presets.indexOf(s.id);
      if (row < 0) throw new Error(`unknown preset ${s.id}`);
      style[row] += weights[i];
    });
  } else {
    const keys = new Set(request.styles.map((s) => s.key));
    for (const key of paintings.keys()) if (!keys.has(key)) paintings.delete(key); // out of the mix
    const vectors = await Promise.all(request.styles.map(paintingVector));
    style = new Float32Array(vectors[0].length);
    vectors.forEach((v, i) => v.forEach((x, j) => (style[j] += Math.fround(weights[i] * x))));
    if (strength < 1) {
      current.vector ??= styleVector(current.work);
      const own = await current.vector;
      style = style.map((x, j) => Math.fround(strength * x) + Math.fround((1 - strength) * own[j]));
    }
  }
  const key = `${name}:${current.key}:${Array.from(style).join(",")}`;
  const prepared = performance.now();
  if (!painted.has(scale) || painted.get(scale).key !== key) {
    const output = await runNetwork(current, name, style);
    const atWork = fromOutput(output, current.input, current.work.width, current.work.height);
    painted.set(scale, { key, image: fitWithin(atWork, PREVIEW_SIDE) });
  }
  const networkDone = performance.now();
  let image = painted.get(scale).image;
  if (request.preserveColor) image = keepColors(image, current.image);
  if (request.kind === "preset" && strength < 1) image = fadeToPhoto(current.image, image, strength);
  const pixels = toRGBA(image);
  const { backend } = await loadRuntime(); // the one that ran (WebGPU may have handed over to WASM)
  const done = performance.now();
  return {
    width: image.width,
    height: image.height,
    reduced: current.reduced,
    finer: loaded.finer,
    pixels,
    backend,
    ms: { prepare: prepared - started, network: networkDone - prepared, finish: done - networkDone },
  };
}
