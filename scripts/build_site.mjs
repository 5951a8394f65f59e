// Copies the front-end packages the page uses from static_site/node_modules into static_site/vendor/,
// so the page never loads anything from a CDN. Run by `npm run build` in static_site/ after `npm ci`.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const site = join(dirname(fileURLToPath(import.meta.url)), "..", "static_site");
const vendor = join(site, "vendor");

const files = [
  ["bootstrap/dist/css/bootstrap.min.css", "bootstrap.min.css"],
  ["bootstrap/dist/css/bootstrap.min.css.map", "bootstrap.min.css.map"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap.bundle.min.js"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js.map", "bootstrap.bundle.min.js.map"],
  ["bootstrap/LICENSE", "bootstrap.LICENSE.txt"],
];

mkdirSync(vendor, { recursive: true });
for (const [from, to] of files) {
  copyFileSync(join(site, "node_modules", from), join(vendor, to));
}
writeFileSync(join(vendor, ".built"), "");
console.log(`copied ${files.length} files into ${vendor}`);
