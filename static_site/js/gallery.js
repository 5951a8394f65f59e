// The preset gallery and the list of chosen styles ("your mix"). Server text (names, URLs) is only
// ever placed with textContent or as attribute values, never parsed as HTML.
import { el } from "./dom.js";

/** A style's thumbnail; `onMissing(img)` when it cannot be shown (a link gone, a picture unreadable). */
export function thumbnail(src, onMissing) {
  const img = el("img", { src, alt: "", loading: "lazy", decoding: "async", class: "thumb" });
  img.addEventListener("error", () => onMissing(img), { once: true });
  return img;
}

function placeholder(name) {
  return el("span", { class: "thumb thumb-missing", "aria-hidden": "true", text: (name || "?").charAt(0) });
}

/** Draws one toggle button per preset into `container`; `onToggle(style)` when one is pressed. */
export function renderGallery(container, styles, onToggle) {
  container.replaceChildren();
  const buttons = new Map();
  for (const style of styles) {
    if (!style || typeof style.id !== "string") continue;
    const name = typeof style.name === "string" ? style.name : style.id;
    const button = el("button", {
      type: "button",
      class: "style-option",
      "data-testid": "style-option",
      "data-style-id": style.id,
      "aria-pressed": "false",
      title: name,
    });
    const img = thumbnail(String(style.thumbnail_url || ""), (broken) => broken.replaceWith(placeholder(name)));
    button.append(img, el("span", { class: "style-name", text: name }));
    button.addEventListener("click", () => onToggle({ id: style.id, name, thumbnail_url: style.thumbnail_url }));
    container.append(button);
    buttons.set(style.id, button);
  }
  return {
    /** Marks the presets whose ids are in `selectedIds` as pressed. */
    sync(selectedIds) {
      for (const [id, button] of buttons) button.setAttribute("aria-pressed", String(selectedIds.has(id)));
    },
  };
}

/**
 * Draws the chosen styles with a weight slider each (shown only when `showWeights`) and a remove
 * button. `onWeight(key, value)` and `onRemove(key)` report changes.
 */
export function renderChosen(list, chosen, { showWeights, onWeight, onRemove }) {
  list.replaceChildren();
  const total = chosen.reduce((sum, item) => sum + item.weight, 0) || 1;
  for (const item of chosen) {
    const weightId = `weight-${item.key}`;
    const share = Math.round((100 * item.weight) / total);
    const row = el("li", { class: "chosen-item" });
    const img = thumbnail(item.thumb, (broken) => broken.replaceWith(placeholder(item.name)));
    const label = el("span", { class: "chosen-name" }, el("span", { text: item.name }));
    if (item.kind === "upload") label.append(el("span", { class: "badge text-bg-secondary ms-2", text: "your painting" }));
    row.append(img, label);
    if (showWeights) {
      const range = el("input", {
        id: weightId,
        type: "range",
        class: "form-range chosen-weight",
        min: "0",
        max: "100",
        step: "5",
        value: String(item.weight),
        "aria-label": `Weight of ${item.name}`,
        "aria-valuetext": `${share}% of the mix`,
      });
      const output = el("output", { for: weightId, class: "chosen-share small", text: `${share}%` });
      range.addEventListener("input", () => onWeight(item.key, Number(range.value)));
      row.append(range, output);
    }
    const remove = el("button", {
      type: "button",
      class: "btn btn-sm btn-outline-secondary chosen-remove",
      "aria-label": `Remove ${item.name}`,
      text: "Remove",
    });
    remove.addEventListener("click", () => onRemove(item.key));
    row.append(remove);
    list.append(row);
  }
}

/** Updates the "% of the mix" figures in place, so a slider being dragged keeps its focus. */
export function updateShares(list, chosen) {
  const total = chosen.reduce((sum, item) => sum + item.weight, 0) || 1;
  const rows = list.querySelectorAll(".chosen-item");
  chosen.forEach((item, index) => {
    const row = rows[index];
    if (!row) return;
    const share = Math.round((100 * item.weight) / total);
    const output = row.querySelector(".chosen-share");
    const range = row.querySelector(".chosen-weight");
    if (output) output.textContent = `${share}%`;
    if (range) range.setAttribute("aria-valuetext", `${share}% of the mix`);
  });
}
