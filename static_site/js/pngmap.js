// Region maps as PNG bytes, pixel values exact. A map is {width, height, data} with one byte per
// pixel (the style's number). canvas.toBlob cannot write one: it gives RGBA, with colours blended at
// the edges, and the API reads pixel VALUES. So the page writes and reads the PNG itself: palette (or
// greyscale) pixels, zlib streams from the browser's CompressionStream/DecompressionStream("deflate")
// (the format PNG's IDAT holds), and CRC-32 in JavaScript.

/** A PNG this module cannot read as a map (not a PNG, damaged, or not palette/greyscale pixels). */
export class MapFormatError extends Error {
  constructor(message) {
    super(message);
    this.name = "MapFormatError";
  }
}

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
const PALETTE_TYPE = 3;
const GREY_TYPE = 0;

let crcTable = null;

/** CRC-32 (ISO-HDLC, as PNG's chunks use it) of `bytes`. */
function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i += 1) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

async function throughStream(bytes, stream) {
  const piped = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(piped).arrayBuffer());
}

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i += 1) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * The PNG bytes of `map` ({width, height, data: Uint8Array}) as an 8-bit palette image whose pixel
 * values are `data` exactly; `palette` ([[r, g, b], ...]) colours them (entries missing for values
 * in the map are written black, so every value is a valid index).
 */
export async function encodeMap(map, palette) {
  const { width, height, data } = map;
  if (!(width > 0 && height > 0) || data.length !== width * height) throw new MapFormatError("The map has no pixels.");
  let highest = 0;
  for (let i = 0; i < data.length; i += 1) if (data[i] > highest) highest = data[i];
  const entries = Math.max(highest + 1, palette.length, 1);
  const plte = new Uint8Array(entries * 3);
  palette.slice(0, entries).forEach((colour, index) => plte.set(colour.slice(0, 3), index * 3));
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, PALETTE_TYPE, 0, 0, 0], 8); // bit depth, colour type, deflate, adaptive filters, no interlace
  const raw = new Uint8Array((width + 1) * height); // each row: filter type 0 (none), then its bytes
  for (let y = 0; y < height; y += 1) raw.set(data.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const idat = await throughStream(raw, new CompressionStream("deflate"));
  const parts = [SIGNATURE, chunk("IHDR", header), chunk("PLTE", plte), chunk("IDAT", idat), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The chunks of `bytes` as [{type, data}], each checked against its CRC. */
function readChunks(bytes) {
  if (bytes.length < 8 || SIGNATURE.some((value, index) => bytes[index] !== value)) {
    throw new MapFormatError("That file is not a PNG.");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks = [];
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const end = offset + 12 + length;
    if (end > bytes.length) throw new MapFormatError("The PNG is cut off.");
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== view.getUint32(offset + 8 + length)) {
      throw new MapFormatError(`The PNG's ${type} chunk is damaged.`);
    }
    chunks.push({ type, data: bytes.subarray(offset + 8, offset + 8 + length) });
    if (type === "IEND") return chunks;
    offset = end;
  }
  throw new MapFormatError("The PNG is cut off.");
}

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Undoes PNG's per-row filters in place (one byte per pixel step: depths of 8 bits and under). */
function unfilter(raw, stride, height) {
  const rows = new Uint8Array(stride * height);
  for (let y = 0; y < height; y += 1) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = rows.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? rows.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x += 1) {
      const left = x > 0 ? out[x - 1] : 0;
      const corner = x > 0 ? up[x - 1] : 0;
      let predicted;
      if (filter === 0) predicted = 0;
      else if (filter === 1) predicted = left;
      else if (filter === 2) predicted = up[x];
      else if (filter === 3) predicted = (left + up[x]) >> 1;
      else if (filter === 4) predicted = paeth(left, up[x], corner);
      else throw new MapFormatError("The PNG's pixels are damaged.");
      out[x] = (line[x] + predicted) & 0xff;
    }
  }
  return rows;
}

/**
 * The map in PNG `bytes` (an ArrayBuffer or Uint8Array): {width, height, data, palette}, `data`
 * holding each pixel's value exactly (palette index, or grey level as stored) and `palette` the PLTE
 * colours ([[r, g, b], ...], null for greyscale). Palette and greyscale PNGs of 1, 2, 4 or 8 bits,
 * not interlaced; anything else is a MapFormatError.
 */
export async function decodeMap(bytes) {
  const source = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const chunks = readChunks(source);
  const header = chunks[0] && chunks[0].type === "IHDR" ? chunks[0].data : null;
  if (!header || header.length !== 13) throw new MapFormatError("The PNG has no header.");
  const view = new DataView(header.buffer, header.byteOffset, 13);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const [depth, colourType, , , interlace] = header.subarray(8);
  if (colourType !== PALETTE_TYPE && colourType !== GREY_TYPE) {
    throw new MapFormatError("The PNG is not a palette or greyscale picture.");
  }
  if (![1, 2, 4, 8].includes(depth) || interlace !== 0 || width === 0 || height === 0) {
    throw new MapFormatError("The PNG's pixel layout is not one a map uses.");
  }
  const plte = chunks.find((part) => part.type === "PLTE");
  const palette = [];
  if (plte) for (let i = 0; i + 2 < plte.data.length; i += 3) palette.push([plte.data[i], plte.data[i + 1], plte.data[i + 2]]);
  const compressed = chunks.filter((part) => part.type === "IDAT").map((part) => part.data);
  let raw;
  try {
    raw = await throughStream(new Blob(compressed), new DecompressionStream("deflate"));
  } catch {
    throw new MapFormatError("The PNG's pixels are damaged.");
  }
  const stride = Math.ceil((width * depth) / 8);
  if (raw.length < (stride + 1) * height) throw new MapFormatError("The PNG's pixels are cut off.");
  const rows = unfilter(raw, stride, height);
  const data = new Uint8Array(width * height);
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const byte = rows[y * stride + Math.floor(x / perByte)];
      data[y * width + x] = depth === 8 ? byte : (byte >> (8 - depth * ((x % perByte) + 1))) & mask;
    }
  }
  return { width, height, data, palette: colourType === PALETTE_TYPE ? palette : null };
}
