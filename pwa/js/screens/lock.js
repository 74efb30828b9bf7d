// The screens in front of the data: choose a PIN after sign-in, unlock with it, and the offline lease.
// Plain words; nothing here ever removes data (wrong PINs only make the worker wait).
import * as store from "../db.js";
import * as sync from "../sync.js";
import * as vault from "../vault.js";
import { h, field } from "../ui.js";

function pinInput(name, autocomplete) {
  return h("input", { type: "password", name, autocomplete, required: true, minlength: String(vault.MIN_PIN),
    autocapitalize: "off", spellcheck: "false" });
}

// After sign-in (first time, or after a forgotten PIN): choose a PIN, then the data key is made or re-wrapped.
export function setPin(ctx, { recovered = false } = {}) {
  const error = h("p", { class: "error", role: "alert", id: "pin-error" });
  const pin = pinInput("new_pin", "new-password");
  const again = pinInput("new_pin_again", "new-password");
  const button = h("button", { type: "submit", class: "btn primary wide", id: "set-pin" }, "Save PIN");
  const form = h("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (pin.value.length < vault.MIN_PIN) { error.textContent = `Please use at least ${vault.MIN_PIN} characters.`; return; }
    if (pin.value !== again.value) { error.textContent = "The two PINs are not the same. Please type them again."; return; }
    if (navigator.onLine === false) { error.textContent = "Setting a PIN needs signal once. Your work stays safe on this phone."; return; }
    button.disabled = true;
    try {
      try {
        await vault.setUp(pin.value, await sync.ensureDevice());
      } catch (err) {
        if (err.code !== "unknown_device") throw err;
        await store.setMeta("device_id", null); // e.g. the server's data was reset: register again
        await vault.setUp(pin.value, await sync.ensureDevice());
      }
      await store.sealPlainRows();
      await ctx.unlocked();
    } catch (err) {
      if (err.code === "device_revoked") { await sync.revoked(); return; }
      error.textContent = "Could not reach Alongside. Check your signal and try again.";
      button.disabled = false;
    }
  } },
  field(recovered ? "New PIN" : "PIN", pin, { hint: `At least ${vault.MIN_PIN} characters. Letters, numbers or words.` }),
  field("Type it again", again), error, button);
  return h("section", { class: "signin", id: "set-pin-screen" },
    h("h1", { text: recovered ? "Choose a new PIN" : "Choose a PIN" }),
    h("p", { text: recovered
      ? "You are signed in again and nothing was lost. Choose a new PIN to open Alongside on this phone."
      : "Alongside keeps notes about people on this phone. A PIN locks them, so no one else can read them." }),
    h("p", { class: "sub", text: "If you forget it, you can sign in with signal and choose a new one. Your work is never lost." }),
    form);
}

function waitWords(ms) {
  const s = Math.ceil(ms / 1000);
  return s < 90 ? `${s} seconds` : `${Math.ceil(s / 60)} minutes`;
}

export async function unlock(ctx, { reason = "" } = {}) {
  const error = h("p", { class: "error", role: "alert", id: "unlock-error" });
  const pin = pinInput("pin", "current-password");
  const button = h("button", { type: "submit", class: "btn primary wide", id: "unlock" }, "Open");
  const wait = await vault.waitMs();
  if (wait) error.textContent = `Too many tries. Please wait ${waitWords(wait)}, then try again. Nothing has been removed.`;
  const form = h("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!pin.value) { error.textContent = "Enter your PIN."; return; }
    button.disabled = true;
    const result = await vault.unlock(pin.value);
    button.disabled = false;
    if (result === "ok") { await ctx.unlocked(); return; }
    pin.value = "";
    pin.focus();
    error.textContent = result === "wait"
      ? `Too many tries. Please wait ${waitWords(await vault.waitMs())}, then try again. Nothing has been removed.`
      : "That PIN is not right. Please try again.";
  } }, field("PIN", pin), error, button);
  const forgot = h("button", { type: "button", class: "btn wide", id: "forgot-pin", onclick: () => ctx.recover("forgot") },
    "Forgot your PIN? Sign in with signal");
  return h("section", { class: "signin", id: "unlock-screen" },
    h("h1", { text: "Alongside is locked" }),
    h("p", { text: reason === "idle" ? "It locked itself after a few minutes without use. Enter your PIN to carry on."
      : "Enter your PIN to open it." }),
    form, forgot);
}

// The offline lease: too long without reaching the server. Data stays (encrypted) until an online sign-in.
export function lease(ctx, days, clockBack = false) {
  const why = clockBack
    ? "This phone's clock has gone back since it last reached Alongside, so it is locked until you sign in with signal."
    : `This phone has not reached Alongside for more than ${days} days, so it is locked until you sign in with signal.`;
  return h("section", { class: "signin", id: "lease-screen" },
    h("h1", { text: "Please sign in with signal" }),
    h("p", { text: `${why} Everything on it is safe and will be sent when you do.` }),
    h("button", { type: "button", class: "btn primary wide", id: "lease-sign-in", onclick: () => ctx.recover("lease") }, "Sign in"));
}
