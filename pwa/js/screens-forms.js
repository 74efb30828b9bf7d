// The forms: log a visit (fast: everything has a sensible default), goals, referrals. Each save writes
// the records and their mutations in one transaction, then returns to the person.
import * as store from "./db.js";
import * as sync from "./sync.js";
import { h, field, select, radios, badge, reasons, toast, localInput, isoWithOffset, fmtWhen } from "./ui.js";
import { MODES, LOCATIONS, ATTENDANCE, CONCERNS, GOAL_STATUSES, REFERRAL_STATUSES, LIFE_AREAS, DURATIONS } from "./codes.js";

const RATINGS = [["", "Not discussed"], ...Array.from({ length: 11 }, (_, i) => [String(i), String(i)])];
const WELLBEING = [["", "Not asked"], ...Array.from({ length: 11 }, (_, i) => [String(i), String(i)])];

function missing(ctx, what) {
  return h("section", {}, h("h1", { text: `${what} not found` }),
    h("p", { text: "It is not on this phone any more." }), h("a", { href: "/app/", class: "btn", text: "Back to caseload" }));
}

function formValue(form, name) {
  const el = form.elements[name];
  return el ? el.value : "";
}

function errorSummary(form, problems) {
  const box = form.querySelector(".form-errors");
  box.replaceChildren(...problems.map((p) => h("p", { text: p })));
  box.hidden = !problems.length;
  if (problems.length) box.focus();
  return problems.length === 0;
}

function rejectedNote(record) {
  return record && record._sync === "rejected"
    ? h("div", { class: "banner warn", role: "alert" }, h("p", { text: `The server did not accept this: ${reasons(record._errors)}. Correct it and save again.` }))
    : null;
}

// --- visits -----------------------------------------------------------------------------------------

export async function visitForm(ctx, personId) {
  return visitScreen(ctx, personId, null);
}

export async function visitEdit(ctx, visitId) {
  const visit = await store.get("visit", visitId);
  if (!visit) return missing(ctx, "Visit");
  return visitScreen(ctx, visit.person_id, visit);
}

async function visitScreen(ctx, personId, visit) {
  const person = await store.get("person", personId);
  if (!person) return missing(ctx, "Person");
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
    h("div", { class: "form-errors banner warn", role: "alert", tabindex: "-1", hidden: true }),
    rejectedNote(visit),
    field("When", h("input", { type: "datetime-local", name: "started_at", required: true, value: localInput(start) })),
    field("How long (minutes)", select("duration_minutes", DURATIONS.map((d) => [String(d), String(d)]), v.duration_minutes || defaults.duration_minutes || 60)),
    radios("mode", "How you met", MODES, v.mode || defaults.mode || "01"),
    field("Where", select("location_type", LOCATIONS, v.location_type || defaults.location_type || "A01")),
    radios("attendance", "Did it happen?", ATTENDANCE, v.attendance || "5"),
    goalRows.length ? h("fieldset", { class: "goals" }, h("legend", { text: "Goals talked about" }), goalRows) : null,
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
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (othersVisit) return;
    const started = isoWithOffset(formValue(form, "started_at"));
    const concernValue = form.querySelector("input[name=concern]:checked").value;
    const problems = [];
    if (!started) problems.push("Enter when the visit happened.");
    if (concernValue !== "none" && !concernNotes.value.trim()) problems.push("Say briefly what the concern is.");
    if (!errorSummary(form, problems)) return;
    const visitId = visit ? visit.id : store.uuid();
    const rated = goals.map((g) => [g, formValue(form, `goal:${g.id}`)]).filter(([, r]) => r !== "");
    const wellbeing = formValue(form, "wellbeing");
    const fields = {
      person_id: personId,
      started_at: started,
      duration_minutes: Number(formValue(form, "duration_minutes")),
      mode: form.querySelector("input[name=mode]:checked").value,
      location_type: formValue(form, "location_type"),
      attendance: form.querySelector("input[name=attendance]:checked").value,
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
        fields: { goal_id: g.id, visit_id: visitId, rating: Number(rating), note: "" }, local: { _at: now } });
    }
    save.disabled = true;
    try {
      const defaults = { mode: fields.mode, location_type: fields.location_type, duration_minutes: fields.duration_minutes };
      await store.edit(changes, { visit_defaults: defaults });
      performance.mark("visit-stored");
    } catch (err) {
      save.disabled = false;
      errorSummary(form, [err.message || "Could not save on this phone."]);
      return;
    }
    performance.mark("visit-saved"); // read by bench/pwa_budget.py
    toast(visit ? "Changes saved on this phone." : "Visit saved on this phone.");
    sync.afterEdit();
    ctx.navigate(`/app/p/${personId}`, { replace: true });
  });

  return h("section", { class: "form" },
    h("h1", { text: visit ? "Visit" : "Log a visit" }),
    h("p", { class: "sub", text: person.display_name }), visit ? badge(visit) : null,
    othersVisit ? h("p", { class: "hint", text: "Logged by another worker; only they can change it." }) : null, form);
}

// --- goals --------------------------------------------------------------------------------------------

export async function goalForm(ctx, personId) {
  const person = await store.get("person", personId);
  if (!person) return missing(ctx, "Person");
  return goalScreen(ctx, person, null);
}

