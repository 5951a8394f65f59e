// What a job request may hold, as /config.json's `request` describes it: the id pattern, the most
// styles, and each option's type, allowed values with their labels, bounds and default. The page
// builds its choices from it, so it offers what the API accepts and nothing else.
import { ApiError } from "./api.js";
import { el } from "./dom.js";

const BROKEN = "The page could not read its settings. Please reload it in a minute.";

/**
 * The request rules of `config`: {isId(value), maxStyles, option(name), message(code)}.
 * Throws an ApiError when config.json lacks them, rather than guessing at what the API accepts.
 */
export function readRules(config) {
  const request = config && config.request;
  const usable =
    request &&
    typeof request.id_pattern === "string" &&
    Number.isInteger(request.max_styles) &&
    request.options !== null &&
    typeof request.options === "object";
  if (!usable) throw new ApiError(BROKEN, { code: "ConfigInvalid" });
  const idPattern = new RegExp(request.id_pattern);
  const messages = config.messages || {};
  return {
    maxStyles: request.max_styles,
    /** The names of the options a job may set (each described by `option`). */
    optionNames: Object.keys(request.options),
    /** True for an id of the shape the API hands out (a job's or an upload's). */
    isId: (value) => typeof value === "string" && idPattern.test(value),
    /** The description of option `name`; throws if config.json does not describe it. */
    option(name) {
      const option = request.options[name];
      if (!option || typeof option !== "object") throw new ApiError(BROKEN, { code: "ConfigInvalid" });
      return option;
    },
    /** The API's sentence for a refusal the page can foresee, by its code, or null. */
    message: (code) => (typeof messages[code] === "string" ? messages[code] : null),
  };
}

/**
 * Fills `select` with the allowed values of `option`, each under its label, the default chosen (the
 * form's reset returns to it). An option `<option value="">` already there stands for null (the
 * service decides); it stays only when the option's default is null.
 */
export function fillChoices(select, option) {
  const labels = option.labels || {};
  for (const node of [...select.options]) {
    if (node.value !== "" || option.default !== null) node.remove();
  }
  for (const value of option.enum || []) {
    select.append(el("option", { value, text: labels[value] || String(value) }));
  }
  const chosen = option.default === null ? "" : String(option.default);
  for (const node of select.options) node.defaultSelected = node.value === chosen;
  select.value = chosen;
}

/** Chooses `value` in `select` if it is one of its choices; otherwise leaves it as it is. */
export function chooseOffered(select, value) {
  if ([...select.options].some((option) => option.value === value)) select.value = value;
}
