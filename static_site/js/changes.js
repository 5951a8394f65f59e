// "The person changed what the job would ask for": the photo, the styles, their mix or an option.
// The modules that own those choices announce each change here; whoever shows something that depends
// on all of them (the instant preview) listens, without the modules knowing about each other.
const changes = new EventTarget();

/** Announces that a choice changed; listeners read the new state from the modules that own it. */
export function choicesChanged() {
  changes.dispatchEvent(new Event("change"));
}

/** Calls `listener` after every change of a choice. */
export function onChoicesChanged(listener) {
  changes.addEventListener("change", () => listener());
}