export async function goalEdit(ctx, goalId) {
  const goal = await store.get("goal", goalId);
  if (!goal) return missing(ctx, "Goal");
  const person = await store.get("person", goal.person_id);
  if (!person) return missing(ctx, "Person");
  return goalScreen(ctx, person, goal);
}

function goalScreen(ctx, person, goal) {
  const g = goal || {};
  const areas = LIFE_AREAS.map((a) => [a, a]);
  if (g.life_area && !LIFE_AREAS.includes(g.life_area)) areas.push([g.life_area, g.life_area]);
  const save = h("button", { type: "submit", class: "btn primary wide", id: "save-goal" }, goal ? "Save goal" : "Add goal");
  const form = h("form", { class: "stack", novalidate: true },
    h("div", { class: "form-errors banner warn", role: "alert", tabindex: "-1", hidden: true }),
    rejectedNote(goal),
    field("The goal, in their own words", h("textarea", { name: "title", rows: "2", maxlength: "300", required: true, value: g.title || "" })),
    field("Life area", select("life_area", areas, g.life_area || "Wellbeing")),
    field("Steps", h("textarea", { name: "steps", rows: "3", value: g.steps || "" }), { hint: "Small steps, one a line." }),
    field("Status", select("status", GOAL_STATUSES, g.status || "active")),
    field("Aim to reach it by", h("input", { type: "date", name: "target_date", value: g.target_date || "" }), { hint: "Optional" }),
    save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const title = formValue(form, "title").trim();
    if (!errorSummary(form, title ? [] : ["Write the goal in their words."])) return;
    const fields = {
      person_id: person.id, title, life_area: formValue(form, "life_area"), steps: formValue(form, "steps"),
      status: formValue(form, "status"), target_date: formValue(form, "target_date") || null,
    };
    save.disabled = true;
    try {
      await store.edit([{ entity: "goal", id: goal ? goal.id : store.uuid(), fields, isNew: !goal }]);
    } catch (err) {
      save.disabled = false;
      errorSummary(form, [err.message]);
      return;
    }
    toast("Goal saved on this phone.");
    sync.afterEdit();
    ctx.navigate(`/app/p/${person.id}`, { replace: true });
  });
  return h("section", { class: "form" }, h("h1", { text: goal ? "Goal" : "New goal" }),
    h("p", { class: "sub", text: person.display_name }), goal ? badge(goal) : null, form);
}

// --- referrals ----------------------------------------------------------------------------------------

export async function referForm(ctx, personId, resourceId) {
  const [person, resource] = await Promise.all([store.get("person", personId), store.get("resource", resourceId)]);
  if (!person) return missing(ctx, "Person");
  if (!resource) return missing(ctx, "Resource");
  return referralScreen(ctx, person, resource, null);
}

export async function referralEdit(ctx, referralId) {
  const referral = await store.get("referral", referralId);
  if (!referral) return missing(ctx, "Referral");
  const [person, resource] = await Promise.all([store.get("person", referral.person_id), store.get("resource", referral.resource_id)]);
  if (!person) return missing(ctx, "Person");
  return referralScreen(ctx, person, resource || { id: referral.resource_id, name: "A resource" }, referral);
}

function referralScreen(ctx, person, resource, referral) {
  const r = referral || {};
  const follow = r.follow_up_at ? localInput(new Date(r.follow_up_at)).slice(0, 10) : "";
  const save = h("button", { type: "submit", class: "btn primary wide", id: "save-referral" }, referral ? "Update referral" : "Refer");
  const form = h("form", { class: "stack", novalidate: true },
    h("div", { class: "form-errors banner warn", role: "alert", tabindex: "-1", hidden: true }),
    rejectedNote(referral),
    field("Status", select("status", REFERRAL_STATUSES, r.status || "made")),
    field("Notes", h("textarea", { name: "notes", rows: "3", value: r.notes || "" }), { hint: "Optional" }),
    field("Follow up on", h("input", { type: "date", name: "follow_up_at", value: follow }), { hint: "Optional" }),
    save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const day = formValue(form, "follow_up_at");
    const fields = {
      person_id: person.id, resource_id: resource.id, status: formValue(form, "status"), notes: formValue(form, "notes"),
      follow_up_at: day ? isoWithOffset(`${day}T09:00`) : null,
    };
    save.disabled = true;
    await store.edit([{ entity: "referral", id: referral ? referral.id : store.uuid(), fields, isNew: !referral }]);
    toast(referral ? "Referral updated on this phone." : "Referral saved on this phone.");
    sync.afterEdit();
    ctx.navigate(`/app/p/${person.id}`, { replace: true });
  });
  return h("section", { class: "form" }, h("h1", { text: referral ? "Referral" : "Refer" }),
    h("p", { class: "sub", text: `${person.display_name} to ${resource.name}` }),
    resource.phone ? h("p", {}, h("a", { href: `tel:${resource.phone}`, text: `Call ${resource.phone}` })) : null,
    referral ? badge(referral) : null, referral && r.follow_up_at ? h("p", { class: "sub", text: `Follow up ${fmtWhen(r.follow_up_at)}` }) : null,
    form);
}
