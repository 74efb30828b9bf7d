// Lone working (issue 14): "Start visit" records a check-in (expected end from the planned visit or a chosen
// length of time; where, optionally, kept only until the check-in is closed); "I'm finished / safe" checks out.
// Both are ordinary writes: saved on this phone first and queued for the server like any other.
// Honest about what the server knows: until the check-in has reached it, the screen says "No one has been told you
// are here" and shows the coordinator's number (cached for offline). "I need help" sends an urgent alert when
// there is signal; without signal it shows the numbers to call.
import * as store from "../db.js";
import * as sync from "../sync.js";
import { request } from "../api.js";
import { h, field, select, fmtTime, localInput, isoWithOffset, toast } from "../ui.js";
import { errorBox, onSubmit, guarded, missing } from "../forms.js";

const MAX_HOURS = 12; // the server's rule (sync/check_ins.py): the expected end within 12 hours of the start
const PLACE_MAX = 200;
const LENGTHS = [[30, "30 minutes"], [45, "45 minutes"], [60, "1 hour"], [90, "1 hour 30 minutes"], [120, "2 hours"], [180, "3 hours"]];
const CONTACTS = "lone_contacts";

// --- who to call: the worker's coordinators' work phones, cached for when there is no signal -------------------
export async function contacts() {
  if (navigator.onLine !== false) {
    try {
      const fresh = await request("GET", "/api/v1/me/contacts", { timeout: 8000 });
      await store.setMetaMany({ [CONTACTS]: fresh, lone_contacts_at: Date.now() });
      return fresh;
    } catch { /* no answer: the cached copy below */ }
  }
  return (await store.getMeta(CONTACTS)) || { coordinators: [], emergency: "999" };
}

// After a sync (app.js): fetched again when the cached copy is more than an hour old.
export async function refreshContacts() {
  const at = await store.getMeta("lone_contacts_at");
  if (at && Date.now() - at < 60 * 60 * 1000) return;
  await contacts();
}

function callList(info) {
  const people = (info.coordinators || []).filter((c) => c.tel);
  return h("ul", { class: "list call-list" },
    people.map((c) => h("li", {}, h("a", { class: "btn wide", href: `tel:${c.tel}` }, `Call ${c.name}: ${c.work_phone}`))),
    people.length ? null : h("li", { class: "sub", text: "Your coordinator has not given a work phone number yet." }),
    h("li", {}, h("a", { class: "btn danger wide", href: `tel:${info.emergency || "999"}` }, `Emergency: call ${info.emergency || "999"}`)));
}

// --- the worker's own browser, so it can be asked "Are you OK?" -------------------------------------------
function b64urlToBytes(text) {
  const pad = "=".repeat((4 - (text.length % 4)) % 4);
  const raw = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}
export async function registerPush(info) {
  try {
    if (!info.vapid_public_key || !("Notification" in window) || !navigator.serviceWorker) return false;
    const reg = await navigator.serviceWorker.getRegistration("/app/");
    if (!reg || !reg.pushManager) return false;
    if (Notification.permission === "default") await Notification.requestPermission();
    if (Notification.permission !== "granted") return false;
    const sub = (await reg.pushManager.getSubscription())
      || (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64urlToBytes(info.vapid_public_key) }));
    const json = sub.toJSON ? sub.toJSON() : sub;
    if ((await store.getMeta("lone_push_endpoint")) === json.endpoint) return true; // the server has it
    await request("POST", "/api/v1/me/push-subscription", { body: { subscription: json } });
    await store.setMeta("lone_push_endpoint", json.endpoint);
    return true;
  } catch { return false; } // not offered here (no push, refused): the coordinators are still alerted
}

// --- the rules the server applies, before saving ----------------------------------------------------------
export function problems(started, ends, place) {
  const out = [];
  if (!ends || Number.isNaN(ends.getTime())) out.push("Expected end: choose when you expect to finish.");
  else if (ends <= started) out.push("Expected end: it must be after now.");
  else if (ends - started > MAX_HOURS * 3600 * 1000) out.push(`Expected end: it must be within ${MAX_HOURS} hours.`);
  const n = place ? [...place].length : 0; // characters as the server counts them
  if (n > PLACE_MAX) out.push(`Where you are: at most ${PLACE_MAX} characters (now ${n}).`);
  return out;
}

async function openCheckIn() {
  const all = await store.all("check_in");
  return all.filter((c) => !c.checked_out_at && !["resolved", "closed"].includes(c.status))
    .sort((a, b) => (a.started_at < b.started_at ? 1 : -1))[0] || null;
}

