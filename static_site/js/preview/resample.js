// Picture arithmetic for the preview, written to give the pixels Pillow gives the engine: the preview
// runs the same networks as the full-resolution job, so it must also feed them the same input.
// - fitWithin: stylemixer.images.fit_within (a box reduction by whole factors first when the picture
//   is more than three times too large, then Lanczos), via Pillow's Resample.c fixed-point arithmetic;
// - squareCrop: stylemixer.neural.engine.square_crop (the centre square, Lanczos to 256 px);
// - keepColors / fadeToPhoto: the engine's keep_colors (YCbCr) and Image.blend.
// Pictures here are {width, height, data: Uint8Array of RGB triplets}.

const PRECISION_BITS = 32 - 8 - 2;
const LANCZOS_SUPPORT = 3;
const REDUCING_GAP = 3;

function sinc(x) {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x) {
  return x >= -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / LANCZOS_SUPPORT) : 0;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc: integer weights for each output sample. */
function coefficients(inSize, in0, in1, outSize) {
  const scale = (in1 - in0) / outSize;
  const filterScale = Math.max(scale, 1);
  const support = LANCZOS_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const weights = new Int32Array(outSize * ksize);
  const bounds = new Int32Array(outSize * 2);
  const row = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) / filterScale);
      row[x] = w;
      total += w;
    }
    for (let x = 0; x < xmax; x++) {
      const k = total !== 0 ? row[x] / total : row[x];
      weights[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, weights, bounds };
}

