// Log a visit (fast: everything has a sensible default) and a visit's own page. The routine visit is a few taps
// on at most two screens (issue 15): when, how long and goal ratings as one-tap chips, notes and any concern; the
// less common fields fold away under "More details", which says what they hold. Editing a visit edits all of it,
// its goal ratings included. The save writes the visit, its ratings, their mutations and the form's next
// defaults in one transaction, then returns to the person.
import * as store from "../db.js";
import { h, field, select, radios, badge, localInput, isoWithOffset, fmtDay } from "../ui.js";
import { MODES, LOCATIONS, LEGACY_LOCATIONS, ATTENDANCE, CONCERNS, DURATIONS, RATED_BY, word } from "../codes.js";
import { errorBox, formValue, missing, onSubmit, rejectedNote } from "../forms.js";
import { chips, chosen, ratingChips } from "../chips.js";
import { isVoided, visitGuards, visitStateNote } from "../visit-state.js";

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

// This visit's own ratings, by goal (the newest if a goal was rated twice in it).
async function ratingsOf(visit, goals) {
  const out = new Map();
  if (!visit) return out;
  const lists = await Promise.all(goals.map((g) => store.byIndex("goal_progress", "goal_id", g.id)));
  for (const list of lists) for (const r of list) if (r.visit_id === visit.id && !r.deleted) out.set(r.goal_id, r);
  return out;
}

