// Before/after on the picture itself: the frame is the picture's own box (its aspect ratio, as large
// as the screen allows), the result and the original fill it exactly, and the original is clipped at
// the divider. A drag anywhere on it (mouse, touch, pen) moves the divider, a tap puts it there, the
// arrow keys move it (the frame is a slider to assistive technology), and pressing and holding shows
// the original alone until let go. Vertical swipes still scroll the page (touch-action: pan-y).
// Positions are set through the CSSOM, which the site's Content-Security-Policy allows.

/** A press held this long without moving shows the original alone. */
const HOLD_MS = 450;
/** A pointer that moves this far (CSS pixels) is dragging, not holding. */
const DRAG_PX = 4;
const KEY_STEPS = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10 };

function clamp(value) {
  return Math.min(100, Math.max(0, value));
}

/**
 * The comparison in `frame` (holding the `before` layer, the `divider`, the `tag` over the original,
 * and a `help` line). `show(originalUrl, ratio)` turns it on for a picture of aspect `ratio`.
 */
export function setupCompare({ frame, before, divider, tag, help }) {
  let position = 50;
  let enabled = false;
  let press = null; // {id, x, y, moved, timer}

  function setPosition(value) {
    position = Math.round(clamp(value));
    frame.style.setProperty("--compare-position", `${position}%`);
    frame.dataset.position = String(position);
    if (!enabled) return;
    frame.setAttribute("aria-valuenow", String(position));
    frame.setAttribute(
      "aria-valuetext",
      position === 0
        ? "Showing only the stylized picture"
        : position === 100
          ? "Showing only the original photo"
          : `Original on the left ${position}%`,
    );
  }

  function fromPointer(event) {
    const box = frame.getBoundingClientRect();
    return ((event.clientX - box.left) / Math.max(1, box.width)) * 100;
  }

  function hold(on) {
    frame.classList.toggle("compare-holding", on);
  }

  function endPress(event) {
    if (!press || press.id !== event.pointerId) return;
    clearTimeout(press.timer);
    if (!press.moved && !press.held && event.type === "pointerup") setPosition(fromPointer(event));
    hold(false);
    press = null;
  }

  frame.addEventListener("pointerdown", (event) => {
    if (!enabled || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    frame.setPointerCapture(event.pointerId);
    press = { id: event.pointerId, x: event.clientX, y: event.clientY, moved: false, held: false, timer: 0 };
    const current = press;
    press.timer = setTimeout(() => {
      current.held = true;
      hold(true);
    }, HOLD_MS);
  });
  frame.addEventListener("pointermove", (event) => {
    if (!press || press.id !== event.pointerId) return;
    if (!press.moved && Math.hypot(event.clientX - press.x, event.clientY - press.y) < DRAG_PX) return;
    if (press.held) return; // holding shows the original until let go
    press.moved = true;
    clearTimeout(press.timer);
    setPosition(fromPointer(event));
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) frame.addEventListener(type, endPress);
  // A long press on a phone would otherwise open the picture's menu instead of showing the original.
  frame.addEventListener("contextmenu", (event) => {
    if (enabled) event.preventDefault();
  });
  frame.addEventListener("keydown", (event) => {
    if (!enabled) return;
    let next = null;
    if (event.key in KEY_STEPS) next = position + KEY_STEPS[event.key] * (event.shiftKey ? 10 : 1);
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = 100;
    if (next === null) return;
    event.preventDefault();
    setPosition(next);
  });

  return {
    /**
     * Sizes the frame for a picture of aspect `ratio` (width / height) and shows the comparison with
     * `originalUrl` as the "before" picture, or the picture alone when there is none.
     */
    show(originalUrl, ratio) {
      enabled = Boolean(originalUrl);
      if (Number.isFinite(ratio) && ratio > 0) frame.style.setProperty("--compare-ratio", String(ratio));
      before.hidden = !enabled;
      divider.hidden = !enabled;
      tag.hidden = !enabled;
      help.hidden = !enabled;
      frame.classList.toggle("compare-on", enabled);
      hold(false);
      if (enabled) {
        before.src = originalUrl;
        frame.setAttribute("role", "slider");
        frame.tabIndex = 0;
        frame.setAttribute("aria-label", "Before and after");
        frame.setAttribute("aria-valuemin", "0");
        frame.setAttribute("aria-valuemax", "100");
        frame.setAttribute("aria-describedby", help.id);
      } else {
        before.removeAttribute("src");
        for (const name of ["role", "tabindex", "aria-label", "aria-valuemin", "aria-valuemax", "aria-valuenow", "aria-valuetext", "aria-describedby"]) {
          frame.removeAttribute(name);
        }
      }
      setPosition(50);
    },
  };
}
