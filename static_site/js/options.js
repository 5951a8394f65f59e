// Step 3 of the form: strength, stroke size, output size, file type and colour keeping.
import { byId } from "./dom.js";

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

/** Keeps the strength's label in step with its slider. */
export function setupOptions() {
  ui.strength.addEventListener("input", showStrength);
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

/** After the form's own reset: the labels follow the controls' reset values. */
export function resetOptions() {
  showStrength();
}
