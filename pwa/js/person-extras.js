// What issue 15 adds to a person's page and the caseload: the planned end and weeks left, a closed engagement,
// "waiting for your coordinator to confirm", the did-not-attend flag and the coordinator's handover note.
import * as store from "./db.js";
import { h, fmtDay } from "./ui.js";
import { CLOSED_REASONS, word } from "./codes.js";
import { isVoided } from "./visit-state.js";

export const FLAG_AT = 2; // server/attendance.py FLAG_AT
const MISSED = ["3", "7"]; // server/codes.py MISSED
const ATTENDED = ["5", "6"];
const DAY = 24 * 60 * 60 * 1000;

// The run of missed visits, newest first (the server's rule, counted here too so a visit logged offline counts).
export function missedInARow(visits) {
  const sorted = visits.filter((v) => !v.deleted && !isVoided(v) && (MISSED.includes(v.attendance) || ATTENDED.includes(v.attendance)))
    .sort((a, b) => {
      const ta = Date.parse(a.started_at), tb = Date.parse(b.started_at);
      if (ta !== tb) return tb - ta;
      return (b.rev ?? Infinity) - (a.rev ?? Infinity) || 0; // at the same minute, the later synced (or unsent) first
    });
  let count = 0;
  for (const v of sorted) {
    if (!MISSED.includes(v.attendance)) break;
    count += 1;
  }
  return count;
}

export function missedFlag(count) {
  if (count < FLAG_AT) return null;
  return h("div", { class: "banner warn flag-missed", id: "missed-flag" },
    h("p", { text: `Missed the last ${count} visits in a row.` }),
    h("p", { text: "Try another way to reach them." }));
}

export const waiting = (p) => !!((p.added_in_field || p._added_here) && !p.confirmed);
export const WAITING_WORDS = "Waiting for your coordinator to confirm";

// Whole weeks from today to a date ("YYYY-MM-DD"); negative once it has passed.
export function weeksLeft(day, now = new Date()) {
  const [y, m, d] = day.split("-").map(Number);
  const end = new Date(y, m - 1, d);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return Math.floor(Math.round((end - today) / DAY) / 7);
}

export function engagement(p) {
  if (p.status === "closed") {
    return h("div", { class: "card ending", id: "ending" },
      h("p", { class: "title", text: `Engagement closed${p.closed_at ? ` on ${fmtDay(p.closed_at)}` : ""}${p.closed_reason ? `: ${word(CLOSED_REASONS, p.closed_reason)}` : ""}` }),
      p.ending_summary ? h("p", { text: p.ending_summary }) : null);
  }
  if (!p.planned_end) return h("p", { class: "sub", id: "planned-end", text: "No planned end set." });
  const weeks = weeksLeft(p.planned_end);
  const left = weeks > 1 ? `${weeks} weeks left` : weeks >= 0 ? (weeks === 1 ? "1 week left" : "less than a week left") : "past the planned end";
  return h("p", { class: weeks < 0 ? "sub overdue" : "sub", id: "planned-end", text: `Planned end ${fmtDay(p.planned_end)}: ${left}.` });
}

// A short, stable mark of a note's text: a dismissed note shows again only if the coordinator changes it.
function mark(text) {
  let hash = 5381;
  for (let i = 0; i < text.length; i += 1) hash = ((hash * 33) ^ text.charCodeAt(i)) >>> 0;
  return `${text.length}:${hash.toString(36)}`;
}

export async function unseenHandovers(people) {
  const seen = (await store.getMeta("handovers_seen")) || {};
  return people.filter((p) => p.handover_note && seen[p.id] !== mark(p.handover_note));
}

// The handover note: open, with "Got it", until dismissed once; then folded away but still here.
export async function handover(p) {
  if (!p.handover_note) return null;
  const seen = (await store.getMeta("handovers_seen")) || {};
  const note = h("p", { class: "handover-text", text: p.handover_note });
  if (seen[p.id] === mark(p.handover_note)) {
    return h("details", { class: "handover", id: "handover" }, h("summary", { text: "Handover note from your coordinator" }), note);
  }
  const box = h("div", { class: "banner handover", id: "handover", role: "region", "aria-labelledby": "handover-h" },
    h("h2", { id: "handover-h", text: "Handover note from your coordinator" }), note);
  box.append(h("button", { type: "button", class: "btn", id: "handover-seen", onclick: async () => {
    const now = (await store.getMeta("handovers_seen")) || {};
    now[p.id] = mark(p.handover_note);
    await store.setMeta("handovers_seen", now);
    box.replaceWith(h("details", { class: "handover", id: "handover" }, h("summary", { text: "Handover note from your coordinator" }),
      h("p", { class: "handover-text", text: p.handover_note })));
    document.querySelector("#handover summary").focus();
  } }, "Got it"));
  return box;
}
