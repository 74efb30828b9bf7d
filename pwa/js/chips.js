// One-tap choices (issue 15: a routine visit in a few taps): a group of radio buttons drawn as chips, each a
// 44 px target, the legend naming the group. Used for visit length and goal ratings (0 to 10).
import { h } from "./ui.js";

export const RATING_VALUES = Array.from({ length: 11 }, (_, i) => [String(i), String(i)]);

export function chips(name, legend, options, value, { hint, id } = {}) {
  const hintId = hint ? `${id || name.replace(/[^a-z0-9]/gi, "-")}-hint` : null;
  return h("fieldset", { class: "radios chips", id, "aria-describedby": hintId },
    h("legend", { text: legend }),
    hint ? h("p", { class: "hint", id: hintId, text: hint }) : null,
    options.map(([v, label]) => h("label", { class: "chip" },
      h("input", { type: "radio", name, value: v, checked: String(v) === String(value ?? "") }),
      h("span", { text: label }))));
}

// A goal's rating: 0 (not started) to 10 (done); "Not rated" unless it must have one (an existing rating).
export function ratingChips(name, legend, value, { allowNone = true, id } = {}) {
  const options = allowNone ? [...RATING_VALUES, ["", "Not rated"]] : RATING_VALUES;
  return chips(name, legend, options, value ?? "", { id });
}

export function chosen(form, name) {
  const el = form.querySelector(`input[name="${name}"]:checked`);
  return el ? el.value : "";
}
