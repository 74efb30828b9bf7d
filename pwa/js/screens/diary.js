// The diary: the next planned visit of each person, by day.
import * as store from "../db.js";
import { h, fmtDay, fmtTime, dayKey } from "../ui.js";
import { nextVisits } from "./caseload.js";

export async function diary() {
  const [next, people] = await Promise.all([nextVisits(), store.peopleList()]);
  const names = new Map(people.map((p) => [p.id, p.display_name]));
  const visits = [...next.values()].filter((v) => names.has(v.person_id)).sort((a, b) => (a._next < b._next ? -1 : 1));
  const days = new Map();
  for (const v of visits) {
    const key = dayKey(v.next_visit_at);
    if (!days.has(key)) days.set(key, []);
    days.get(key).push(v);
  }
  return h("section", {},
    h("h1", { text: "Diary" }),
    visits.length ? [...days.values()].map((list) => h("div", { class: "day" },
      h("h2", { text: fmtDay(list[0].next_visit_at) }),
      h("ul", { class: "list" }, list.map((v) => h("li", {}, h("a", { href: `/app/p/${v.person_id}`, class: "row" },
        h("span", { class: "name", text: names.get(v.person_id) }), h("span", { class: "sub", text: fmtTime(v.next_visit_at) })),
        h("a", { href: `/app/p/${v.person_id}/check-in?visit=${v.id}`, class: "btn", text: "Start visit" }))))))
      : h("p", { class: "empty", text: "No visits planned. Set the next visit when you log one." }));
}
