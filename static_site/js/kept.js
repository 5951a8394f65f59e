// The page's footer says how long pictures are kept (config.json's `kept`: the deployment's own
// lifecycle), and that Delete removes them sooner.
import { byId } from "./dom.js";

function days(count) {
  const n = Number(count);
  if (!Number.isFinite(n) || n <= 0) return null;
  return n === 1 ? "a day" : `${n} days`;
}

/** Fills the footer's sentence from `config.kept`; leaves the page's own words if it is missing. */
export function showKept(config) {
  const kept = config && config.kept;
  const photos = days(kept && kept.photos_days);
  const pictures = days(kept && kept.pictures_days);
  if (!photos || !pictures) return;
  byId("kept").textContent =
    `Your photos are deleted after ${photos} and your pictures after ${pictures}; ` +
    '"Delete" removes them at once. A picture\'s link shows the picture and its styles, never your photo.';
}