// Start visit: /app/p/<person>/check-in[?visit=<the visit that planned this one>]
export async function startVisit(ctx, personId, params) {
  const p = await store.get("person", personId);
  if (!p) return missing("Person");
  const already = await openCheckIn();
  if (already) { ctx.navigate(`/app/check-in/${already.id}`, { replace: true }); return h("section", {}); }
  const planned = params && params.get("visit") ? await store.get("visit", params.get("visit")) : null;
  const now = new Date();
  let defaultEnd = new Date(now.getTime() + 60 * 60 * 1000);
  const plannedAt = planned && planned.next_visit_at ? Date.parse(planned.next_visit_at) : NaN;
  if (Math.abs(plannedAt - now.getTime()) < 3 * 3600 * 1000) { // from the planned visit: its time plus its length
    const start = new Date(Math.max(now.getTime(), plannedAt));
    defaultEnd = new Date(start.getTime() + (planned.duration_minutes || 60) * 60 * 1000);
  }
  const minutes = Math.round((defaultEnd - now) / 60000);
  const lengthSel = select("length", [...LENGTHS.map(([m, w]) => [String(m), w]), ["until", "Until a time I choose"]],
    LENGTHS.some(([m]) => m === minutes) ? String(minutes) : "until");
  const until = h("input", { type: "datetime-local", name: "until", value: localInput(defaultEnd) });
  const untilField = field("Expected end", until, { hint: "When you expect to finish" });
  const syncUntil = () => { untilField.hidden = lengthSel.value !== "until"; };
  lengthSel.addEventListener("change", syncUntil);
  syncUntil();
  const place = h("input", { type: "text", name: "place", maxlength: String(PLACE_MAX), autocomplete: "off" });
  const button = h("button", { type: "submit", class: "btn primary wide", id: "start-visit" }, "Start visit");
  const form = h("form", { novalidate: true }, errorBox(),
    field("How long will you be?", lengthSel), untilField,
    field("Where you are (optional)", place, { hint: "For example the address or “upstairs flat”. Deleted when you check out." }),
    button);
  const id = store.uuid();
  const chosenEnd = () => (lengthSel.value === "until" ? new Date(until.value)
    : new Date(Date.now() + Number(lengthSel.value) * 60 * 1000));
  onSubmit(form, button, {
    check: () => problems(new Date(), chosenEnd(), place.value.trim()),
    save: () => {
      const startedAt = new Date();
      const fields = { person_id: personId, visit_id: planned ? planned.id : null, started_at: isoWithOffset(localInput(startedAt)),
        expected_end_at: isoWithOffset(localInput(chosenEnd())), place: place.value.trim() || null, checked_out_at: null };
      return store.edit([{ entity: "check_in", id, fields, isNew: true }]);
    },
    saved: "Visit started",
    then: () => ctx.navigate(`/app/check-in/${id}`, { replace: true }),
  });
  contacts().then(registerPush).catch(() => {});
  return h("section", { class: "lone-working" },
    h("h1", { text: `Start visit with ${p.display_name}` }),
    h("p", { text: "Your coordinator is told if you have not checked out a little after the time you expect to finish." }),
    form);
}

function serverKnows(c) { return c.rev != null; }

