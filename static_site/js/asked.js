// What the job in progress asked for: the photo and the chosen styles, shown while it runs, so the
// panel is never empty. The page that sent the job shows the form's choices; a page opened from the
// job's link (or the strip) shows what the API says the job asked for. Server text (names, URLs) is
// only placed as text or attribute values.
import { byId, el } from "./dom.js";
import { thumbnail } from "./gallery.js";

const ui = {
  block: byId("asked"),
  photo: byId("asked-photo"),
  styles: byId("asked-styles"),
};

// A photo this browser cannot show (HEIC) or whose link has gone leaves no broken picture behind.
ui.photo.addEventListener("error", () => {
  ui.photo.hidden = true;
});

function styleItem({ name, thumb }) {
  const item = el("li", { class: "asked-style" });
  if (thumb) item.append(thumbnail(thumb, (broken) => broken.remove()));
  item.append(el("span", { class: "asked-name", text: name }));
  return item;
}

/** Shows `photo` (a URL, or null) and `styles` ([{name, thumb}]); hides the block when both are empty. */
export function showAsked({ photo, styles }) {
  if (photo) {
    ui.photo.hidden = false;
    ui.photo.src = photo;
  } else {
    ui.photo.hidden = true;
    ui.photo.removeAttribute("src");
  }
  ui.styles.replaceChildren(...styles.map(styleItem));
  ui.block.hidden = !photo && styles.length === 0;
}

/**
 * What a job's answer (GET /jobs/{id}) says it asked for, as {photo, styles: [{name, thumb}]}; parts
 * that are missing or of the wrong type are left out, never guessed.
 */
export function askedOfJob(job) {
  const request = job && typeof job.request === "object" && job.request ? job.request : {};
  const content = request.content && typeof request.content === "object" ? request.content : {};
  const styles = Array.isArray(request.styles) ? request.styles : [];
  return {
    photo: typeof content.url === "string" ? content.url : null,
    styles: styles
      .filter((style) => style && typeof style.name === "string")
      .map((style) => ({
        name: style.name,
        thumb: typeof style.thumbnail_url === "string" ? style.thumbnail_url : "",
      })),
  };
}
