// The shares of a blend: one whole number per style, adding up to 100, so a slider's place on its
// track is its style's share of the mix. A style that joins gets an equal part and the others keep
// their proportions in the rest; a style's share set by hand leaves the others the rest, in
// proportion to what they had. The lists hold {key, weight}; they are changed in place.

const WHOLE = 100;

/** Integer shares of WHOLE in proportion to `values` (equal when they are all 0), largest remainders first. */
export function shares(values) {
  const total = values.reduce((sum, value) => sum + Math.max(0, value), 0);
  const exact = values.map((value) => (total > 0 ? (WHOLE * Math.max(0, value)) / total : WHOLE / values.length));
  const whole = exact.map(Math.floor);
  const order = exact.map((value, index) => [value - whole[index], index]).sort((a, b) => b[0] - a[0]);
  for (let left = WHOLE - whole.reduce((sum, value) => sum + value, 0), i = 0; left > 0; left -= 1, i += 1) {
    whole[order[i % order.length][1]] += 1;
  }
  return whole;
}

/** Gives the mix's styles their shares again in proportion to what they had (after one came or went). */
export function rebalance(chosen) {
  if (chosen.length === 0) return;
  shares(chosen.map((item) => item.weight)).forEach((share, index) => {
    chosen[index].weight = share;
  });
}

/** A new style's share: an equal part, the others keeping their proportions in the rest. */
export function withNewcomer(chosen, item) {
  const part = WHOLE / (chosen.length + 1);
  for (const other of chosen) other.weight = (other.weight * (WHOLE - part)) / WHOLE;
  chosen.push({ ...item, weight: part });
  rebalance(chosen);
}

/** Sets one style's share; the others share the rest in proportion to what they had. */
export function setShare(chosen, key, value) {
  const item = chosen.find((c) => c.key === key);
  if (!item || chosen.length < 2) return;
  item.weight = Math.min(WHOLE, Math.max(0, value));
  const others = chosen.filter((c) => c !== item);
  const rest = shares(others.map((c) => c.weight)).map((share) => (share * (WHOLE - item.weight)) / WHOLE);
  others.forEach((other, index) => {
    other.weight = rest[index];
  });
  const fixed = shares(chosen.map((c) => c.weight));
  chosen.forEach((c, index) => {
    c.weight = c === item ? item.weight : fixed[index];
  });
  // Rounding the others may leave the sum a point off: the one being moved keeps its value exactly.
  const drift = WHOLE - chosen.reduce((sum, c) => sum + c.weight, 0);
  if (drift !== 0) {
    const other = others.find((c) => c.weight + drift >= 0);
    if (other) other.weight += drift;
  }
}

