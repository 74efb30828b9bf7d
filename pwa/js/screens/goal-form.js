// A new goal, in the person's own words, and a goal's own page (edit, status).
import * as store from "../db.js";
import { h, field, select, badge } from "../ui.js";
import { CHIME, GOAL_STATUSES, LIFE_AREAS } from "../codes.js";
import { errorBox, formValue, missing, onSubmit, rejectedNote } from "../forms.js";

export async function goalForm(ctx, personId) {
  const person = await store.get("person", personId);
  if (!person) return missing("Person");
  return goalScreen(ctx, person, null);
}

export async function goalEdit(ctx, goalId) {
  const goal = await store.get("goal", goalId);
  if (!goal) return missing("Goal");
  const person = await store.get("person", goal.person_id);
  if (!person) return missing("Person");
  return goalScreen(ctx, person, goal);
}

function goalScreen(ctx, person, goal) {
  const g = goal || {};
  const areas = LIFE_AREAS.map((a) => [a, a]);
  if (g.life_area && !LIFE_AREAS.includes(g.life_area)) areas.push([g.life_area, g.life_area]);
  const save = h("button", { type: "submit", class: "btn primary wide", id: "save-goal" }, goal ? "Save goal" : "Add goal");
  const form = h("form", { class: "stack", novalidate: true },
    errorBox(),
    rejectedNote(goal),
    field("The goal, in their own words", h("textarea", { name: "title", rows: "2", maxlength: "300", required: true, value: g.title || "" })),
    field("Life area", select("life_area", areas, g.life_area || "Wellbeing")),
    field("Steps", h("textarea", { name: "steps", rows: "3", value: g.steps || "" }), { hint: "Small steps, one a line." }),
    field("Status", select("status", GOAL_STATUSES, g.status || "active")),
    field("Aim to reach it by", h("input", { type: "date", name: "target_date", value: g.target_date || "" }), { hint: "Optional" }),
    h("fieldset", { class: "chime" }, h("legend", { text: "What is this goal about? (optional, choose together)" }),
      CHIME.map(([code, words]) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: "chime_tags", value: code, checked: (g.chime_tags || []).includes(code) }),
        h("span", { text: words })))),
    save);
  onSubmit(form, save, {
    entity: "goal", // the server's field rules, checked before saving (rules.js)
    // Spaces only (the field rules pass them); an empty title the rules have already said beside the field.
    check: () => (formValue(form, "title").trim() || form.elements.title.getAttribute("aria-invalid")
      ? [] : ["Write the goal in their words."]),
    save: () => store.edit([{ entity: "goal", id: goal ? goal.id : store.uuid(), isNew: !goal, fields: {
      person_id: person.id, title: formValue(form, "title").trim(), life_area: formValue(form, "life_area"),
      steps: formValue(form, "steps"), status: formValue(form, "status"), target_date: formValue(form, "target_date") || null,
      chime_tags: [...form.querySelectorAll("input[name=chime_tags]:checked")].map((c) => c.value),
    } }]),
    saved: "Goal saved on this phone.",
    then: () => ctx.navigate(`/app/p/${person.id}`, { replace: true }),
  });
  return h("section", { class: "form" }, h("h1", { text: goal ? "Goal" : "New goal" }),
    h("p", { class: "sub", text: person.display_name }), goal ? badge(goal) : null, form);
}
