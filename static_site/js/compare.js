// The before/after slider: the original photo lies over the result, clipped to the slider's
// position, so dragging (or pressing the arrow keys on) the range input reveals one or the other.
// Positions are set through the CSSOM, which the site's Content-Security-Policy allows.

export function setupCompare({ container, before, divider, control, range, tag }) {
  const apply = () => {
    const position = Number(range.value);
    container.style.setProperty("--compare-position", `${position}%`);
    range.setAttribute(
      "aria-valuetext",
      position === 0
        ? "Showing only the stylized picture"
        : position === 100
          ? "Showing only the original photo"
          : `Original on the left ${position}%`,
    );
  };
  range.addEventListener("input", apply);

  return {
    /** Shows the slider with `originalUrl` as the "before" picture, or hides it when there is none. */
    show(originalUrl) {
      const enabled = Boolean(originalUrl);
      before.hidden = !enabled;
      divider.hidden = !enabled;
      tag.hidden = !enabled;
      control.hidden = !enabled;
      container.classList.toggle("compare-on", enabled);
      if (enabled) {
        before.src = originalUrl;
        range.value = "50";
        apply();
      } else {
        before.removeAttribute("src");
      }
    },
  };
}
