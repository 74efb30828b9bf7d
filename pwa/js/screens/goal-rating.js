// Rate a goal outside a visit (issue 15), for example after a phone call: a rating with who gave it and a short
// note, saved on this phone (no visit) and sent with the next sync.
import * as store from "../db.js";
import { h, field, radios } from "../ui.js";
import { RATED_BY } from "../codes.js";
import { errorBox, formValue, missing, onSubmit } from "../forms.js";
import { chosen, ratingChips } from "../chips.js";

export async function rateGoal(ctx, goalId) {
  const goal = await store.get("goal", goalId);
  if (!goal) return missing("Goal");
  const person = await store.get("person", goal.person_id);
  if (!person) return missing("Person");
  const defaults = (await store.getMeta("visit_defaults")) || {};
  const save = h("button", { type: "submit", class: "btn primary wide", id: "save-rating" }, "Save rating");
  const form = h("form", { class: "stack", novalidate: true },
    errorBox(),
    ratingChips("rating", "Progress now, 0 (not started) to 10 (done)", "", { allowNone: false, id: "rating" }),
    radios("rated_by", "Who gave this rating?", RATED_BY, defaults.rated_by || "person"),
    field("Note", h("textarea", { name: "note", rows: "2" }), { hint: "Optional. For example: after a phone call." }),
    save);
  onSubmit(form, save, {
    check: () => (chosen(form, "rating") === "" ? ["Choose a rating from 0 to 10."] : []),
    save: () => store.edit([{ entity: "goal_progress", id: store.uuid(), isNew: true, local: { _at: new Date().toISOString() },
      fields: { goal_id: goal.id, visit_id: null, rating: Number(chosen(form, "rating")), note: formValue(form, "note").trim(),
        rated_by: chosen(form, "rated_by") } }]),
    saved: "Rating saved on this phone.",
    then: () => ctx.navigate(`/app/p/${person.id}`, { replace: true }),
  });
  return h("section", { class: "form" }, h("h1", { text: "Rate a goal" }),
    h("p", { class: "sub", text: `${person.display_name}: ${goal.title || "goal"}` }), form);
}
