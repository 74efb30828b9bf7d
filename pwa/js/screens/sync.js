// Sync: when it last got through, "Sync now", what needs attention (rejected, with Correct / Try again /
// Remove), changes made on two phones (restore or keep), and what is waiting to be sent.
import * as store from "../db.js";
import * as sync from "../sync.js";
import { h, badge, reasons, toast, fmtWhen } from "../ui.js";
import { guarded } from "../forms.js";

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
        h("button", { type: "button", class: "btn", onclick: guarded(async () => {
          await store.retryRejected(m.seq);
          sync.afterEdit();
          ctx.render();
        }) }, "Try again"),
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
      h("button", { type: "button", class: "btn", onclick: guarded(async () => {
        await restoreConflict(c);
        toast("Restored. It will be sent with the next sync.");
        sync.afterEdit();
        ctx.render();
      }) }, "Restore replaced value"),
      h("button", { type: "button", class: "btn", onclick: guarded(async () => {
        await store.edit([{ entity: "conflict", id: c.id, fields: { action: "dismiss" }, local: { resolution: "dismissed" } }]);
        sync.afterEdit();
        ctx.render();
      }) }, "Keep it as it is now"));
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
