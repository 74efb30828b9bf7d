// The header's sync status line and the banners under it: sign in again, the server out of reach, add to the
// Home Screen (iPhone), storage the browser may clear, a new version. Plain words and counts only, never anything
// about a person: the status line also shows while the app is locked.
import * as store from "./db.js";
import * as sync from "./sync.js";
import * as vault from "./vault.js";
import { h, fmtWhen } from "./ui.js";

export const UNREACHABLE = "Can't reach Alongside right now; your work is safe on this phone";
let syncStarted = false;
export function markSyncStarted() { syncStarted = true; }

export async function showStatus(ctx, s) {
  if (!vault.isUnlocked()) s = null; // while locked: counts only (clear fields), nothing about people
  s = s || (await sync.status());
  // html[data-sync]: starting | running | idle — for tests and the benchmark, and for styling if wanted.
  document.documentElement.dataset.sync = s.running ? "running" : syncStarted ? "idle" : "starting";
  const el = document.getElementById("sync-status");
  if (!ctx.user) { el.replaceChildren(); return; }
  const parts = [];
  const waiting = s.unsynced + s.rejected;
  parts.push(h("a", { href: "/app/sync", class: waiting ? "pending" : "ok", id: "unsynced-count",
    "data-count": String(waiting), text: waiting ? `${waiting} not synced` : "All synced" }));
  parts.push(h("span", { class: "last", id: "last-sync",
    text: s.running ? "Syncing…" : s.lastSync ? `Last sync ${fmtWhen(s.lastSync)}` : "Not synced yet" }));
  if (navigator.onLine === false) parts.push(h("span", { class: "offline", id: "offline", text: "No signal: saving on this phone" }));
  else if (s.unreachable) parts.push(h("span", { class: "offline", id: "unreachable", text: UNREACHABLE }));
  el.replaceChildren(...parts);
  signInBanner(ctx, s.needsSignIn && vault.isUnlocked());
}

function signInBanner(ctx, show) {
  const existing = document.getElementById("signin-banner");
  if (!show) { if (existing) existing.remove(); return; }
  if (existing) return;
  const banner = h("div", { class: "banner warn", id: "signin-banner", role: "alert" },
    h("p", { text: "Your sign-in has ended. Everything you logged is safe on this phone. Sign in again to send it." }),
    h("button", { type: "button", class: "btn", onclick: () => { banner.remove(); ctx.signInAgain(); } }, "Sign in again"));
  document.getElementById("banners").append(banner);
}

function banner(id, words, { role = "note", button = "Got it", onclose } = {}) {
  if (document.getElementById(id)) return;
  const el = h("div", { class: "banner", id, role }, words.map((text) => h("p", { text })),
    h("button", { type: "button", class: "btn", onclick: () => { el.remove(); if (onclose) onclose(); } }, button));
  document.getElementById("banners").append(el);
}

export function isIPhone() {
  const ua = navigator.userAgent;
  return /iPhone|iPad|iPod/.test(ua) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
}
export function installed() {
  return navigator.standalone === true || matchMedia("(display-mode: standalone)").matches;
}

// The worker's install prompt on an iPhone (every browser there is Safari's engine), once.
export async function iosNotice() {
  if (!isIPhone() || installed() || (await store.getMeta("ios_notice_shown"))) return;
  banner("ios-banner", [
    "Please add Alongside to your Home Screen (Share, then Add to Home Screen). Safari clears a website's saved data "
      + "after 7 days without use; the installed app keeps your unsynced work safe.",
    "On an iPhone (iOS 16.4 or later), reminders by notification only work from an app on the Home Screen. The "
      + "people you support can add their reminders page the same way, or have reminders by text message or in their "
      + "phone's calendar instead.",
  ]);
  store.setMeta("ios_notice_shown", true);
}

// Storage the browser may clear (Safari: after 7 days without use, unless the app is installed) is asked to be
// kept; when it is not, the app says so, on every start (dismissed for this start only): unsynced work is at stake.
export async function storageNotice(ctx) {
  if (!ctx.user) return;
  const kept = (await storageKept()) || (await storageKept({ ask: true }));
  document.documentElement.dataset.storage = kept ? "persistent" : "may-be-cleared";
  if (kept) { document.getElementById("storage-banner")?.remove(); return; }
  if (document.getElementById("ios-banner")) return; // the install prompt on screen says the same
  banner("storage-banner", [storageWords(false)]);
}
// Whether the browser will keep this site's data (asking for it with `ask`). False where it cannot say: WebKitGTK
// rejects both calls, and an iPhone's Safari keeps a site's data only while it is used or installed.
export async function storageKept({ ask = false } = {}) {
  try {
    const s = navigator.storage;
    return !!(await (ask ? s.persist() : s.persisted()));
  } catch {
    return false;
  }
}
export function storageWords(kept) {
  if (kept) return "This phone keeps Alongside's data until you sign out.";
  return isIPhone()
    ? "Safari may clear Alongside's data after 7 days without use. Add Alongside to your Home Screen to keep it, and sync often."
    : "This browser may clear Alongside's data when space runs low. Installing the app (Add to Home Screen) keeps it safer; sync often.";
}

export function offerUpdate(worker) {
  banner("update-banner", ["A new version is ready."], { role: "status", button: "Reload",
    onclose: () => worker.postMessage({ type: "SKIP_WAITING" }) });
}
