// Stroke size as the job applies it (stylemixer.neural.stroke.working_size, its numbers from
// config.json's `stroke`): the scale a picture is painted at. The networks paint strokes of about
// the same size in pixels, so a picture painted larger has finer strokes relative to itself; the
// preview paints at that scale (up to PREVIEW_WORK_SIDE) and then shows it smaller, so choosing a
// stroke size changes the preview as it will change the picture.

import { fittedSize } from "./resample.js";

/** The largest scale the preview paints at: finer than this, the job's strokes are finer than shown. */
export const PREVIEW_WORK_SIDE = 768;

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x) {
  const floor = Math.floor(x);
  return x - floor !== 0.5 ? Math.round(x) : floor % 2 === 0 ? floor : floor + 1;
}

/** stroke.working_side: the long side a picture of long side `longSide` is painted at. */
export function workingSide(longSide, stroke, rule) {
  const fine = Math.max(longSide, Math.min(roundHalfEven(rule.max_upscale * longSide), rule.fine_min_side));
  const coarse = Math.min(longSide, rule.coarse_side);
  const sides = { fine, medium: roundHalfEven(Math.sqrt(fine * coarse)), coarse };
  const side = sides[stroke || rule.default] ?? sides.medium;
  return 1 / rule.snap < side / longSide && side / longSide < rule.snap ? longSide : side;
}

/** stroke.working_size: the [width, height] a `width` x `height` picture is painted at. */
export function workingSize(width, height, stroke, rule) {
  const longSide = Math.max(width, height);
  const shortSide = Math.min(width, height);
  const side = workingSide(longSide, stroke, rule);
  if (side === longSide) return [width, height];
  const scale = Math.max(side / longSide, rule.min_side / shortSide);
  if (scale >= 1 && side < longSide) return [width, height];
  return [Math.max(1, roundHalfEven(width * scale)), Math.max(1, roundHalfEven(height * scale))];
}

/**
 * The size the job paints `decoded` at (its output size within `maxSize`, then the stroke size's
 * scale), as `size` ([width, height]) within PREVIEW_WORK_SIDE, and whether it had to be `capped`
 * (the job paints larger still). Without the `rule` it is the preview's own size.
 */
export function jobScale(decoded, { stroke, maxSize, rule }, previewSide) {
  if (!rule) return { size: fittedSize(decoded.width, decoded.height, previewSide), capped: false };
  const [width, height] = fittedSize(decoded.width, decoded.height, Number(maxSize) || Infinity);
  const [workWidth, workHeight] = workingSize(width, height, stroke, rule);
  const capped = Math.max(workWidth, workHeight) > PREVIEW_WORK_SIDE;
  return { size: fittedSize(workWidth, workHeight, PREVIEW_WORK_SIDE), capped };
}
