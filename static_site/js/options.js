// Step 3 of the form: strength, stroke size, output size, file type and colour keeping, each built
// from the request rules of config.json (allowed values, labels, bounds, defaults).
import { choicesChanged } from "./changes.js";
import { byId } from "./dom.js";
import { chooseOffered, fillChoices } from "./rules.js";

/** The output sizes offered, in pixels; those outside the API's bounds for `max_size` are left out. */
const OFFERED_SIZES = [2048, 1024, 512];

const ui = {
  strength: byId("strength"),
  strengthValue: byId("strength-value"),
  stroke: byId("stroke"),
  maxSize: byId("max-size"),
  format: byId("format"),
  preserveColor: byId("preserve-color"),
};

function showStrength() {
  ui.strengthValue.textContent = `${ui.strength.value}%`;
}

/** The strength slider shows percent: its bounds and start are the option's, times 100. */
function setupStrength(option) {
  const percent = (value) => String(Math.round(value * 100));
  ui.strength.min = percent(option.minimum);
  ui.strength.max = percent(option.maximum);
  ui.strength.defaultValue = percent(option.default);
  ui.strength.value = ui.strength.defaultValue;
  showStrength();
  ui.strength.addEventListener("input", () => {
    showStrength();
    choicesChanged();
  });
}

/** "Same as the photo" (null, in the page) when it is the default, then the offered sizes within bounds. */
function setupMaxSize(option) {
  const sizes = OFFERED_SIZES.filter((size) => size >= option.minimum && size <= option.maximum);
  if (option.default !== null && !sizes.includes(option.default)) sizes.unshift(option.default);
  const labels = Object.fromEntries(sizes.map((size) => [size, `At most ${size} px`]));
  fillChoices(ui.maxSize, { enum: sizes.map(String), labels, default: option.default });
}

/** Builds the controls from `rules` (see rules.js) and keeps the strength's label in step. */
export function setupOptions(rules) {
  setupStrength(rules.option("strength"));
  fillChoices(ui.stroke, rules.option("stroke"));
  setupMaxSize(rules.option("max_size"));
  // The preview paints at the scale these give the picture.
  ui.stroke.addEventListener("change", choicesChanged);
  ui.maxSize.addEventListener("change", choicesChanged);
  fillChoices(ui.format, rules.option("format"));
  ui.preserveColor.defaultChecked = rules.option("preserve_color").default === true;
  ui.preserveColor.checked = ui.preserveColor.defaultChecked;
  ui.preserveColor.addEventListener("change", choicesChanged);
}

/** The options part of a job request, as the API takes it. */
export function optionsRequest() {
  const request = {
    strength: Number(ui.strength.value) / 100,
    preserve_color: ui.preserveColor.checked,
    format: ui.format.value,
  };
  if (ui.maxSize.value) request.max_size = Number(ui.maxSize.value);
  if (ui.stroke.value) request.stroke = ui.stroke.value;
  return request;
}

/** Sets the controls to the options an earlier job used (a job's answer: `request`). */
export function restoreOptions(values) {
  if (typeof values.strength === "number") {
    ui.strength.value = String(Math.round(values.strength * 100));
    showStrength();
  }
  ui.preserveColor.checked = values.preserve_color === true;
  chooseOffered(ui.format, String(values.format || ""));
  chooseOffered(ui.stroke, values.stroke ? String(values.stroke) : "");
  chooseOffered(ui.maxSize, values.max_size ? String(values.max_size) : "");
  choicesChanged();
}

/** After the form's own reset: the labels follow the controls' reset values. */
export function resetOptions() {
  showStrength();
  choicesChanged();
}
