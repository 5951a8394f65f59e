// Where the preview sits as the screen changes: in the photo's column, kept in view while the styles
// are browsed, on a wide screen; in the action bar just above the button on a narrow one, so what
// you will get and the button to get it are in view together at any width. One element is moved,
// so what is drawn on it stays.
import { byId } from "./dom.js";

/** Bootstrap's `lg` breakpoint: below it the form is one column. */
const NARROW = "(max-width: 991.98px)";

export function setupLayout() {
  const figure = byId("style-preview");
  const column = byId("photo-stage").querySelector(".stage-inner");
  const bar = byId("action-preview");
  const narrow = window.matchMedia(NARROW);
  const place = () => (narrow.matches ? bar : column).append(figure);
  narrow.addEventListener("change", place);
  place();
}
