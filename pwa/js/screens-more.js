// Screens off the start-up path: the resource directory (searchable offline), the diary, sync status
// with conflicts and items needing attention, and settings.
import * as store from "./db.js";
import * as vault from "./vault.js";
import * as sync from "./sync.js";
import { h, field, select, badge, reasons, toast, fmtDay, fmtTime, fmtWhen, dayKey } from "./ui.js";
import { nextVisits } from "./screens-core.js";

// --- resources --------------------------------------------------------------------------------------

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

// --- diary -------------------------------------------------------------------------------------------

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
        h("span", { class: "name", text: names.get(v.person_id) }), h("span", { class: "sub", text: fmtTime(v.next_visit_at) })))))))
      : h("p", { class: "empty", text: "No visits planned. Set the next visit when you log one." }));
}

// --- sync, conflicts, needs attention ------------------------------------------------------------------

const LINK = { visit: (r) => `/app/v/${r.id}`, goal: (r) => `/app/g/${r.id}`, referral: (r) => `/app/r/${r.id}` };
const NOUN = { visit: "Visit", goal: "Goal", goal_progress: "Goal rating", referral: "Referral", person: "Person" };

export function shown(value) {
  if (value == null || value === "") return "(empty)";
  return typeof value === "string" ? value : JSON.stringify(value);
}

// One tap: the server puts the overwritten value back (a `conflict` mutation with action restore);
// the phone shows it at once.
export async function restoreConflict(conflict) {
  const changes = [{ entity: "conflict", id: conflict.id, fields: { action: "restore" }, local: { resolution: "restored" } }];
  const target = await store.get(conflict.target_entity, conflict.target_id);
  if (target && conflict.field !== "deleted") {
    changes.push({ entity: conflict.target_entity, id: conflict.target_id, fields: { [conflict.field]: conflict.lost_value }, localOnly: true });
  }
  await store.edit(changes);
}

export async function syncScreen(ctx) {
  const [s, outbox, conflicts] = await Promise.all([sync.status(), store.outboxAll(), store.all("conflict")]);
  const open = conflicts.filter((c) => !c.resolution && !c.deleted);
  const rejected = outbox.filter((m) => m.state === "rejected");
  const waiting = outbox.filter((m) => m.state !== "rejected");
  const label = async (m) => {
    const record = await store.get(m.entity, m.record_id);
    const person = record && record.person_id ? await store.get("person", record.person_id) : null;
    return [NOUN[m.entity] || m.entity, person ? person.display_name : ""].filter(Boolean).join(" for ");
  };
  const rejectedItems = await Promise.all(rejected.map(async (m) => {
    const record = await store.get(m.entity, m.record_id);
    const link = record && LINK[m.entity] ? LINK[m.entity](record) : null;
    const discard = h("button", { type: "button", class: "btn danger", onclick: async () => {
      if (!discard.dataset.armed) { // two taps, no dialog: one-handed and hard to do by accident
        discard.dataset.armed = "1";
        discard.textContent = "Tap again to remove";
        return;
      }
      await store.discardRejected(m.seq);
      sync.changed();
      toast("Removed from this phone. Your coordinator can still see what was sent.");
      ctx.render();
    } }, "Remove from phone");
    return h("li", { class: "card", "data-rejected": m.record_id },
      h("p", { class: "title", text: await label(m) }),
      h("p", { class: "error", text: reasons(m.errors) }),
      h("div", { class: "actions" },
        link ? h("a", { href: link, class: "btn", text: "Correct it" }) : null,
        h("button", { type: "button", class: "btn", onclick: async () => {
          await store.retryRejected(m.seq);
          sync.afterEdit();
          ctx.render();
        } }, "Try again"),
        discard));
  }));
  const conflictItems = await Promise.all(open.map(async (c) => {
    const record = await store.get(c.target_entity, c.target_id);
    return h("li", { class: "card", "data-conflict": c.id },
      h("p", { class: "title", text: `${NOUN[c.target_entity] || c.target_entity}: ${String(c.field).replace(/_/g, " ")}` }),
      record && record.title ? h("p", { class: "sub", text: record.title }) : null,
      h("p", {}, h("strong", { text: "Now: " }), shown(c.kept_value), c.won_by ? ` (${c.won_by})` : ""),
      h("p", {}, h("strong", { text: "Replaced: " }), shown(c.lost_value), c.lost_by ? ` (${c.lost_by})` : ""),
      badge(c),
      h("button", { type: "button", class: "btn", onclick: async (event) => {
        event.target.disabled = true;
        try {
          await restoreConflict(c);
          toast("Restored. It will be sent with the next sync.");
          sync.afterEdit();
          ctx.render();
        } catch (err) { toast(err.message); event.target.disabled = false; }
      } }, "Restore replaced value"),
      h("button", { type: "button", class: "btn", onclick: async (event) => {
        event.target.disabled = true;
        await store.edit([{ entity: "conflict", id: c.id, fields: { action: "dismiss" }, local: { resolution: "dismissed" } }]);
        sync.afterEdit();
        ctx.render();
      } }, "Keep it as it is now"));
  }));
  const waitingItems = await Promise.all(waiting.map(async (m) => h("li", {}, `${await label(m)} · ${fmtWhen(m.created_at)}`)));
  return h("section", {},
    h("h1", { text: "Sync" }),
    h("p", { id: "sync-summary", text: s.lastSync ? `Last successful sync ${fmtWhen(s.lastSync)}.` : "Not synced yet." }),
    s.lastError && s.lastError !== "offline" ? h("p", { class: "hint", text: "The last try did not get through. Alongside keeps trying; nothing is lost." }) : null,
    h("button", { type: "button", class: "btn primary wide", id: "sync-now", onclick: async (event) => {
      event.target.disabled = true;
      await sync.syncNow({ manual: true });
      ctx.render();
    } }, "Sync now"),
    h("h2", { id: "attention", text: `Needs attention (${rejected.length})` }),
    rejected.length ? h("ul", { class: "list" }, rejectedItems) : h("p", { class: "empty", text: "Nothing needs attention." }),
    h("h2", { id: "conflicts", text: `Changed on two phones (${open.length})` }),
    open.length ? h("ul", { class: "list", id: "conflict-list" }, conflictItems) : h("p", { class: "empty", text: "No conflicts." }),
    h("h2", { text: `Waiting to send (${waiting.length})` }),
    waiting.length ? h("ul", { class: "plain" }, waitingItems) : h("p", { class: "empty", text: "Everything is sent." }));
}

