// Editing a region map in memory: {width, height, data}, one byte per pixel, the value being the
// style's number. Every edit changes `data` in place and answers the rectangle it touched
// ({x, y, width, height}, or null when nothing changed), so the editor redraws and remembers only that.

/** A rectangle that grows to hold points; `rect()` is null until one is added. */
function bounds() {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  return {
    add(x, y) {
      if (x < x0) x0 = x;
      if (y < y0) y0 = y;
      if (x > x1) x1 = x;
      if (y > y1) y1 = y;
    },
    rect: () => (x1 < x0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }),
  };
}

/** The smallest rectangle holding `a` and `b` (either may be null). */
export function unionRect(a, b) {
  if (!a) return b;
  if (!b) return a;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

/**
 * Gives `value` to the connected region holding pixel (x, y): the pixels of its value reachable
 * through their four neighbours. Scanline fill, so a region of millions of pixels needs no recursion.
 */
export function floodFill(map, x, y, value) {
  const { width, height, data } = map;
  if (!(x >= 0 && y >= 0 && x < width && y < height)) return null;
  const target = data[y * width + x];
  if (target === value) return null;
  const touched = bounds();
  const stack = [x, y];
  while (stack.length) {
    const sy = stack.pop();
    const sx = stack.pop();
    const row = sy * width;
    if (data[row + sx] !== target) continue;
    let left = sx;
    while (left > 0 && data[row + left - 1] === target) left -= 1;
    let right = sx;
    while (right < width - 1 && data[row + right + 1] === target) right += 1;
    data.fill(value, row + left, row + right + 1);
    touched.add(left, sy);
    touched.add(right, sy);
    for (const ny of [sy - 1, sy + 1]) {
      if (ny < 0 || ny >= height) continue;
      const next = ny * width;
      let inRun = false;
      for (let nx = left; nx <= right; nx += 1) {
        const matches = data[next + nx] === target;
        if (matches && !inRun) stack.push(nx, ny);
        inRun = matches;
      }
    }
  }
  return touched.rect();
}

/** Gives `value` to every pixel within `radius` of (cx, cy) (a disc; radius 0 is one pixel). */
export function paintDisc(map, cx, cy, radius, value) {
  const { width, height, data } = map;
  const touched = bounds();
  const r = Math.max(0, radius);
  const top = Math.max(0, Math.ceil(cy - r));
  const bottom = Math.min(height - 1, Math.floor(cy + r));
  for (let y = top; y <= bottom; y += 1) {
    const half = Math.sqrt(Math.max(0, r * r - (y - cy) * (y - cy)));
    const left = Math.max(0, Math.ceil(cx - half));
    const right = Math.min(width - 1, Math.floor(cx + half));
    if (left > right) continue;
    data.fill(value, y * width + left, y * width + right + 1);
    touched.add(left, y);
    touched.add(right, y);
  }
  return touched.rect();
}

/** A brush stroke from `from` to `to` ({x, y}): discs of `radius` close enough to leave no gap. */
export function paintLine(map, from, to, radius, value) {
  const distance = Math.hypot(to.x - from.x, to.y - from.y);
  const steps = Math.max(1, Math.ceil(distance / Math.max(0.5, radius / 2)));
  let touched = null;
  for (let i = 0; i <= steps; i += 1) {
    const t = i / steps;
    const rect = paintDisc(map, from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t, radius, value);
    touched = unionRect(touched, rect);
  }
  return touched;
}

/** A copy of the pixels of `rect` in `map`: {rect, data}, to put back with `restore`. */
export function snapshot(map, rect) {
  const data = new Uint8Array(rect.width * rect.height);
  for (let y = 0; y < rect.height; y += 1) {
    const start = (rect.y + y) * map.width + rect.x;
    data.set(map.data.subarray(start, start + rect.width), y * rect.width);
  }
  return { rect, data };
}

/** Puts a `snapshot` back; answers its rectangle. */
export function restore(map, saved) {
  const { rect, data } = saved;
  for (let y = 0; y < rect.height; y += 1) {
    map.data.set(data.subarray(y * rect.width, (y + 1) * rect.width), (rect.y + y) * map.width + rect.x);
  }
  return rect;
}

/**
 * `map` at most `limit` pixels on its longer side (nearest neighbour, as the API resizes a map),
 * but its shorter side never under 64 pixels, so rounding keeps its shape within 1 % (the API takes
 * a map of the photo's shape within 2 %).
 */
export function fitMap(map, limit) {
  const short = Math.min(map.width, map.height);
  const scale = Math.min(1, Math.max(limit / Math.max(map.width, map.height), 64 / short));
  if (scale === 1) return { width: map.width, height: map.height, data: map.data.slice() };
  const width = Math.max(1, Math.round(map.width * scale));
  const height = Math.max(1, Math.round(map.height * scale));
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    const sy = Math.min(map.height - 1, Math.floor(((y + 0.5) * map.height) / height));
    for (let x = 0; x < width; x += 1) {
      const sx = Math.min(map.width - 1, Math.floor(((x + 0.5) * map.width) / width));
      data[y * width + x] = map.data[sy * map.width + sx];
    }
  }
  return { width, height, data };
}
