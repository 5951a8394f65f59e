// Checks a chosen file before anything is uploaded, so a person hears at once, in plain words, that
// it is not a picture or is too large. The API and the worker check again: this only saves a wasted
// upload. The type is decided from the file's first bytes, never from its name; the types accepted
// are config.json's `accepted_types`. A HEIC picture the browser cannot show is decoded by the page
// (heic.js), so it is seen, previewed and compared like any other.
import { clipType } from "./clipfile.js";
import { heicRendition } from "./heic.js";

/** A file the page refuses; `message` is the sentence shown. */
export class FileProblem extends Error {
  constructor(message) {
    super(message);
    this.name = "FileProblem";
  }
}

/** ISO base media brands of AVIF pictures, and of HEIF ones (what phones write as .heic). */
const AVIF_BRANDS = new Set(["avif", "avis"]);
const HEIC_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "miaf"]);
/** Bytes read to decide the type: a HEIF/AVIF `ftyp` box lists its brands within the first few dozen. */
const HEAD_BYTES = 256;

const SIGNATURES = [
  { type: "image/jpeg", test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    type: "image/png",
    test: (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v),
  },
  {
    type: "image/webp",
    test: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP",
  },
  { type: "image/avif", test: (b) => ftypBrands(b).some((brand) => AVIF_BRANDS.has(brand)) },
  { type: "image/heic", test: (b) => ftypBrands(b).some((brand) => HEIC_BRANDS.has(brand)) },
];

function ascii(bytes, start, end) {
  return String.fromCharCode(...bytes.slice(start, end));
}

/** The major and compatible brands of a leading `ftyp` box, or []. */
function ftypBrands(bytes) {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== "ftyp") return [];
  const size = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  if (size < 16) return [];
  const brands = [ascii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= Math.min(size, bytes.length); at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

const TYPE_NAMES = {
  "image/jpeg": "JPEG",
  "image/png": "PNG",
  "image/webp": "WebP",
  "image/heic": "HEIC",
  "image/heif": "HEIC",
  "image/avif": "AVIF",
};
/** Types a browser may be unable to show: such a file is sent unseen, and the service reads it. */
const MAY_NOT_DECODE = new Set(["image/heic", "image/avif"]);
/** Types the page decodes itself when the browser cannot (heic.js). */
const DECODED_HERE = new Set(["image/heic", "image/heif"]);
/** Names for the file chooser, where systems do not know these types by name. */
const EXTRA_EXTENSIONS = {
  "image/heic": ".heic",
  "image/heif": ".heif",
  "image/avif": ".avif",
  "video/mp4": ".mp4",
  "video/quicktime": ".mov",
};

/** "JPEG, PNG or WebP" for the accepted types of `config`. */
export function acceptedNames(config) {
  const names = [...new Set((config.accepted_types || []).map((t) => TYPE_NAMES[t] || t))];
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : names[0] || "";
}

/**
 * The file inputs' `accept`: the accepted types, and file name endings for those systems may not
 * name; with `clips`, config.json's clip types too (the photo to paint may be a clip).
 */
export function acceptAttribute(config, clips = false) {
  const types = [...(config.accepted_types || []), ...(clips && config.clips ? config.clips.content_types : [])];
  return [...types, ...types.map((t) => EXTRA_EXTENSIONS[t]).filter(Boolean)].join(",");
}

/** "3.4 MB" for a byte count. */
export function formatBytes(bytes) {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MB`;
}

/** The picture's type from the file's first bytes, a clip's (video/mp4, video/quicktime), or null. */
export async function sniffType(file) {
  const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  const match = SIGNATURES.find((s) => s.test(head));
  return match ? match.type : clipType(head, ftypBrands(head));
}

/**
 * A picture this browser cannot show, made showable: for HEIC, the page's own JPEG rendition as
 * {url, shown, width, height}; null when there is none (AVIF in an old browser, a damaged HEIC).
 */
async function renditionOf(file, type) {
  if (!DECODED_HERE.has(type)) return null;
  try {
    const { blob, width, height } = await heicRendition(file);
    return { url: URL.createObjectURL(blob), shown: blob, width, height };
  } catch {
    return null;
  }
}

/** An object URL of `blob` as this browser can show it (a HEIC decoded by the page), or null. */
export async function showableUrl(blob) {
  const type = await sniffType(blob);
  const url = URL.createObjectURL(blob);
  try {
    await decodeSize(url);
    return url;
  } catch {
    URL.revokeObjectURL(url);
  }
  const rendition = await renditionOf(blob, type);
  return rendition ? rendition.url : null;
}

function decodeSize(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.addEventListener("load", () => resolve({ width: img.naturalWidth, height: img.naturalHeight }));
    img.addEventListener("error", () => reject(new Error("decode")));
    img.src = url;
  });
}

/**
 * Checks `file` against `config`'s limits. Resolves to {file, type, url, shown, previewable, width,
 * height} or rejects with a FileProblem. `file` is what is uploaded; `shown` what the page shows and
 * previews (the file itself, or the page's rendition of a HEIC) and `url` its object URL (the caller
 * revokes it). A picture this browser cannot show at all has `previewable` false and no size.
 * `what` names the file in messages ("photo", "painting").
 */
export async function checkImageFile(file, config, what = "picture") {
  const name = file.name ? `“${file.name}”` : `That ${what}`;
  const acceptedText = acceptedNames(config);
  if (file.size === 0) {
    throw new FileProblem(`${name} is empty. Choose a ${what} in ${acceptedText} format.`);
  }
  if (file.size > config.max_upload_bytes) {
    throw new FileProblem(
      `${name} is ${formatBytes(file.size)}; the largest ${what} we accept is ${formatBytes(config.max_upload_bytes)}. ` +
        "Choose a smaller file or save it at a lower quality.",
    );
  }
  const type = await sniffType(file);
  if (!type || !(config.accepted_types || []).includes(type)) {
    throw new FileProblem(`${name} is not a ${acceptedText} picture. Choose a ${what} in one of those formats.`);
  }
  let view = { url: URL.createObjectURL(file), shown: file };
  try {
    Object.assign(view, await decodeSize(view.url));
  } catch {
    URL.revokeObjectURL(view.url);
    view = await renditionOf(file, type);
    if (!view && MAY_NOT_DECODE.has(type)) {
      return { file, type, url: URL.createObjectURL(file), shown: file, previewable: false, width: null, height: null };
    }
    if (!view) {
      throw new FileProblem(`${name} looks like a ${TYPE_NAMES[type]} file but cannot be read; it may be damaged. Choose another ${what}.`);
    }
  }
  const problem = sizeProblem(view, config, name);
  if (problem) {
    URL.revokeObjectURL(view.url);
    throw new FileProblem(problem);
  }
  return { file, type, previewable: true, ...view };
}

/** A picture past the largest size painted is no problem: it is brought down to it (downsize.js, or the job). */
function sizeProblem({ width, height }, config, name) {
  if (Math.min(width, height) < config.min_side) {
    return `${name} is ${width} × ${height} pixels; each side must be at least ${config.min_side} pixels.`;
  }
  return null;
}
