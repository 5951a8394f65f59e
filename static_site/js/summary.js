// The line beside the button: what pressing it will paint, in words ("Swirling night and Grey ink,
// blended"), or what is still missing. It follows every change of the choices.
import { onChoicesChanged } from "./changes.js";
import { byId } from "./dom.js";
import { chosenPhoto } from "./photo.js";
import { chosenStyles, styleChoice } from "./styles.js";

const line = byId("action-summary");

function names(styles) {
  const all = styles.map((style) => style.name);
  return all.length > 1 ? `${all.slice(0, -1).join(", ")} and ${all.at(-1)}` : all[0] || "";
}

function describe() {
  const styles = chosenStyles();
  if (!chosenPhoto()) return styles.length ? `${names(styles)}: now choose a photo.` : "Choose a photo and a style.";
  if (styles.length === 0) return "Now pick a style.";
  if (styles.length === 1) return `Your photo in ${names(styles)}.`;
  const how = styleChoice().mix === "regions" ? "each where it fits best" : "blended";
  return `Your photo in ${names(styles)}, ${how}.`;
}

export function setupSummary() {
  onChoicesChanged(() => {
    line.textContent = describe();
  });
  line.textContent = describe();
}
