// Step 2 of the form: the styles. Presets are toggled in the gallery, paintings of one's own are
// added with a file input; together they make "your mix", up to the limit, with a weight each when
// blended. This module owns the chosen styles and the mix-mode control.
import { choicesChanged } from "./changes.js";
import { byId, el } from "./dom.js";
import { acceptAttribute, checkImageFile } from "./files.js";
import { renderChosen, renderGallery, updateShares } from "./gallery.js";
import { clearError, messageOf, showError } from "./messages.js";
import { chooseOffered, fillChoices } from "./rules.js";

const DEFAULT_WEIGHT = 50;

const ui = {
  gallery: byId("gallery"),
  status: byId("gallery-status"),
  customInput: byId("custom-style-input"),
  chosen: byId("chosen"),
  chosenEmpty: byId("chosen-empty"),
  mixMode: byId("mix-mode"),
  mixHelp: byId("mix-help"),
};

let limits = null; // config.json's file limits
let maxStyles = 1;
let mixedKindsMessage = null; // the API's sentence for a blend of presets and paintings
let chosen = []; // [{key, kind: "preset"|"upload", id?, name, thumb, image?, weight}]
let nextKey = 1;
let gallery = null;

function refuseMoreStyles() {
  ui.status.textContent = `You can mix at most ${maxStyles} styles. Remove one before adding another.`;
}

function togglePreset(style) {
  clearError();
  ui.status.textContent = "";
  const index = chosen.findIndex((item) => item.kind === "preset" && item.id === style.id);
  if (index >= 0) {
    chosen.splice(index, 1);
  } else if (chosen.length >= maxStyles) {
    refuseMoreStyles();
    return;
  } else {
    chosen.push({
      key: nextKey++,
      kind: "preset",
      id: style.id,
      name: style.name,
      thumb: String(style.thumbnail_url || ""),
      weight: DEFAULT_WEIGHT,
    });
  }
  render();
}

async function addPainting(file) {
  clearError();
  ui.status.textContent = "";
  if (!file) return;
  try {
    if (chosen.length >= maxStyles) {
      refuseMoreStyles();
      return;
    }
    const checked = await checkImageFile(file, limits, "painting");
    chosen.push({
      key: nextKey++,
      kind: "upload",
      name: file.name || "Your painting",
      thumb: checked.url,
      image: checked,
      weight: DEFAULT_WEIGHT,
    });
    render();
  } catch (error) {
    showError(messageOf(error));
  } finally {
    ui.customInput.value = "";
  }
}

function remove(key) {
  const index = chosen.findIndex((item) => item.key === key);
  if (index < 0) return;
  const [item] = chosen.splice(index, 1);
  if (item.kind === "upload") URL.revokeObjectURL(item.image.url);
  ui.status.textContent = "";
  render();
}

function render() {
  const several = chosen.length >= 2;
  ui.mixMode.disabled = !several;
  ui.mixHelp.textContent = several
    ? "Blend mixes the looks everywhere; Regions gives each part of the photo the style that fits it best."
    : "Choose two or more styles to mix them.";
  const showWeights = several && ui.mixMode.value === "blend";
  renderChosen(ui.chosen, chosen, {
    showWeights,
    onWeight(key, value) {
      const item = chosen.find((c) => c.key === key);
      if (item) item.weight = value;
      updateShares(ui.chosen, chosen);
      choicesChanged();
    },
    onRemove: remove,
  });
  ui.chosenEmpty.hidden = chosen.length > 0;
  if (gallery) gallery.sync(new Set(chosen.filter((c) => c.kind === "preset").map((c) => c.id)));
  choicesChanged();
}

/**
 * Builds the mix-mode choices from `rules` (see rules.js) and listens to them and to the painting
 * input; `config` holds the file limits a painting is checked against.
 */
export function setupStyles(config, rules) {
  limits = config;
  ui.customInput.accept = acceptAttribute(config);
  maxStyles = rules.maxStyles;
  mixedKindsMessage = rules.message("MixedStyleKinds");
  fillChoices(ui.mixMode, rules.option("mix"));
  ui.customInput.addEventListener("change", () => addPainting(ui.customInput.files[0]));
  ui.mixMode.addEventListener("change", render);
  render();
}

