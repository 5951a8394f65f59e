// Copies the front-end packages the page uses from static_site/node_modules into static_site/vendor/,
// so the page never loads anything from a CDN. Run by `npm run build` in static_site/ after `npm ci`.
//
// onnxruntime-web (the in-browser preview's runtime) goes to vendor/onnxruntime/: its single-file ES
// module builds for the WASM backend and for WebGPU, each with the one WebAssembly binary it loads
// (served as application/wasm, so the browser compiles it while it downloads and caches the compiled
// code). The preview's worker fetches one pair, only once a photo and a style are chosen.
//
// libheif-js (libheif and libde265 compiled to WebAssembly, LGPL-3.0, unmodified) goes to
// vendor/libheif/ with its licence: the page decodes a HEIC photo with it where the browser cannot
// (every browser but Safari), fetched only when such a photo is chosen.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const site = join(dirname(fileURLToPath(import.meta.url)), "..", "static_site");
const vendor = join(site, "vendor");
const modules = join(site, "node_modules");

const files = [
  ["bootstrap/dist/css/bootstrap.min.css", "bootstrap.min.css"],
  ["bootstrap/dist/css/bootstrap.min.css.map", "bootstrap.min.css.map"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap.bundle.min.js"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js.map", "bootstrap.bundle.min.js.map"],
  ["bootstrap/LICENSE", "bootstrap.LICENSE.txt"],
  ["onnxruntime-web/dist/ort.wasm.bundle.min.mjs", "onnxruntime/ort.wasm.bundle.min.mjs"],
  ["onnxruntime-web/dist/ort-wasm-simd-threaded.wasm", "onnxruntime/ort-wasm-simd-threaded.wasm"],
  // The WebGPU build, for browsers that have a GPU adapter: its own script and binary.
  ["onnxruntime-web/dist/ort.webgpu.bundle.min.mjs", "onnxruntime/ort.webgpu.bundle.min.mjs"],
  ["onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm", "onnxruntime/ort-wasm-simd-threaded.asyncify.wasm"],
  // One ES module with its WebAssembly inside: a module worker imports it (js/heic/worker.js).
  ["libheif-js/libheif-wasm/libheif-bundle.mjs", "libheif/libheif-bundle.mjs"],
  ["libheif-js/libheif-wasm/LICENSE", "libheif/LICENSE.txt"],
];

for (const folder of ["onnxruntime", "libheif"]) {
  rmSync(join(vendor, folder), { recursive: true, force: true });
  mkdirSync(join(vendor, folder), { recursive: true });
}
for (const [from, to] of files) {
  copyFileSync(join(modules, from), join(vendor, to));
}
// onnxruntime-web's package has no licence file of its own; its bundles carry the notice, repeated here.
const ort = JSON.parse(readFileSync(join(modules, "onnxruntime-web", "package.json"), "utf8"));
writeFileSync(
  join(vendor, "onnxruntime", "LICENSE.txt"),
  `ONNX Runtime Web v${ort.version}\nCopyright (c) Microsoft Corporation. All rights reserved.\n` +
    `Licensed under the ${ort.license} License (https://github.com/microsoft/onnxruntime/blob/main/LICENSE).\n`,
);
writeFileSync(join(vendor, ".built"), "");
console.log(`copied ${files.length} files into ${vendor}`);
