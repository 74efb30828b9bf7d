// The caseload (the start-up screen): everyone on this worker's caseload, the next planned visit first,
// searchable by name. Reads only the sealed people list and the visits' clear times (one decrypt).
import * as store from "../db.js";
import { h, field, fmtWhen } from "../ui.js";
import { FLAG_AT, unseenHandovers, waiting, WAITING_WORDS } from "../person-extras.js";

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
  const closed = people.filter((p) => p.status === "closed" && !p.deleted)
    .sort((a, b) => (a.display_name || "").localeCompare(b.display_name || ""));
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
  const handovers = await unseenHandovers(active);
  return h("section", { class: "caseload" },
    h("h1", { text: "Caseload" }),
    handovers.length ? h("div", { class: "banner", id: "handover-notice" },
      h("p", { text: "Your coordinator left a handover note for:" }),
      h("ul", { class: "plain" }, handovers.map((p) => h("li", {}, h("a", { href: `/app/p/${p.id}`, class: "inline-target", text: p.display_name || "(no name)" }))))) : null,
    h("div", { class: "actions" }, h("a", { href: "/app/people/new", class: "btn", id: "add-person" }, "Add a person")),
    field("Search your caseload", search),
    count,
    active.length ? list : h("p", { class: "empty", text: "Nobody on your caseload yet. A coordinator assigns people; they appear after the next sync." }),
    more,
    closed.length ? h("details", { class: "closed-people", id: "closed-people" }, h("summary", { text: `Support ended (${closed.length})` }),
      h("ul", { class: "list" }, closed.map((p) => h("li", {}, h("a", { href: `/app/p/${p.id}`, class: "row" },
        h("span", { class: "name", text: p.display_name || "(no name)" }), h("span", { class: "sub", text: "Engagement closed" })))))) : null);
}

function personRow(p, nextVisit) {
  return h("li", {}, h("a", { href: `/app/p/${p.id}`, class: "row" },
    h("span", { class: "name", text: p.display_name || "(no name)" }),
    h("span", { class: "sub", text: nextVisit ? `Next visit ${fmtWhen(nextVisit.next_visit_at)}` : "No visit planned" }),
    p.status === "paused" ? h("span", { class: "badge b-wait", text: "Paused" }) : null,
    waiting(p) ? h("span", { class: "badge b-wait", text: WAITING_WORDS }) : null,
    (p.missed_in_a_row || 0) >= FLAG_AT ? h("span", { class: "badge b-bad flag-missed", text: `Missed ${p.missed_in_a_row} in a row: try another way to reach them` }) : null));
}