// --- settings ------------------------------------------------------------------------------------------

export async function settings(ctx) {
  const [name, deviceId, s] = await Promise.all([store.getMeta("device_name"), store.getMeta("device_id"), sync.status()]);
  const persisted = navigator.storage && navigator.storage.persisted ? await navigator.storage.persisted().catch(() => false) : false;
  const input = h("input", { type: "text", name: "device_name", maxlength: "80", value: name || sync.defaultDeviceName() });
  const message = h("p", { role: "status", id: "settings-message" });
  const nameForm = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    await store.setMeta("device_name", input.value.trim() || sync.defaultDeviceName());
    message.textContent = deviceId ? "Saved. Your coordinator sees the new name after the next sync." : "Saved.";
    if (deviceId) sync.syncNow({ manual: true });
  } }, field("This phone's name", input, { hint: "Helps your coordinator tell your phones apart." }),
  h("button", { type: "submit", class: "btn" }, "Save name"));
  const minutes = Number(await store.getMeta("lock_minutes")) || 5;
  const lockSelect = h("select", { name: "lock_minutes", id: "lock-minutes" },
    [1, 2, 5, 10, 15].map((m) => h("option", { value: String(m), selected: m === minutes, text: m === 1 ? "1 minute" : `${m} minutes` })));
  const lockMessage = h("p", { role: "status", id: "lock-message" });
  const lockForm = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    await store.setMeta("lock_minutes", Number(lockSelect.value));
    lockMessage.textContent = "Saved.";
  } }, field("Lock Alongside after this long without use", lockSelect, { hint: "It always locks when you close it. Your PIN opens it again." }),
  h("button", { type: "submit", class: "btn" }, "Save"),
  h("button", { type: "button", class: "btn", id: "lock-now", onclick: () => vault.lock("manual") }, "Lock now"), lockMessage);
  const out = h("button", { type: "button", class: "btn danger wide", id: "sign-out", onclick: async () => {
    const waiting = (await sync.status());
    if (waiting.unsynced + waiting.rejected) {
      message.textContent = `You have ${waiting.unsynced + waiting.rejected} things not yet synced. Sync them before signing out, so nothing is lost.`;
      return;
    }
    if (!navigator.onLine) { message.textContent = "Sign out needs signal, so the server can end your session."; return; }
    if (await sync.signOut()) { ctx.user = null; location.assign("/app/"); }
    else message.textContent = "Something was saved while signing out. Sync first.";
  } }, "Sign out");
  return h("section", {},
    h("h1", { text: "Settings" }),
    h("p", { text: `Signed in as ${ctx.user ? ctx.user.name : ""}.` }),
    h("p", { class: "sub", id: "storage-state", text: persisted
      ? "This phone keeps Alongside's data until you sign out."
      : "This browser may clear Alongside's data when space runs low. Installing the app (Add to Home Screen) keeps it safer." }),
    nameForm,
    h("h2", { text: "Lock" }),
    lockForm,
    h("h2", { text: "Sign out" }),
    h("p", { text: s.unsynced + s.rejected ? "Sign out is possible once everything is synced." : "Signing out removes Alongside's data from this phone." }),
    out, message);
}
