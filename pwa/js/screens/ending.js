// Close an engagement (issue 15; peer support is meant to end well): why it ended and a short ending summary
// written with the person. Saved on this phone and sent with the next sync; the person leaves the caseload list
// but their page stays, with the summary.
import * as store from "../db.js";
import { h, field, radios } from "../ui.js";
import { CLOSED_REASONS } from "../codes.js";
import { errorBox, formValue, missing, onSubmit } from "../forms.js";
import { chosen } from "../chips.js";

export const SUMMARY_MAX = 2000;

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export async function closeEngagement(ctx, personId) {
  const person = await store.get("person", personId);
  if (!person) return missing("Person");
  const save = h("button", { type: "submit", class: "btn primary wide", id: "save-ending" }, "Close the engagement");
  const form = h("form", { class: "stack", novalidate: true },
    errorBox(),
    radios("closed_reason", "Why is it ending?", CLOSED_REASONS, person.closed_reason || ""),
    field("Ending summary, written together", h("textarea", { name: "ending_summary", rows: "5", maxlength: String(SUMMARY_MAX), value: person.ending_summary || "" }),
      { hint: "What changed, what helped, and where they can turn next. They may read this." }),
    field("Last day of support", h("input", { type: "date", name: "closed_at", value: person.closed_at || isoDay(new Date()) })),
    save,
    h("a", { href: `/app/p/${person.id}`, class: "btn wide" }, "Not now"));
  onSubmit(form, save, {
    check: () => {
      const problems = [];
      if (!chosen(form, "closed_reason")) problems.push("Choose why the engagement is ending.");
      if (!formValue(form, "ending_summary").trim()) problems.push("Write a short ending summary with them.");
      if (formValue(form, "ending_summary").length > SUMMARY_MAX) problems.push(`Keep the summary under ${SUMMARY_MAX} characters.`);
      if (!formValue(form, "closed_at")) problems.push("Enter the last day of support.");
      return problems;
    },
    save: () => store.edit([{ entity: "person", id: person.id, isNew: false, fields: {
      status: "closed", closed_reason: chosen(form, "closed_reason"), ending_summary: formValue(form, "ending_summary").trim(),
      closed_at: formValue(form, "closed_at"),
    } }]),
    saved: "Engagement closed on this phone.",
    then: () => ctx.navigate(`/app/p/${person.id}`, { replace: true }),
  });
  return h("section", { class: "form" }, h("h1", { text: "Close the engagement" }),
    h("p", { class: "sub", text: person.display_name }), form);
}