// The check-in: /app/check-in/<id>
export async function checkInScreen(ctx, id) {
  const c = await store.get("check_in", id);
  if (!c) return missing("Visit check-in");
  const person = await store.get("person", c.person_id);
  const info = await contacts();
  if (navigator.onLine !== false) registerPush(info); // so this phone can be asked "Are you OK?"
  const closed = !!c.checked_out_at || ["resolved", "closed"].includes(c.status);
  const status = h("div", { id: "check-in-status", role: "status" });
  if (closed) {
    status.append(h("p", { class: "banner", text: c.checked_out_at ? `You checked out at ${fmtTime(c.checked_out_at)}.` : "Your coordinator has closed this visit." }),
      serverKnows(c) && c._sync === "synced" ? null : h("p", { class: "banner warn", text: "Your check-out has not reached the server yet. It is sent as soon as there is signal." }));
  } else if (!serverKnows(c)) {
    status.append(h("div", { class: "banner warn", id: "not-told" },
      h("p", {}, h("strong", { text: "No one has been told you are here." })),
      h("p", { text: "This phone has not reached Alongside yet. It keeps trying. If you feel unsafe, call:" }),
      callList(info)));
  } else {
    const words = { open: "Your coordinator can see you are on this visit.", prompted: "Your visit is past its expected end. Are you OK? Check out below.",
      escalated: "Your coordinator has been alerted because you have not checked out. Check out now if you are safe." };
    status.append(h("p", { class: c.status === "open" ? "banner" : "banner warn", text: words[c.status] || words.open }));
  }
  const help = h("div", { id: "help-box", hidden: true });
  const helpButton = h("button", { type: "button", class: "btn danger wide", id: "need-help" }, "I need help");
  helpButton.addEventListener("click", guarded(async () => {
    help.hidden = false;
    if (navigator.onLine === false) {
      help.replaceChildren(h("p", { class: "banner warn", role: "alert", text: "No signal: your coordinator cannot be told from here. Call:" }), callList(info));
      return;
    }
    try {
      await request("POST", "/api/v1/safety/help", { body: { check_in_id: serverKnows(c) ? id : null }, timeout: 10000 });
      help.replaceChildren(h("p", { class: "banner", role: "alert", text: "Your coordinators have been alerted. If you are in danger, call 999." }), callList(info));
    } catch {
      help.replaceChildren(h("p", { class: "banner warn", role: "alert", text: "The alert could not be sent. Call:" }), callList(info));
    }
  }));
  const done = h("button", { type: "button", class: "btn primary wide", id: "check-out" }, "I'm finished / safe");
  done.addEventListener("click", guarded(async () => {
    await store.edit([{ entity: "check_in", id, fields: { checked_out_at: isoWithOffset(localInput(new Date())), place: null } }]);
    sync.afterEdit();
    toast("Checked out. Thank you.");
    await ctx.navigate(`/app/check-in/${id}`, { replace: true });
  }));
  return h("section", { class: "lone-working" },
    h("h1", { text: closed ? "Visit finished" : "On a visit" }),
    h("p", { class: "sub", text: [person ? `With ${person.display_name}` : "", `since ${fmtTime(c.started_at)}`, `expected to end ${fmtTime(c.expected_end_at)}`].filter(Boolean).join(" · ") }),
    c.place ? h("p", { class: "sub", text: `Where: ${c.place}` }) : null,
    status,
    closed ? h("a", { class: "btn wide", href: person ? `/app/p/${person.id}` : "/app/" }, "Back") : h("div", { class: "stack" }, done, helpButton),
    help);
}

// --- the worker's own work phone number (Settings): their coordinators call it if a visit runs late ----------
// The same shape as the server's rule (server/work_phone.py): a UK number from 0 (10-11 digits) or an
// international one from + (7-15 digits); digits, spaces, brackets and dashes; at most 30 characters.
export function workPhoneProblem(raw) {
  const value = (raw || "").trim().replace(/\s+/g, " ");
  if (!value) return "";
  if (value.length > 30) return "Work phone: at most 30 characters.";
  if (!/^\+?[0-9 ()-]+$/.test(value)) return "Work phone: use digits, spaces and a leading + only, for example 07700 900123.";
  const digits = value.replace(/\D/g, "");
  if (value.startsWith("+")) {
    if (digits.length < 7 || digits.length > 15 || digits.startsWith("0")) return "Work phone: an international number is + then 7 to 15 digits, e.g. +44 7700 900123.";
  } else if (!digits.startsWith("0") || digits.length < 10 || digits.length > 11) {
    return "Work phone: a UK number starts with 0 and has 10 or 11 digits, e.g. 07700 900123.";
  }
  return "";
}

export async function mountWorkPhone(section) {
  const info = await contacts();
  const input = h("input", { type: "tel", name: "work_phone", maxlength: "30", autocomplete: "tel", value: info.my_work_phone || "" });
  const message = h("p", { role: "status", id: "work-phone-message" });
  const form = h("form", { class: "stack", novalidate: true }, errorBox(),
    field("My work phone number", input, { hint: "Your coordinator calls this if a visit runs late. For example 07700 900123." }),
    h("button", { type: "submit", class: "btn", id: "save-work-phone" }, "Save work phone"), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = workPhoneProblem(input.value);
    const box = form.querySelector(".form-errors");
    box.replaceChildren(...(problem ? [h("p", { text: problem })] : []));
    box.hidden = !problem;
    if (problem) { box.focus(); return; }
    if (navigator.onLine === false) { message.textContent = "Saving your work phone needs signal. Try again when you have some."; return; }
    try {
      const saved = await request("PUT", "/api/v1/me/work-phone", { body: { work_phone: input.value } });
      input.value = saved.work_phone;
      await store.setMeta(CONTACTS, { ...info, my_work_phone: saved.work_phone });
      message.textContent = saved.work_phone ? "Saved. Your coordinators can see it." : "Removed.";
    } catch (err) {
      message.textContent = err.status === 422 ? err.message : "Not saved: Alongside could not be reached. Try again.";
    }
  });
  section.replaceChildren(h("h2", { id: "work-phone-h", text: "Work phone" }), form);
}
