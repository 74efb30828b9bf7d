// Log a visit (fast: everything has a sensible default) and a visit's own page. The save writes the visit,
// its goal ratings, their mutations and the form's next defaults in one transaction, then returns to the person.
import * as store from "../db.js";
import { h, field, select, radios, badge, localInput, isoWithOffset } from "../ui.js";
import { MODES, LOCATIONS, LEGACY_LOCATIONS, ATTENDANCE, CONCERNS, DURATIONS, RATED_BY } from "../codes.js";
import { errorBox, formValue, missing, onSubmit, rejectedNote } from "../forms.js";
import { concernReply } from "../rules.js";

const RATINGS = [["", "Not discussed"], ...Array.from({ length: 11 }, (_, i) => [String(i), String(i)])];
const WELLBEING = [["", "Not asked"], ...Array.from({ length: 11 }, (_, i) => [String(i), String(i)])];

// A code this phone kept from before 0090 is shown (and saved) as the right one.
const place = (code) => LEGACY_LOCATIONS[code] || code || "A01";

export async function visitForm(ctx, personId) {
  return visitScreen(ctx, personId, null);
}

export async function visitEdit(ctx, visitId) {
  const visit = await store.get("visit", visitId);
  if (!visit) return missing("Visit");
  return visitScreen(ctx, visit.person_id, visit);
}

async function visitScreen(ctx, personId, visit) {
  const person = await store.get("person", personId);
  if (!person) return missing("Person");
  const defaults = (await store.getMeta("visit_defaults")) || {};
  const goals = visit ? [] : (await store.byIndex("goal", "person_id", personId)).filter((g) => (g.status || "active") === "active");
  const start = visit ? new Date(visit.started_at) : new Date();
  const next = visit && visit.next_visit_at ? new Date(visit.next_visit_at) : new Date(start.getTime() + 7 * 86400000);
  const v = visit || {};

  const concernNotes = h("textarea", { name: "concern_notes", rows: "3", value: v.concern_notes || "" });
  const concernWrap = field("What is the concern?", concernNotes, { hint: "Your coordinator sees this first." });
  concernWrap.hidden = !v.concern || v.concern === "none";
  const concern = radios("concern", "Any concern?", CONCERNS, v.concern || "none");
  concern.addEventListener("change", () => { concernWrap.hidden = concern.querySelector("input:checked").value === "none"; });

  const goalRows = goals.map((g) => field(g.title || "Goal", select(`goal:${g.id}`, RATINGS, ""), { hint: "Progress 0 (not started) to 10 (done)" }));
  const save = h("button", { type: "submit", class: "btn primary wide", id: "save-visit" }, visit ? "Save changes" : "Save visit");
  const form = h("form", { class: "stack", novalidate: true },
    errorBox(),
    rejectedNote(visit),
    field("When", h("input", { type: "datetime-local", name: "started_at", required: true, value: localInput(start) })),
    field("How long (minutes)", select("duration_minutes", DURATIONS.map((d) => [String(d), String(d)]), v.duration_minutes || defaults.duration_minutes || 60)),
    radios("mode", "How you met", MODES, v.mode || defaults.mode || "01"),
    field("Where", select("location_type", LOCATIONS, place(v.location_type || defaults.location_type))),
    radios("attendance", "Did it happen?", ATTENDANCE, v.attendance || "5"),
    goalRows.length ? h("fieldset", { class: "goals" }, h("legend", { text: "Goals talked about" }), goalRows,
      radios("rated_by", "Who gave these ratings?", RATED_BY, defaults.rated_by || "person")) : null,
    field("How are they feeling today? (0 to 10)", select("wellbeing", WELLBEING, v.wellbeing ?? ""), { hint: "Optional" }),
    concern, concernWrap,
    field("Notes", h("textarea", { name: "notes", rows: "4", value: v.notes || "" }), { hint: "Optional. Plain facts; the person may read this." }),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "group_session", checked: !!v.group_session }), h("span", { text: "Group session" })),
    field("Next visit", h("input", { type: "datetime-local", name: "next_visit_at", value: localInput(next) }), { hint: "Leave empty if none is planned." }),
    save);

  const othersVisit = visit && visit.author_id && ctx.user && visit.author_id !== ctx.user.id;
  if (othersVisit) { // only the author may change a visit: show it, read-only
    for (const control of form.querySelectorAll("input, select, textarea")) control.disabled = true;
    save.hidden = true;
  }
  const checked = (name) => form.querySelector(`input[name=${name}]:checked`).value;
  onSubmit(form, save, {
    entity: "visit", // the server's field rules, checked before saving (rules.js)
    check: () => {
      const problems = [];
      if (!isoWithOffset(formValue(form, "started_at"))) problems.push("Enter when the visit happened.");
      if (checked("concern") !== "none" && !concernNotes.value.trim()) problems.push("Say briefly what the concern is.");
      return problems;
    },
    save: async () => {
      const visitId = visit ? visit.id : store.uuid();
      const rated = goals.map((g) => [g, formValue(form, `goal:${g.id}`)]).filter(([, r]) => r !== "");
      const wellbeing = formValue(form, "wellbeing");
      const concernValue = checked("concern");
      const fields = {
        person_id: personId,
        started_at: isoWithOffset(formValue(form, "started_at")),
        duration_minutes: Number(formValue(form, "duration_minutes")),
        mode: checked("mode"),
        location_type: formValue(form, "location_type"),
        attendance: checked("attendance"),
        group_session: form.elements.group_session.checked,
        notes: formValue(form, "notes"),
        goal_ids: visit ? visit.goal_ids || [] : rated.map(([g]) => g.id),
        wellbeing: wellbeing === "" ? null : Number(wellbeing),
        concern: concernValue,
        concern_notes: concernValue === "none" ? "" : concernNotes.value.trim(),
        next_visit_at: isoWithOffset(formValue(form, "next_visit_at")),
      };
      const now = new Date().toISOString();
      const changes = [{ entity: "visit", id: visitId, fields, isNew: !visit }];
      for (const [g, rating] of rated) {
        changes.push({ entity: "goal_progress", id: store.uuid(), isNew: true,
          fields: { goal_id: g.id, visit_id: visitId, rating: Number(rating), note: "", rated_by: checked("rated_by") },
          local: { _at: now } });
      }
      const nextDefaults = { mode: fields.mode, location_type: fields.location_type, duration_minutes: fields.duration_minutes };
      if (goalRows.length) nextDefaults.rated_by = checked("rated_by");
      await store.edit(changes, { visit_defaults: nextDefaults });
      performance.mark("visit-stored");
    },
    saved: () => {
      performance.mark("visit-saved"); // read by bench/pwa_budget.py
      return visit ? "Changes saved on this phone." : "Visit saved on this phone.";
    },
    then: () => ctx.navigate(`/app/p/${personId}`, { replace: true }),
  });

  return h("section", { class: "form" },
    h("h1", { text: visit ? "Visit" : "Log a visit" }),
    h("p", { class: "sub", text: person.display_name }), visit ? badge(visit) : null, concernReply(visit),
    othersVisit ? h("p", { class: "hint", text: "Logged by another worker; only they can change it." }) : null, form);
}
