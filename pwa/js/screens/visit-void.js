// Void a visit logged in error (issue 15): the author gives a reason; the visit stays as a record, marked voided,
// and leaves reports. Saved on this phone first, sent with the next sync, like every other change.
import * as store from "../db.js";
import { h, field, fmtWhen } from "../ui.js";
import { errorBox, formValue, missing, onSubmit } from "../forms.js";
import { isVoided } from "../visit-state.js";

export const REASON_MAX = 500;

export async function voidVisit(ctx, visitId) {
  const visit = await store.get("visit", visitId);
  if (!visit) return missing("Visit");
  const person = await store.get("person", visit.person_id);
  const back = h("a", { href: `/app/v/${visit.id}`, class: "btn" }, "Keep the visit");
  if (isVoided(visit) || (visit.author_id && ctx.user && visit.author_id !== ctx.user.id)) {
    return h("section", {}, h("h1", { text: "Void a visit" }),
      h("p", { text: isVoided(visit) ? "This visit is already voided." : "Only the worker who logged it can void it." }), back);
  }
  const save = h("button", { type: "submit", class: "btn danger wide", id: "confirm-void" }, "Void this visit");
  const form = h("form", { class: "stack", novalidate: true },
    errorBox(),
    field("Why is it being voided?", h("textarea", { name: "voided_reason", rows: "3", maxlength: String(REASON_MAX), required: true }),
      { hint: "For example: logged for the wrong person, or logged twice. Your coordinator sees this." }),
    save, back);
  onSubmit(form, save, {
    check: () => {
      const reason = formValue(form, "voided_reason").trim();
      if (!reason) return ["Say briefly why the visit is being voided."];
      return reason.length > REASON_MAX ? [`Keep the reason under ${REASON_MAX} characters.`] : [];
    },
    save: () => store.edit([{ entity: "visit", id: visit.id, isNew: false,
      fields: { voided_reason: formValue(form, "voided_reason").trim() }, local: { _voided_at: new Date().toISOString() } }]),
    saved: "Visit voided on this phone.",
    then: () => ctx.navigate(`/app/p/${visit.person_id}`, { replace: true }),
  });
  return h("section", { class: "form" }, h("h1", { text: "Void a visit" }),
    h("p", { class: "sub", text: `${person ? person.display_name : ""}, ${fmtWhen(visit.started_at)}` }),
    h("p", { text: "The visit stays as a record, marked voided, and leaves reports. This cannot be undone." }), form);
}
