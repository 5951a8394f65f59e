// The preset gallery and the list of chosen styles ("your mix"). The gallery is one tab stop: the
// arrow keys move between its styles as they are laid out (a grid on a wide screen, a swipeable row
// on a phone), Home and End go to the first and the last. Its thumbnails can be repainted (the
// person's own photo in each style, by the preview's networks) and put back. Server text (names,
// URLs) is only ever placed with textContent or as attribute values, never parsed as HTML.
import { el } from "./dom.js";

const DIRECTIONS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function centre(node) {
  const box = node.getBoundingClientRect();
  return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
}

/** The button nearest to `from` in direction [dx, dy] as laid out on screen, or null. */
function nearestInDirection(buttons, from, [dx, dy]) {
  const origin = centre(from);
  let best = null;
  let bestScore = Infinity;
  for (const button of buttons) {
    if (button === from) continue;
    const at = centre(button);
    const along = (at.x - origin.x) * dx + (at.y - origin.y) * dy;
    if (along < 1) continue;
    const across = Math.abs((at.x - origin.x) * dy) + Math.abs((at.y - origin.y) * dx);
    const score = along + 3 * across;
    if (score < bestScore) {
      bestScore = score;
      best = button;
    }
  }
  return best;
}

/** One tab stop for all of `buttons` (roving tabindex), moved by the arrow keys, Home and End. */
function roving(container, buttons) {
  const list = () => [...buttons.values()];
  const makeCurrent = (button) => {
    for (const other of list()) other.tabIndex = other === button ? 0 : -1;
  };
  container.addEventListener("focusin", (event) => {
    if (list().includes(event.target)) makeCurrent(event.target);
  });
  container.addEventListener("keydown", (event) => {
    const all = list();
    const from = event.target;
    if (!all.includes(from)) return;
    let to;
    if (event.key in DIRECTIONS) {
      to = nearestInDirection(all, from, DIRECTIONS[event.key]);
      // At the end of a row, left and right go on to the next (or back to the previous) style.
      if (!to && (event.key === "ArrowRight" || event.key === "ArrowLeft")) {
        to = all[all.indexOf(from) + (event.key === "ArrowRight" ? 1 : -1)] || null;
      }
    } else if (event.key === "Home") {
      to = all[0];
    } else if (event.key === "End") {
      to = all.at(-1);
    } else {
      return;
    }
    event.preventDefault();
    if (!to) return;
    makeCurrent(to);
    to.focus();
    to.scrollIntoView({ block: "nearest", inline: "nearest" });
  });
  const first = list()[0];
  if (first) makeCurrent(first);
}

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
  const thumbs = new Map(); // preset id -> {img, own: its thumbnail's URL}
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
    const own = String(style.thumbnail_url || "");
    const img = thumbnail(own, (broken) => broken.replaceWith(placeholder(name)));
    button.append(img, el("span", { class: "style-name", text: name }));
    button.addEventListener("click", () => onToggle({ id: style.id, name, thumbnail_url: style.thumbnail_url }));
    container.append(button);
    buttons.set(style.id, button);
    thumbs.set(style.id, { img, own });
  }
  roving(container, buttons);
  return {
    /** Marks the presets whose ids are in `selectedIds` as pressed. */
    sync(selectedIds) {
      for (const [id, button] of buttons) button.setAttribute("aria-pressed", String(selectedIds.has(id)));
    },
    /** Shows `url` (the person's photo painted in the preset) as the preset's thumbnail. */
    paint(id, url) {
      const thumb = thumbs.get(id);
      if (thumb && thumb.img.isConnected) thumb.img.src = url;
    },
    /** Puts every preset's own thumbnail back. */
    unpaint() {
      for (const { img, own } of thumbs.values()) if (img.isConnected && img.src !== own) img.src = own;
    },
  };
}

/**
 * Draws the chosen styles with a share slider each (shown only when `showWeights`; the weights are
 * shares adding up to 100, so each slider sits at its share) and a remove button. `onWeight(key,
 * value)` and `onRemove(key)` report changes.
 */
export function renderChosen(list, chosen, { showWeights, onWeight, onRemove }) {
  list.replaceChildren();
  for (const item of chosen) {
    const weightId = `weight-${item.key}`;
    const share = Math.round(item.weight);
    const row = el("li", { class: "chosen-item", "data-key": String(item.key) });
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
        step: "1",
        value: String(share),
        "aria-label": `Share of ${item.name} in the blend`,
        "aria-valuetext": `${share}% of the blend`,
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

/**
 * Updates the shares in place after one was moved: the figures, and the other sliders' places, so
 * the slider being dragged (`movedKey`) keeps its focus and its place under the finger.
 */
export function updateShares(list, chosen, movedKey = null) {
  for (const item of chosen) {
    const row = list.querySelector(`.chosen-item[data-key="${item.key}"]`);
    if (!row) continue;
    const share = Math.round(item.weight);
    const output = row.querySelector(".chosen-share");
    const range = row.querySelector(".chosen-weight");
    if (output) output.textContent = `${share}%`;
    if (!range) continue;
    if (item.key !== movedKey) range.value = String(share);
    range.setAttribute("aria-valuetext", `${share}% of the blend`);
  }
}