/** Draws the preset gallery from `api.styles()`; if it cannot, says so and leaves paintings usable. */
export async function loadGallery(api) {
  try {
    const styles = await api.styles();
    gallery = renderGallery(ui.gallery, styles, togglePreset);
    render();
  } catch (error) {
    ui.gallery.replaceChildren(
      el("p", {
        class: "small text-body-secondary",
        text: "The preset styles could not be loaded. You can still use a painting of your own.",
      }),
    );
    showError(messageOf(error));
  }
}

/** How many styles are chosen. */
export function styleCount() {
  return chosen.length;
}

/** The chosen styles as shown while their job runs: [{name, thumb}], in order. */
export function chosenStyles() {
  return chosen.map((item) => ({ name: item.name, thumb: item.thumb }));
}

/**
 * The chosen styles as the instant preview paints them: presets by id, paintings by their file (and a
 * key that stays the same while the painting is in the mix), each with its weight; and the mix mode.
 */
export function styleChoice() {
  return {
    mix: chosen.length >= 2 ? ui.mixMode.value : "blend",
    styles: chosen.map((item) =>
      item.kind === "preset"
        ? { kind: "preset", id: item.id, weight: item.weight }
        : { kind: "upload", key: `painting-${item.key}`, file: item.image.file, weight: item.weight },
    ),
  };
}

/**
 * Why the chosen mix cannot be sent, or null. Presets and one's own paintings cannot be blended
 * together; saying so (in the API's words, from config.json) before anything is uploaded saves the
 * person a wasted upload. Without those words the API's refusal says it instead.
 */
export function mixProblem() {
  const kinds = new Set(chosen.map((item) => item.kind));
  return kinds.size > 1 && ui.mixMode.value === "blend" ? mixedKindsMessage : null;
}

export function focusMixMode() {
  ui.mixMode.focus();
}

/** The pictures to upload as styles (checked images), in the order of the mix. */
export function paintingsToUpload() {
  return chosen.filter((item) => item.kind === "upload").map((item) => item.image);
}

/** The request's `styles` (and `mix`, `weights` for several), given the ids of `paintingsToUpload()`. */
export function stylesRequest(uploadIds) {
  const ids = [...uploadIds];
  const request = {
    styles: chosen.map((item) =>
      item.kind === "preset" ? { preset: item.id } : { upload: ids.shift(), name: pictureName(item.name) },
    ),
  };
  if (chosen.length >= 2) {
    request.mix = ui.mixMode.value;
    if (request.mix === "blend") request.weights = chosen.map((item) => item.weight);
  }
  return request;
}

/** A painting's file name as the API takes it (printable, at most 100 characters), or "Your painting". */
function pictureName(name) {
  const control = (c) => c.codePointAt(0) < 32 || c.codePointAt(0) === 127;
  const printable = Array.from(String(name || ""), (c) => (control(c) ? " " : c)).join("").trim();
  return Array.from(printable).slice(0, 100).join("").trim() || "Your painting";
}

/** A weight from a job's answer as the slider holds it: 0 to 100, in its steps of 5. */
function sliderWeight(value) {
  const number = Number(value);
  return Number.isFinite(number) ? Math.min(100, Math.max(0, Math.round(number / 5) * 5)) : DEFAULT_WEIGHT;
}

/**
 * Makes the mix `styles`, in order (from what an earlier job asked): a preset is {preset, name,
 * thumb}, a painting {file, name}, each with its `weight` (or null); `mix` is chosen when offered.
 * Resolves to the checked paintings, in order; a painting that fails its checks is left out.
 */
export async function restoreStyles(styles, mix) {
  resetStyles();
  const paintings = [];
  for (const style of styles.slice(0, maxStyles)) {
    const weight = style.weight === null || style.weight === undefined ? DEFAULT_WEIGHT : sliderWeight(style.weight);
    if (style.preset) {
      chosen.push({ key: nextKey++, kind: "preset", id: style.preset, name: style.name, thumb: style.thumb, weight });
      continue;
    }
    try {
      const checked = await checkImageFile(style.file, limits, "painting");
      chosen.push({ key: nextKey++, kind: "upload", name: style.name, thumb: checked.url, image: checked, weight });
      paintings.push(checked);
    } catch {
      paintings.push(null);
    }
  }
  chooseOffered(ui.mixMode, mix);
  render();
  return paintings;
}

/** Forgets every chosen style (the form's own reset puts the mix mode back). */
export function resetStyles() {
  for (const item of chosen) if (item.kind === "upload") URL.revokeObjectURL(item.image.url);
  chosen = [];
  ui.status.textContent = "";
  render();
}
