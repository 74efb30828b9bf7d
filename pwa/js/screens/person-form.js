// Add a person met in the field (issue 15): the name they wish to be called, how they like to be contacted, when
// the support starts and is planned to end. Saved on this phone and sent with the next sync like everything else;
// the server puts them on this worker's caseload, flagged for the coordinator to confirm.
import * as store from "../db.js";
import { h, field } from "../ui.js";
import { errorBox, formValue, onSubmit } from "../forms.js";

const NAME_MAX = 120;
const CONTACT_MAX = 200;

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function personForm(ctx) {
  const today = new Date();
  const save = h("button", { type: "submit", class: "btn primary wide", id: "save-person" }, "Add to my caseload");
  const form = h("form", { class: "stack", novalidate: true },
    errorBox(),
    field("Name, as they wish to be called", h("input", { type: "text", name: "display_name", maxlength: String(NAME_MAX), required: true, autocomplete: "off" }),
      { hint: "A first name or a nickname is enough." }),
    field("How they prefer to be contacted", h("input", { type: "text", name: "preferred_contact", maxlength: String(CONTACT_MAX), autocomplete: "off" }),
      { hint: "Optional. For example: text after 5pm, or through the hostel office." }),
    field("Support starts", h("input", { type: "date", name: "engagement_start", value: isoDay(today) })),
    field("Planned end", h("input", { type: "date", name: "planned_end" }), { hint: "Optional. Peer support usually runs for some months; you can change this later." }),
    save);
  onSubmit(form, save, {
    check: () => {
      const problems = [];
      const name = formValue(form, "display_name").trim();
      if (!name) problems.push("Write the name they wish to be called.");
      if (name.length > NAME_MAX) problems.push(`Keep the name under ${NAME_MAX} characters.`);
      if (formValue(form, "preferred_contact").length > CONTACT_MAX) problems.push(`Keep how to contact them under ${CONTACT_MAX} characters.`);
      const start = formValue(form, "engagement_start"), end = formValue(form, "planned_end");
      if (start && end && end < start) problems.push("The planned end must be after the start.");
      return problems;
    },
    save: async () => {
      const id = store.uuid();
      form.dataset.saved = id;
      await store.edit([{ entity: "person", id, isNew: true, local: { _added_here: true }, fields: {
        display_name: formValue(form, "display_name").trim(),
        preferred_contact: formValue(form, "preferred_contact").trim(),
        engagement_start: formValue(form, "engagement_start") || null,
        planned_end: formValue(form, "planned_end") || null,
        status: "active",
      } }]);
    },
    saved: "Added on this phone. Your coordinator confirms them after the next sync.",
    then: () => ctx.navigate(`/app/p/${form.dataset.saved}`, { replace: true }),
  });
  return h("section", { class: "form" }, h("h1", { text: "Add a person" }),
    h("p", { class: "sub", text: "Someone you met who wants peer support. They join your caseload now; your coordinator confirms them." }),
    form);
}
