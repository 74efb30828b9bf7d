// Settings: this phone's name, the lock time and "Lock now", whether storage is kept, and sign out.
import * as store from "../db.js";
import * as vault from "../vault.js";
import * as sync from "../sync.js";
import { h, field, fmtDay } from "../ui.js";
import { storageKept, storageWords } from "../banners.js";

export async function settings(ctx) {
  const [name, deviceId, s] = await Promise.all([store.getMeta("device_name"), store.getMeta("device_id"), sync.status()]);
  const persisted = await storageKept();
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
  // The refusal sits above the button (issue 15), so it is in view when the button is, never under the tab bar.
  const outMessage = h("p", { role: "alert", id: "sign-out-message", class: "error" });
  const out = h("button", { type: "button", class: "btn danger wide", id: "sign-out", onclick: async () => {
    const waiting = (await sync.status());
    if (waiting.unsynced + waiting.rejected) {
      const n = waiting.unsynced + waiting.rejected;
      outMessage.textContent = `You have ${n} ${n === 1 ? "thing" : "things"} not yet synced. Sync them before signing out, so nothing is lost.`;
      return;
    }
    if (!navigator.onLine) { outMessage.textContent = "Sign out needs signal, so the server can end your session."; return; }
    if (await sync.signOut()) { ctx.user = null; location.assign("/app/"); }
    else outMessage.textContent = "Something was saved while signing out. Sync first.";
  } }, "Sign out");
  const kinds = { one_to_one: "One-to-one", group: "Group", reflective: "Reflective practice" };
  const sessions = (await store.all("supervision")).sort((a, b) => String(b.held_on).localeCompare(String(a.held_on)));
  const supervision = sessions.length ? h("ul", { class: "list", id: "supervision" }, sessions.map((s) => h("li", { class: "card" },
    h("h3", { text: `${fmtDay(s.held_on)}: ${kinds[s.kind] || s.kind}` }),
    s.topics ? h("p", { text: `Talked about: ${s.topics}` }) : null,
    s.actions ? h("p", { text: `Agreed: ${s.actions}` }) : null,
    s.wellbeing != null ? h("p", { class: "sub", text: `Your wellbeing, as you shared it: ${s.wellbeing} out of 10` }) : null,
    h("p", { class: "sub", text: `Recorded by ${s.recorded_by || "your coordinator"}` }))))
    : h("p", { class: "empty", id: "supervision", text: "No supervision sessions recorded yet." });
  const workPhone = h("section", { id: "work-phone", "aria-labelledby": "work-phone-h" }); // lone working (issue 14)
  import("./lone-working.js").then((m) => m.mountWorkPhone(workPhone)).catch(() => {});
  return h("section", {},
    h("h1", { text: "Settings" }),
    h("p", { text: `Signed in as ${ctx.user ? ctx.user.name : ""}.` }),
    h("p", { class: "sub", id: "storage-state", text: storageWords(persisted) }),
    nameForm, message,
    workPhone,
    h("h2", { text: "My supervision" }),
    supervision,
    h("h2", { text: "Lock" }),
    lockForm,
    h("h2", { text: "Sign out" }),
    h("p", { text: s.unsynced + s.rejected ? "Sign out is possible once everything is synced." : "Signing out removes Alongside's data from this phone." }),
    outMessage, out);
}