async function visitScreen(ctx, personId, visit) {
  const person = await store.get("person", personId);
  if (!person) return missing("Person");
  const defaults = (await store.getMeta("visit_defaults")) || {};
  const allGoals = await store.byIndex("goal", "person_id", personId);
  const ratings = await ratingsOf(visit, allGoals);
  const goals = allGoals.filter((g) => (g.status || "active") === "active" || ratings.has(g.id));
  const start = visit ? new Date(visit.started_at) : new Date();
  const next = visit ? (visit.next_visit_at ? new Date(visit.next_visit_at) : null) : new Date(start.getTime() + 7 * 86400000);
  const v = visit || {};

  const concernNotes = h("textarea", { name: "concern_notes", rows: "3", value: v.concern_notes || "" });
  const concernWrap = field("What is the concern?", concernNotes, { hint: "Your coordinator sees this first." });
  concernWrap.hidden = !v.concern || v.concern === "none";
  const concern = radios("concern", "Any concern?", CONCERNS, v.concern || "none");
  concern.addEventListener("change", () => { concernWrap.hidden = concern.querySelector("input:checked").value === "none"; });

  const goalRows = goals.map((g) => {
    const had = ratings.get(g.id);
    return ratingChips(`goal:${g.id}`, g.title || "Goal", had ? had.rating : "", { allowNone: !had });
  });
  const duration = v.duration_minutes || defaults.duration_minutes || 60;
  const durations = DURATIONS.includes(Number(duration)) ? DURATIONS : [...DURATIONS, Number(duration)].sort((a, b) => a - b);
  const ratedBy = [...ratings.values()].map((r) => r.rated_by).find(Boolean) || defaults.rated_by || "person";

  const more = h("details", { class: "more", id: "more-details" },
    h("summary", {}, h("span", { class: "more-title", text: "More details" }), h("span", { class: "sub more-sum" })),
    goals.length ? radios("rated_by", "Who gave the goal ratings?", RATED_BY, ratedBy) : null,
    radios("mode", "How you met", MODES, v.mode || defaults.mode || "01"),
    field("Where", select("location_type", LOCATIONS, place(v.location_type || defaults.location_type))),
    radios("attendance", "Did it happen?", ATTENDANCE, v.attendance || "5"),
    field("How are they feeling today? (0 to 10)", select("wellbeing", WELLBEING, v.wellbeing ?? ""), { hint: "Optional" }),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "group_session", checked: !!v.group_session }), h("span", { text: "Group session" })),
    field("Next visit", h("input", { type: "datetime-local", name: "next_visit_at", value: next ? localInput(next) : "" }), { hint: "Leave empty if none is planned." }));

  const save = h("button", { type: "submit", class: "btn primary wide", id: "save-visit" }, visit ? "Save changes" : "Save visit");
  const form = h("form", { class: "stack visit", novalidate: true },
    errorBox(),
    rejectedNote(visit),
    field("When", h("input", { type: "datetime-local", name: "started_at", required: true, value: localInput(start) })),
    chips("duration_minutes", "How long (minutes)", durations.map((d) => [String(d), String(d)]), duration, { id: "duration" }),
    goalRows.length ? h("fieldset", { class: "goals", "aria-describedby": "goals-hint" }, h("legend", { text: "Goals talked about" }),
      h("p", { class: "hint", id: "goals-hint", text: "Progress 0 (not started) to 10 (done)" }), goalRows) : null,
    field("Notes", h("textarea", { name: "notes", rows: "3", value: v.notes || "" }), { hint: "Optional. Plain facts; the person may read this." }),
    concern, concernWrap,
    more,
    save);

  // The summary says what the folded fields hold, so the defaults are checked without opening them.
  const summarise = () => {
    const nextValue = formValue(form, "next_visit_at");
    more.querySelector(".more-sum").textContent = [
      word(MODES, chosen(form, "mode")), word(LOCATIONS, formValue(form, "location_type")), word(ATTENDANCE, chosen(form, "attendance")),
      nextValue ? `next visit ${fmtDay(isoWithOffset(nextValue))}` : "no next visit",
      goals.length ? `rated by ${chosen(form, "rated_by") === "together" ? "you together" : "the person"}` : "",
    ].filter(Boolean).join(" · ");
  };
  form.addEventListener("change", summarise);
  summarise();

  const mine = !visit || !visit.author_id || !ctx.user || visit.author_id === ctx.user.id;
  const readOnly = !mine || !!(visit && isVoided(visit));
  if (readOnly) { // only the author may change a visit, and a voided visit stays as it was: show it, read-only
    for (const control of form.querySelectorAll("input, select, textarea")) control.disabled = true;
    save.hidden = true;
  }
  onSubmit(form, save, {
    check: () => {
      const problems = visitGuards(formValue(form, "started_at"), formValue(form, "next_visit_at"));
      if (problems.some((p) => p.field === "next_visit_at")) more.open = true;
      const out = problems.map((p) => p.message);
      if (chosen(form, "concern") !== "none" && !concernNotes.value.trim()) out.push("Say briefly what the concern is.");
      return out;
    },
    save: async () => {
      const visitId = visit ? visit.id : store.uuid();
      const rated = goals.map((g) => [g, chosen(form, `goal:${g.id}`)]).filter(([, r]) => r !== "");
      const wellbeing = formValue(form, "wellbeing");
      const concernValue = chosen(form, "concern");
      const goalIds = [...new Set([...(visit ? visit.goal_ids || [] : []), ...rated.map(([g]) => g.id)])];
      const fields = {
        person_id: personId,
        started_at: isoWithOffset(formValue(form, "started_at")),
        duration_minutes: Number(chosen(form, "duration_minutes")),
        mode: chosen(form, "mode"),
        location_type: formValue(form, "location_type"),
        attendance: chosen(form, "attendance"),
        group_session: form.elements.group_session.checked,
        notes: formValue(form, "notes"),
        goal_ids: goalIds,
        wellbeing: wellbeing === "" ? null : Number(wellbeing),
        concern: concernValue,
        concern_notes: concernValue === "none" ? "" : concernNotes.value.trim(),
        next_visit_at: isoWithOffset(formValue(form, "next_visit_at")),
      };
      const now = new Date().toISOString();
      const by = goalRows.length ? chosen(form, "rated_by") : null;
      const changes = [{ entity: "visit", id: visitId, fields, isNew: !visit }];
      for (const [g, rating] of rated) {
        const had = ratings.get(g.id);
        if (had) {
          changes.push({ entity: "goal_progress", id: had.id, isNew: false, fields: { rating: Number(rating), rated_by: by } });
        } else {
          changes.push({ entity: "goal_progress", id: store.uuid(), isNew: true,
            fields: { goal_id: g.id, visit_id: visitId, rating: Number(rating), note: "", rated_by: by },
            local: { _at: now } });
        }
      }
      const nextDefaults = { mode: fields.mode, location_type: fields.location_type, duration_minutes: fields.duration_minutes };
      if (goalRows.length) nextDefaults.rated_by = by;
      await store.edit(changes, { visit_defaults: nextDefaults });
      performance.mark("visit-stored");
    },
    saved: () => {
      performance.mark("visit-saved"); // read by bench/pwa_budget.py
      return visit ? "Changes saved on this phone." : "Visit saved on this phone.";
    },
    then: () => ctx.navigate(`/app/p/${personId}`, { replace: true }),
  });

  const canVoid = visit && mine && !isVoided(visit);
  return h("section", { class: "form" },
    h("h1", { text: visit ? "Visit" : "Log a visit" }),
    h("p", { class: "sub", text: person.display_name }), visit ? badge(visit) : null,
    visit ? visitStateNote(visit) : null,
    !mine ? h("p", { class: "hint", text: "Logged by another worker; only they can change it." }) : null,
    form,
    canVoid ? h("p", { class: "void-link" }, h("a", { href: `/app/v/${visit.id}/void`, class: "btn danger", id: "void-visit" }, "Void this visit")) : null);
}
