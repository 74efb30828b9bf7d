// A visit's state in words (issue 15), and the guards on its times. The guards are the server's
// (server/schemas.py, published as maxAheadSeconds in the rules document): the phone refuses them before saving.
import { h, isoWithOffset } from "./ui.js";

export const VISIT_AHEAD_MS = 24 * 60 * 60 * 1000;
export const NEXT_VISIT_AHEAD_MS = 731 * 24 * 60 * 60 * 1000;

// Problems with a visit's times, from the form's datetime-local values: [{field, message}].
export function visitGuards(startedLocal, nextLocal, now = Date.now()) {
  const problems = [];
  const started = isoWithOffset(startedLocal);
  if (!started) problems.push({ field: "started_at", message: "Enter when the visit happened." });
  else if (Date.parse(started) > now + VISIT_AHEAD_MS) {
    problems.push({ field: "started_at", message: "A visit cannot be logged more than a day ahead. Check the date." });
  }
  const next = isoWithOffset(nextLocal);
  if (next && Date.parse(next) > now + NEXT_VISIT_AHEAD_MS) {
    problems.push({ field: "next_visit_at", message: "The next visit must be within two years." });
  }
  return problems;
}

// Voided here (not yet sent) or by the server.
export const isVoided = (v) => !!(v.voided_at || v._voided_at);

// What the coordinator's review means now: never "Reviewed" alone once the visit changed after it.
export function reviewWords(v) {
  if (isVoided(v)) return v.voided_reason ? `Voided: ${v.voided_reason}` : "Voided";
  if (!v.reviewed) return "";
  if (v.changed_since_review) return "Reviewed — changed since";
  return v.concern_acknowledged ? "Reviewed; concern seen by your coordinator" : "Reviewed by your coordinator";
}

// The note at the top of a visit's own page.
export function visitStateNote(v) {
  const words = reviewWords(v);
  if (!words) return null;
  if (isVoided(v)) {
    return h("div", { class: "banner warn", id: "visit-voided" },
      h("p", { text: words }), h("p", { class: "sub", text: "Kept as a record, left out of reports." }));
  }
  return h("p", { class: v.changed_since_review ? "badge b-warn" : "sub", id: "visit-reviewed", text: words });
}