function clip8(sum) {
  const v = Math.floor(sum / (1 << PRECISION_BITS));
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function resampleHorizontal(src, outWidth, rowFirst, rows, coeffs) {
  const { ksize, weights, bounds } = coeffs;
  const out = new Uint8Array(outWidth * rows * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < rows; y++) {
    const inRow = (y + rowFirst) * src.width * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = bounds[xx * 2];
      const xmax = bounds[xx * 2 + 1];
      let s0 = half;
      let s1 = half;
      let s2 = half;
      for (let x = 0; x < xmax; x++) {
        const k = weights[xx * ksize + x];
        const i = inRow + (x + xmin) * 3;
        s0 += src.data[i] * k;
        s1 += src.data[i + 1] * k;
        s2 += src.data[i + 2] * k;
      }
      const o = (y * outWidth + xx) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return { width: outWidth, height: rows, data: out };
}

function resampleVertical(src, outHeight, coeffs) {
  const { ksize, weights, bounds } = coeffs;
  const width = src.width;
  const out = new Uint8Array(width * outHeight * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2];
    const ymax = bounds[yy * 2 + 1];
    for (let x = 0; x < width; x++) {
      let s0 = half;
      let s1 = half;
      let s2 = half;
      for (let y = 0; y < ymax; y++) {
        const k = weights[yy * ksize + y];
        const i = ((y + ymin) * width + x) * 3;
        s0 += src.data[i] * k;
        s1 += src.data[i + 1] * k;
        s2 += src.data[i + 2] * k;
      }
      const o = (yy * width + x) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return { width, height: outHeight, data: out };
}

/** Pillow's Image.resize(size, LANCZOS, box): horizontal pass over the rows used, then vertical. */
export function resize(src, width, height, box = [0, 0, src.width, src.height]) {
  const [x0, y0, x1, y1] = box;
  const needH = width !== src.width || x0 !== 0 || x1 !== width;
  const needV = height !== src.height || y0 !== 0 || y1 !== height;
  const horiz = coefficients(src.width, x0, x1, width);
  const vert = coefficients(src.height, y0, y1, height);
  let image = src;
  if (needH) {
    const first = vert.bounds[0];
    const last = vert.bounds[height * 2 - 2] + vert.bounds[height * 2 - 1];
    for (let i = 0; i < height; i++) vert.bounds[i * 2] -= first;
    image = resampleHorizontal(src, width, first, last - first, horiz);
  }
  if (needV) image = resampleVertical(image, height, vert);
  return image === src ? { width, height, data: src.data.slice() } : image;
}

/** Pillow's Image.reduce((fx, fy)): the mean of each fx x fy block (partial blocks at the edges). */
export function reduce(src, fx, fy) {
  const width = Math.ceil(src.width / fx);
  const height = Math.ceil(src.height / fy);
  const out = new Uint8Array(width * height * 3);
  for (let yy = 0; yy < height; yy++) {
    const ya = yy * fy;
    const yb = Math.min(ya + fy, src.height);
    for (let xx = 0; xx < width; xx++) {
      const xa = xx * fx;
      const xb = Math.min(xa + fx, src.width);
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let y = ya; y < yb; y++) {
        let i = (y * src.width + xa) * 3;
        for (let x = xa; x < xb; x++, i += 3) {
          s0 += src.data[i];
          s1 += src.data[i + 1];
          s2 += src.data[i + 2];
        }
      }
      const count = (yb - ya) * (xb - xa);
      const o = (yy * width + xx) * 3;
      out[o] = Math.floor((s0 + count / 2) / count);
      out[o + 1] = Math.floor((s1 + count / 2) / count);
      out[o + 2] = Math.floor((s2 + count / 2) / count);
    }
  }
  return { width, height, data: out };
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x) {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The size stylemixer.images.fit_within gives a picture for a longest side of `maxSize`. */
export function fittedSize(width, height, maxSize) {
  const longer = Math.max(width, height);
  if (longer <= maxSize) return [width, height];
  const scale = maxSize / longer;
  const w = width === longer ? maxSize : Math.max(1, roundHalfEven(width * scale));
  const h = height === longer ? maxSize : Math.max(1, roundHalfEven(height * scale));
  return [w, h];
}

/** stylemixer.images.fit_within: Lanczos down to `maxSize` (never up), reducing_gap=3 as Pillow. */
export function fitWithin(src, maxSize) {
  const [width, height] = fittedSize(src.width, src.height, maxSize);
  if (width === src.width && height === src.height) return src;
  const fx = Math.max(1, Math.trunc(src.width / width / REDUCING_GAP));
  const fy = Math.max(1, Math.trunc(src.height / height / REDUCING_GAP));
  if (fx > 1 || fy > 1) {
    const reduced = reduce(src, fx, fy);
    return resize(reduced, width, height, [0, 0, src.width / fx, src.height / fy]);
  }
  return resize(src, width, height);
}

/** stylemixer.neural.engine.square_crop: the centre square, resized (Lanczos) to `size`. */
export function squareCrop(src, size = 256) {
  const side = Math.min(src.width, src.height);
  const left = Math.floor((src.width - side) / 2);
  const top = Math.floor((src.height - side) / 2);
  const crop = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    const from = ((y + top) * src.width + left) * 3;
    crop.set(src.data.subarray(from, from + side * 3), y * side * 3);
  }
  return resize({ width: side, height: side, data: crop }, size, size);
}

/** Luminance from `stylized`, colour (Cb, Cr) from `photo` (same size): the engine's keep_colors.
 * JPEG/JFIF YCbCr with Pillow's rounding (terms scaled by 64 and shifted down, so floors). */
export function keepColors(stylized, photo) {
  const out = new Uint8Array(stylized.data.length);
  const s = stylized.data;
  const p = photo.data;
  for (let i = 0; i < s.length; i += 3) {
    const y = Math.floor((0.299 * s[i] + 0.587 * s[i + 1] + 0.114 * s[i + 2]));
    const cb = Math.floor(-0.16874 * p[i] - 0.33126 * p[i + 1] + 0.5 * p[i + 2]) + 128;
    const cr = Math.floor(0.5 * p[i] - 0.41869 * p[i + 1] - 0.08131 * p[i + 2]) + 128;
    const r = y + Math.floor(1.402 * (cr - 128));
    const g = y + Math.floor(-0.34414 * (cb - 128) - 0.71414 * (cr - 128));
    const b = y + Math.floor(1.772 * (cb - 128));
    out[i] = r <= 0 ? 0 : r >= 255 ? 255 : r;
    out[i + 1] = g <= 0 ? 0 : g >= 255 ? 255 : g;
    out[i + 2] = b <= 0 ? 0 : b >= 255 ? 255 : b;
  }
  return { width: stylized.width, height: stylized.height, data: out };
}

/** Pillow's Image.blend(photo, stylized, strength): how strength fades presets into the photo. */
export function fadeToPhoto(photo, stylized, strength) {
  const out = new Uint8Array(photo.data.length);
  const a = Math.fround(strength);
  for (let i = 0; i < out.length; i++) {
    const v = Math.fround(photo.data[i] + a * (stylized.data[i] - photo.data[i]));
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return { width: photo.width, height: photo.height, data: out };
}
