// The screens on the start-up path: sign in, caseload, and a person's page.
import * as store from "./db.js";
import * as sync from "./sync.js";
import { h, field, badge, reasons, fmtDay, fmtWhen } from "./ui.js";
import { MODES, ATTENDANCE, CONCERNS, REFERRAL_STATUSES, word } from "./codes.js";

export function signIn(ctx, { again = false, email: known = "", title = "", intro = "" } = {}) {
  const error = h("p", { class: "error", role: "alert", id: "signin-error" });
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, inputmode: "email", value: known || "" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit", class: "btn primary wide" }, "Sign in");
  const form = h("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!email.value || !password.value) { error.textContent = "Enter your email and password."; return; }
    if (navigator.onLine === false) { error.textContent = "You need signal to sign in. Your work stays safe on this phone."; return; }
    button.disabled = true;
    try {
      await sync.signIn(email.value.trim(), password.value);
      await ctx.signedIn();
    } catch (err) {
      error.textContent = err.status === 401 ? "That email and password do not match."
        : err.status === 429 ? "Too many tries. Please wait a minute."
        : err.code === "other_user" ? err.message
        : "Could not reach Alongside. Check your signal and try again.";
      button.disabled = false;
    }
  } },
  field("Email", email), field("Password", password), error, button);
  return h("section", { class: "signin" },
    h("h1", { text: title || (again ? "Sign in again" : "Sign in") }),
    h("p", { text: intro || (again ? "Your sign-in ended. Everything you logged is still on this phone and will be sent once you sign in."
      : "Sign in once with signal. After that Alongside works without signal.") }),
    form);
}

// --- caseload ------------------------------------------------------------------------------------

const PAGE = 100;

export async function nextVisits() {
  const now = new Date(Date.now() - 60 * 60 * 1000).toISOString();
  const upcoming = await store.upcomingVisitTimes(now); // clear fields: nothing to decrypt
  const latest = new Map(); // person -> the visit logged most recently (its next date is the plan)
  for (const v of upcoming) {
    const seen = latest.get(v.person_id);
    if (!seen || (v.started_at || "") > (seen.started_at || "")) latest.set(v.person_id, v);
  }
  return latest;
}

export async function caseload(ctx, _params) {
  const [people, next] = await Promise.all([store.peopleList(), nextVisits()]);
  const active = people.filter((p) => p.status !== "closed" && !p.deleted);
  active.sort((a, b) => {
    const na = next.get(a.id), nb = next.get(b.id);
    if (na && nb) return na._next < nb._next ? -1 : 1;
    if (na || nb) return na ? -1 : 1;
    return (a.display_name || "").localeCompare(b.display_name || "");
  });
  const list = h("ul", { class: "list", id: "caseload-list" });
  const more = h("button", { type: "button", class: "btn wide", hidden: true }, "Show more");
  let shown = [];
  let limit = PAGE;
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    shown = q ? active.filter((p) => (p.display_name || "").toLowerCase().includes(q)) : active;
    list.replaceChildren(...shown.slice(0, limit).map((p) => personRow(p, next.get(p.id))));
    more.hidden = shown.length <= limit;
    count.textContent = q ? `${shown.length} found` : `${active.length} people`;
  };
  const search = h("input", { type: "search", name: "q", autocomplete: "off", placeholder: "Name", oninput: () => { limit = PAGE; draw(); } });
  const count = h("p", { class: "hint", "aria-live": "polite" });
  more.addEventListener("click", () => { limit += PAGE; draw(); });
  draw();
  return h("section", { class: "caseload" },
    h("h1", { text: "Caseload" }),
    field("Search your caseload", search),
    count,
    active.length ? list : h("p", { class: "empty", text: "Nobody on your caseload yet. A coordinator assigns people; they appear after the next sync." }),
    more);
}

function personRow(p, nextVisit) {
  return h("li", {}, h("a", { href: `/app/p/${p.id}`, class: "row" },
    h("span", { class: "name", text: p.display_name || "(no name)" }),
    h("span", { class: "sub", text: nextVisit ? `Next visit ${fmtWhen(nextVisit.next_visit_at)}` : "No visit planned" }),
    p.status === "paused" ? h("span", { class: "badge b-wait", text: "Paused" }) : null));
}

// --- person ----------------------------------------------------------------------------------------

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

  const goalItem = (g) => {
    const last = latestRating(progressByGoal.get(g.id) || []);
    return h("li", { class: "card", "data-goal": g.id },
      h("a", { href: `/app/g/${g.id}`, class: "title", text: g.title || "(untitled goal)" }),
      h("p", { class: "sub", text: [g.life_area, g.target_date ? `by ${fmtDay(g.target_date)}` : ""].filter(Boolean).join(" · ") }),
      last ? h("p", { class: "progress" }, h("span", { text: `Progress ${last.rating} out of 10 ` }),
        h("meter", { min: "0", max: "10", value: String(last.rating), "aria-hidden": "true" })) : h("p", { class: "sub", text: "Not rated yet" }),
      badge(g), g._sync === "rejected" ? h("p", { class: "error", text: reasons(g._errors) }) : null);
  };
  const visitItem = (v) => h("li", { class: "card" },
    h("a", { href: `/app/v/${v.id}`, class: "title", text: fmtWhen(v.started_at) }),
    h("p", { class: "sub", text: [word(MODES, v.mode), word(ATTENDANCE, v.attendance), v.concern && v.concern !== "none" ? word(CONCERNS, v.concern) : ""].filter(Boolean).join(" · ") }),
    badge(v), v._sync === "rejected" ? h("p", { class: "error", text: reasons(v._errors) }) : null,
    v.reviewed ? h("p", { class: "sub", text: v.concern_acknowledged ? "Reviewed; concern seen by your coordinator" : "Reviewed by your coordinator" }) : null,
    reviews.filter((r) => r.visit_id === v.id).map((r) => h("p", { class: "feedback", text: `${r.reviewer_name || "Coordinator"}: ${r.comment || ""}` })));
  const referralItem = (r) => h("li", { class: "card" },
    h("a", { href: `/app/r/${r.id}`, class: "title", text: resourceName.get(r.resource_id) || "A resource" }),
    h("p", { class: "sub", text: word(REFERRAL_STATUSES, r.status) + (r.follow_up_at ? ` · follow up ${fmtDay(r.follow_up_at)}` : "") }),
    badge(r), r._sync === "rejected" ? h("p", { class: "error", text: reasons(r._errors) }) : null);

  const reminders = h("section", { class: "reminders", id: "reminders", "aria-labelledby": "reminders-h" });
  import("./reminders-section.js").then((m) => m.mount(reminders, id, active)).catch(() => {});
  return h("section", { class: "person" },
    h("h1", { text: p.display_name }),
    p.preferred_contact ? h("p", { class: "sub", text: `Contact: ${p.preferred_contact}` }) : null,
    openConflicts.length ? h("p", { class: "banner warn" }, h("a", { href: "/app/conflicts",
      text: `${openConflicts.length} change${openConflicts.length > 1 ? "s" : ""} made on two phones: check and restore` })) : null,
    h("div", { class: "actions" },
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
    reminders);
}

