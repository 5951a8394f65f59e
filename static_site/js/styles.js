// Step 2 of the form: the styles. Presets are toggled in the gallery, paintings of one's own are
// added with a file input; together they make "your mix", up to the limit, with a share each when
// blended (the shares always add up to 100%, so a slider's place is its share). A mix the API would
// refuse is not left for the button to find: presets and paintings of one's own cannot be blended,
// so such a mix is made by regions, and the note under the mix control says why, where it happens.
// This module owns the chosen styles and the mix-mode control.
import { choicesChanged } from "./changes.js";
import { byId, el } from "./dom.js";
import { acceptAttribute, checkImageFile } from "./files.js";
import { renderChosen, renderGallery, updateShares } from "./gallery.js";
import { clearError, messageOf, showError } from "./messages.js";
import { chooseOffered, fillChoices } from "./rules.js";
import { rebalance, setShare, withNewcomer } from "./shares.js";


const ui = {
  gallery: byId("gallery"),
  status: byId("gallery-status"),
  customInput: byId("custom-style-input"),
  chosen: byId("chosen"),
  chosenEmpty: byId("chosen-empty"),
  mixMode: byId("mix-mode"),
  mixHelp: byId("mix-help"),
  mixRule: byId("mix-rule"),
};

let limits = null; // config.json's file limits
let maxStyles = 1;
let mixedKindsMessage = null; // the API's sentence for a blend of presets and paintings
let chosen = []; // [{key, kind: "preset"|"upload", id?, name, thumb, image?, weight}]: weights add up to 100
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
    withNewcomer(chosen, {
      key: nextKey++,
      kind: "preset",
      id: style.id,
      name: style.name,
      thumb: String(style.thumbnail_url || ""),
    });
  }
  rebalance(chosen);
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
    withNewcomer(chosen, { key: nextKey++, kind: "upload", name: file.name || "Your painting", thumb: checked.url, image: checked });
    render();
  } catch (error) {
    showError(messageOf(error), { near: "styles" });
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
  rebalance(chosen);
  render();
}

/** True when the mix holds presets and paintings of one's own, which are never blended together. */
function mixedKinds() {
  return new Set(chosen.map((item) => item.kind)).size > 1;
}

function offers(select, value) {
  return [...select.options].some((option) => option.value === value);
}

/**
 * The rule of mixed kinds, applied where the mix is made: blending is not offered for them, the mix
 * goes by regions (when the API offers regions), and the note says so in the API's own words.
 */
function applyMixRules() {
  const mixed = mixedKinds();
  const blend = [...ui.mixMode.options].find((option) => option.value === "blend");
  if (blend) blend.disabled = mixed && offers(ui.mixMode, "regions");
  if (mixed && ui.mixMode.value === "blend" && offers(ui.mixMode, "regions")) ui.mixMode.value = "regions";
  ui.mixRule.hidden = !mixed;
  if (!mixed) return;
  const why = mixedKindsMessage || "Presets and paintings of your own cannot be blended together.";
  ui.mixRule.textContent = offers(ui.mixMode, "regions")
    ? `${why} So they are mixed by regions: each part of your photo gets the style that fits it best.`
    : why;
}

function render() {
  const several = chosen.length >= 2;
  ui.mixMode.disabled = !several;
  applyMixRules();
  ui.mixHelp.textContent = several
    ? "Blend mixes the looks everywhere; Regions gives each part of the photo the style that fits it best."
    : "Choose two or more styles to mix them.";
  const showWeights = several && ui.mixMode.value === "blend";
  renderChosen(ui.chosen, chosen, {
    showWeights,
    onWeight(key, value) {
      setShare(chosen, key, value);
      updateShares(ui.chosen, chosen, key);
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
    showError(messageOf(error), { near: "styles" });
  }
}

/** The gallery's thumbnails as the preview paints them on the person's photo: {paint(id, url), unpaint()}. */
export const presetThumbnails = {
  paint: (id, url) => gallery && gallery.paint(id, url),
  unpaint: () => gallery && gallery.unpaint(),
};

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
        : { kind: "upload", key: `painting-${item.key}`, file: item.image.shown, weight: item.weight },
    ),
  };
}

/**
 * Why the chosen mix cannot be sent, or null. A mix of presets and paintings goes by regions as it
 * is made (see applyMixRules); only where the API offers no regions is it still refused here, before
 * anything is uploaded, in the API's words. Without those words the API's refusal says it instead.
 */
export function mixProblem() {
  return mixedKinds() && ui.mixMode.value === "blend" ? mixedKindsMessage : null;
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

/** A weight from a job's answer, before the shares are made from them (a missing one: an equal part). */
function askedWeight(value) {
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : null;
}

/**
 * Makes the mix `styles`, in order (from what an earlier job asked): a preset is {preset, name,
 * thumb}, a painting {file, name}, each with its `weight` (or null); `mix` is chosen when offered.
 * Resolves to the checked paintings, in order; a painting that fails its checks is left out.
 */
export async function restoreStyles(styles, mix) {
  resetStyles();
  const paintings = [];
  const asked = styles.slice(0, maxStyles);
  const given = asked.map((style) => askedWeight(style.weight));
  const mean = given.filter((w) => w !== null).reduce((sum, w, _, all) => sum + w / all.length, 0) || 1;
  for (const [index, style] of asked.entries()) {
    const weight = given[index] ?? mean;
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
  rebalance(chosen);
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
