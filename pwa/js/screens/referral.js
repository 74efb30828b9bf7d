// Refer a person to a resource from the directory, and a referral's own page (status, notes, follow-up).
import * as store from "../db.js";
import { h, field, select, badge, localInput, isoWithOffset, fmtWhen } from "../ui.js";
import { REFERRAL_STATUSES } from "../codes.js";
import { errorBox, formValue, missing, onSubmit, rejectedNote } from "../forms.js";

export async function referForm(ctx, personId, resourceId) {
  const [person, resource] = await Promise.all([store.get("person", personId), store.get("resource", resourceId)]);
  if (!person) return missing("Person");
  if (!resource) return missing("Resource");
  return referralScreen(ctx, person, resource, null);
}

export async function referralEdit(ctx, referralId) {
  const referral = await store.get("referral", referralId);
  if (!referral) return missing("Referral");
  const [person, resource] = await Promise.all([store.get("person", referral.person_id), store.get("resource", referral.resource_id)]);
  if (!person) return missing("Person");
  return referralScreen(ctx, person, resource || { id: referral.resource_id, name: "A resource" }, referral);
}

function referralScreen(ctx, person, resource, referral) {
  const r = referral || {};
  const follow = r.follow_up_at ? localInput(new Date(r.follow_up_at)).slice(0, 10) : "";
  const save = h("button", { type: "submit", class: "btn primary wide", id: "save-referral" }, referral ? "Update referral" : "Refer");
  const form = h("form", { class: "stack", novalidate: true },
    errorBox(),
    rejectedNote(referral),
    field("Status", select("status", REFERRAL_STATUSES, r.status || "made")),
    field("Notes", h("textarea", { name: "notes", rows: "3", value: r.notes || "" }), { hint: "Optional" }),
    field("Follow up on", h("input", { type: "date", name: "follow_up_at", value: follow }), { hint: "Optional" }),
    save);
  onSubmit(form, save, {
    entity: "referral", // the server's field rules, checked before saving (rules.js)
    save: () => {
      const day = formValue(form, "follow_up_at");
      return store.edit([{ entity: "referral", id: referral ? referral.id : store.uuid(), isNew: !referral, fields: {
        person_id: person.id, resource_id: resource.id, status: formValue(form, "status"), notes: formValue(form, "notes"),
        follow_up_at: day ? isoWithOffset(`${day}T09:00`) : null,
      } }]);
    },
    saved: referral ? "Referral updated on this phone." : "Referral saved on this phone.",
    then: () => ctx.navigate(`/app/p/${person.id}`, { replace: true }),
  });
  return h("section", { class: "form" }, h("h1", { text: referral ? "Referral" : "Refer" }),
    h("p", { class: "sub", text: `${person.display_name} to ${resource.name}` }),
    resource.phone ? h("p", {}, h("a", { href: `tel:${resource.phone}`, text: `Call ${resource.phone}` })) : null,
    referral ? badge(referral) : null, referral && r.follow_up_at ? h("p", { class: "sub", text: `Follow up ${fmtWhen(r.follow_up_at)}` }) : null,
    form);
}
