// The resource directory, searchable offline, with a Refer button for the chosen person.
import * as store from "../db.js";
import { h, field, select, toast } from "../ui.js";

export async function resources(ctx, params) {
  const personId = params.get("person");
  const [all, person, people] = await Promise.all([
    store.all("resource"), personId ? store.get("person", personId) : null, store.all("person"),
  ]);
  const live = all.filter((r) => !r.archived && !r.deleted).sort((a, b) => (a.name || "").localeCompare(b.name || ""));
  const categories = [...new Set(live.map((r) => r.category).filter(Boolean))].sort();
  const q = h("input", { type: "search", name: "q", autocomplete: "off" });
  const cat = select("category", [["", "All categories"], ...categories.map((c) => [c, c])], "");
  const who = person ? null : select("person", [["", "Choose a person to refer"], ...people.filter((p) => p.status !== "closed")
    .sort((a, b) => (a.display_name || "").localeCompare(b.display_name || "")).map((p) => [p.id, p.display_name])], "");
  const list = h("ul", { class: "list", id: "resource-list" });
  const count = h("p", { class: "hint", "aria-live": "polite" });
  const draw = () => {
    const text = q.value.trim().toLowerCase();
    const shown = live.filter((r) => (!cat.value || r.category === cat.value)
      && (!text || `${r.name} ${r.category} ${r.description || ""} ${r.area || ""}`.toLowerCase().includes(text)));
    count.textContent = `${shown.length} of ${live.length} resources`;
    list.replaceChildren(...shown.slice(0, 200).map((r) => h("li", { class: "card" },
      h("p", { class: "title", text: r.name }),
      h("p", { class: "sub", text: [r.category, r.area].filter(Boolean).join(" · ") }),
      r.description ? h("p", { text: r.description }) : null,
      r.opening_hours ? h("p", { class: "sub", text: r.opening_hours }) : null,
      r.phone ? h("p", {}, h("a", { href: `tel:${r.phone}`, text: r.phone })) : null,
      h("button", { type: "button", class: "btn", "data-resource": r.id, onclick: () => {
        const target = person ? person.id : who.value;
        if (!target) { toast("Choose a person first."); who.focus(); return; }
        ctx.navigate(`/app/p/${target}/refer/${r.id}`);
      } }, person ? `Refer ${person.display_name}` : "Refer"))));
  };
  q.addEventListener("input", draw);
  cat.addEventListener("change", draw);
  draw();
  return h("section", {},
    h("h1", { text: "Resources" }),
    person ? h("p", { class: "sub", text: `Referring ${person.display_name}` }) : field("Who is this for?", who),
    field("Search by name", q), field("Category", cat), count,
    live.length ? list : h("p", { class: "empty", text: "The directory arrives with your first sync." }));
}
