// A person's page: goals with their latest rating, recent visits, open referrals and coordinator feedback,
// and the actions (log a visit, new goal, refer).
import * as store from "../db.js";
import { h, badge, reasons, fmtDay, fmtWhen } from "../ui.js";
import { MODES, ATTENDANCE, CONCERNS, REFERRAL_STATUSES, word } from "../codes.js";
import { concernReply } from "../rules.js";
import { engagement, handover, missedFlag, missedInARow, waiting, WAITING_WORDS } from "../person-extras.js";
import { goalChart, history } from "../goal-chart.js";
import { isVoided, reviewWords } from "../visit-state.js";

// The newest rating: server revs order synced ones; ones not yet sent are newer still (in the order made).
export function latestRating(progress) {
  const key = (r) => [r.rev == null ? Infinity : r.rev, r._at || ""];
  const sorted = [...progress].sort((a, b) => {
    const [ra, ta] = key(a), [rb, tb] = key(b);
    return ra !== rb ? ra - rb : ta < tb ? -1 : ta > tb ? 1 : 0;
  });
  return sorted.length ? sorted[sorted.length - 1] : null;
}

export async function person(ctx, id) {
  const p = await store.get("person", id);
  if (!p) {
    return h("section", {}, h("h1", { text: "Not on your caseload" }),
      h("p", { text: "This person is not on this phone. They may have moved to another worker." }),
      h("a", { href: "/app/", class: "btn", text: "Back to caseload" }));
  }
  const [goals, visits, referrals, resources, conflicts] = await Promise.all([
    store.byIndex("goal", "person_id", id), store.byIndex("visit", "person_id", id),
    store.byIndex("referral", "person_id", id), store.all("resource"), store.byIndex("conflict", "person_id", id),
  ]);
  const openConflicts = conflicts.filter((c) => !c.resolution && !c.deleted);
  const progressByGoal = new Map(await Promise.all(goals.map(async (g) => [g.id, await store.byIndex("goal_progress", "goal_id", g.id)])));
  visits.sort((a, b) => (a.started_at < b.started_at ? 1 : -1));
  const recent = visits.slice(0, 5);
  const reviews = (await Promise.all(visits.slice(0, 20).map((v) => store.byIndex("review", "visit_id", v.id)))).flat();
  const resourceName = new Map(resources.map((r) => [r.id, r.name]));
  const active = goals.filter((g) => g.status === "active" || !g.status);
  const other = goals.filter((g) => g.status && g.status !== "active");
  const openRefs = referrals.filter((r) => !["closed", "not_taken_up"].includes(r.status));
  const visitsById = new Map(visits.map((v) => [v.id, v]));
  const closed = p.status === "closed";
  const handoverBox = await handover(p);

  const goalItem = (g) => {
    const last = latestRating(progressByGoal.get(g.id) || []);
    return h("li", { class: "card", "data-goal": g.id },
      h("a", { href: `/app/g/${g.id}`, class: "title", text: g.title || "(untitled goal)" }),
      h("p", { class: "sub", text: [g.life_area, g.target_date ? `by ${fmtDay(g.target_date)}` : ""].filter(Boolean).join(" · ") }),
      last ? h("p", { class: "progress" }, h("span", { text: `Progress ${last.rating} out of 10 ` }),
        h("meter", { min: "0", max: "10", value: String(last.rating), "aria-hidden": "true" })) : h("p", { class: "sub", text: "Not rated yet" }),
      goalChart(g.id, history(progressByGoal.get(g.id) || [], visitsById)),
      closed ? null : h("div", { class: "actions" }, h("a", { href: `/app/g/${g.id}/rate`, class: "btn", "aria-label": `Rate now: ${g.title || "goal"}` }, "Rate now")),
      badge(g), g._sync === "rejected" ? h("p", { class: "error", text: reasons(g._errors) }) : null);
  };
  const visitItem = (v) => h("li", { class: isVoided(v) ? "card tap voided" : "card tap" },
    h("a", { href: `/app/v/${v.id}`, class: "title", text: fmtWhen(v.started_at) }),
    h("p", { class: "sub", text: [word(MODES, v.mode), word(ATTENDANCE, v.attendance), v.concern && v.concern !== "none" ? word(CONCERNS, v.concern) : ""].filter(Boolean).join(" · ") }),
    badge(v), v._sync === "rejected" ? h("p", { class: "error", text: reasons(v._errors) }) : null,
    reviewWords(v) ? h("p", { class: isVoided(v) || v.changed_since_review ? "state" : "sub", text: reviewWords(v) }) : null,
    concernReply(v),
    reviews.filter((r) => r.visit_id === v.id).map((r) => h("p", { class: "feedback", text: `${r.reviewer_name || "Coordinator"}: ${r.comment || ""}` })));
  const referralItem = (r) => h("li", { class: "card tap" },
    h("a", { href: `/app/r/${r.id}`, class: "title", text: resourceName.get(r.resource_id) || "A resource" }),
    h("p", { class: "sub", text: word(REFERRAL_STATUSES, r.status) + (r.follow_up_at ? ` · follow up ${fmtDay(r.follow_up_at)}` : "") }),
    badge(r), r._sync === "rejected" ? h("p", { class: "error", text: reasons(r._errors) }) : null);

  const reminders = h("section", { class: "reminders", id: "reminders", "aria-labelledby": "reminders-h" });
  import("../reminders-section.js").then((m) => m.mount(reminders, id, active)).catch(() => {});
  return h("section", { class: "person" },
    h("h1", { text: p.display_name }),
    p.preferred_contact ? h("p", { class: "sub", text: `Contact: ${p.preferred_contact}` }) : null,
    waiting(p) ? h("p", { class: "badge b-wait", id: "waiting-confirm", text: WAITING_WORDS }) : null,
    engagement(p),
    closed ? null : missedFlag(missedInARow(visits)),
    handoverBox,
    openConflicts.length ? h("p", { class: "banner warn" }, h("a", { href: "/app/conflicts",
      text: `${openConflicts.length} change${openConflicts.length > 1 ? "s" : ""} made on two phones: check and restore` })) : null,
    h("div", { class: "actions" },
      h("a", { href: `/app/p/${id}/check-in`, class: "btn wide", id: "start-visit-link" }, "Start visit (lone working)"),
      h("a", { href: `/app/p/${id}/visit`, class: "btn primary wide", id: "log-visit" }, "Log a visit"),
      h("a", { href: `/app/p/${id}/goal`, class: "btn" }, "New goal"),
      h("a", { href: `/app/resources?person=${id}`, class: "btn" }, "Refer")),
    h("h2", { text: "Goals" }),
    active.length ? h("ul", { class: "list", id: "goals" }, active.map(goalItem)) : h("p", { class: "empty", text: "No active goals yet." }),
    other.length ? h("details", {}, h("summary", { text: `Other goals (${other.length})` }), h("ul", { class: "list" }, other.map(goalItem))) : null,
    h("h2", { text: "Recent visits" }),
    recent.length ? h("ul", { class: "list", id: "visits" }, recent.map(visitItem)) : h("p", { class: "empty", text: "No visits logged yet." }),
    h("h2", { text: "Open referrals" }),
    openRefs.length ? h("ul", { class: "list", id: "referrals" }, openRefs.map(referralItem)) : h("p", { class: "empty", text: "No open referrals." }),
    h("h2", { text: "Coordinator feedback" }),
    reviews.length ? h("ul", { class: "list", id: "feedback" }, reviews.map((r) => h("li", { class: "card feedback" },
      h("p", { class: "sub", text: `${r.reviewer_name || "Coordinator"}${r.created_at ? `, ${fmtDay(r.created_at)}` : ""}` }),
      h("p", { text: r.comment || "Reviewed" }))))
      : h("p", { class: "empty", text: "No feedback yet." }),
    closed ? null : h("h2", { text: "Ending the support" }),
    closed ? null : h("p", { class: "sub", text: "When the time comes, close it together: why it ended and a short summary." }),
    closed ? null : h("a", { href: `/app/p/${id}/close`, class: "btn wide", id: "close-engagement" }, "Close engagement"),
    reminders);
}

