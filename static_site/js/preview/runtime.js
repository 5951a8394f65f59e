// The preview's runtime: onnxruntime-web (WebGPU where the browser has a hardware adapter, else WASM:
// one thread, SIMD), the models' manifest, and one inference session per model, each model checked
// against the manifest before it is used. Nothing here is fetched before it is first asked for.
const RUNTIME = new URL("../../vendor/onnxruntime/", import.meta.url);
const MODELS = new URL("../../models/", import.meta.url);
/** The manifest's format this page understands (stylemixer.neural.export.WEB_FORMAT). */
const WEB_FORMAT = 1;

let runtime = null; // Promise<{ort, backend}>
const sessions = new Map(); // model name -> Promise<InferenceSession>
let queue = Promise.resolve(); // the runtime's work, one task at a time
const fallbackListeners = [];

/**
 * Runs `task` after every task queued before it. The runtime does one thing at a time anyway (one
 * thread), and its WebGPU build refuses to create a session while another is being created.
 */
export function serial(task) {
  const result = queue.then(task);
  queue = result.catch(() => {});
  return result;
}

/** Calls `listener` when WebGPU hands over to WASM (tensors made before cannot feed the new runtime). */
export function onFallback(listener) {
  fallbackListeners.push(listener);
}

async function fetchBytes(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function sha256Hex(bytes) {
  if (!(self.crypto && self.crypto.subtle)) return null; // only on plain-HTTP origins other than localhost
  const digest = new Uint8Array(await self.crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

let manifest = null; // Promise<object>: models/manifest.json

export function loadManifest() {
  manifest ??= (async () => {
    const response = await fetch(new URL("manifest.json", MODELS), { credentials: "same-origin" });
    if (!response.ok) throw new Error(`models/manifest.json: HTTP ${response.status}`);
    const parsed = await response.json();
    if (parsed.format !== WEB_FORMAT) throw new Error(`models/manifest.json has format ${parsed.format}`);
    return parsed;
  })();
  return manifest;
}

/** The runtimes, best first: WebGPU where the browser has an adapter, WASM (one thread, SIMD) always. */
const RUNTIMES = {
  webgpu: { script: "ort.webgpu.bundle.min.mjs", binary: "ort-wasm-simd-threaded.asyncify.wasm" },
  wasm: { script: "ort.wasm.bundle.min.mjs", binary: "ort-wasm-simd-threaded.wasm" },
};

/** A GPU adapter that is hardware: a fallback adapter (a GPU emulated on the CPU) is far slower than WASM. */
async function hasWebGpu() {
  try {
    const adapter = self.navigator.gpu ? await self.navigator.gpu.requestAdapter() : null;
    return Boolean(adapter) && !((adapter.info && adapter.info.isFallbackAdapter) || adapter.isFallbackAdapter);
  } catch {
    return false;
  }
}

async function importRuntime(backend) {
  const { script, binary } = RUNTIMES[backend];
  const ort = await import(new URL(script, RUNTIME).href);
  ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which the page does not ask for
  ort.env.wasm.proxy = false; // this is the worker already
  // Streamed: compiled while it downloads, and the compiled code is cached with the file.
  ort.env.wasm.wasmPaths = { wasm: new URL(binary, RUNTIME).href };
  ort.env.logLevel = "error";
  return { ort, backend };
}

export function loadRuntime(backend = null) {
  if (backend) runtime = importRuntime(backend);
  runtime ??= hasWebGpu().then((gpu) =>
    gpu ? importRuntime("webgpu").catch(() => importRuntime("wasm")) : importRuntime("wasm"),
  );
  return runtime;
}

/** A model's bytes, checked against the manifest (size, and sha256 where the browser can hash). */
async function modelBytes(name) {
  const entry = (await loadManifest()).models[name];
  const bytes = await fetchBytes(new URL(entry.file, MODELS));
  const digest = await sha256Hex(bytes);
  if (bytes.length !== entry.bytes || (digest !== null && digest !== entry.sha256)) {
    throw new Error(`models/${entry.file} does not match its manifest`);
  }
  return bytes;
}

async function createSession(name) {
  const [{ ort, backend }, bytes] = await Promise.all([loadRuntime(), modelBytes(name)]);
  try {
    return await serial(() =>
      ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: "all" }),
    );
  } catch (error) {
    if (backend === "wasm") throw error;
    // WebGPU refused (an adapter that cannot run a kernel, lost device): everything moves to WASM.
    sessions.clear();
    for (const listener of fallbackListeners) listener();
    await loadRuntime("wasm");
    return session(name);
  }
}

export function session(name) {
  if (!sessions.has(name)) {
    // The runtime and the model download side by side; the session needs both.
    const created = createSession(name);
    created.catch(() => sessions.delete(name));
    sessions.set(name, created);
  }
  return sessions.get(name);
}
