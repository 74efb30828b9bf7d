// The field app's entry: opens local data first (the app works with no signal), routes in-app paths,
// keeps the sync status visible, and offers service-worker updates without forcing them.
import * as store from "./db.js";
import * as sync from "./sync.js";
import * as vault from "./vault.js";
import * as lockScreens from "./screens/lock.js";
import { setCsrf } from "./api.js";
import { h, hideToast, toast } from "./ui.js";
import * as banners from "./banners.js";
import * as signInScreen from "./screens/sign-in.js";
import * as caseloadScreen from "./screens/caseload.js";

const main = document.getElementById("main");
// One module per screen. The start-up path (sign in, lock, caseload) is imported above; every other screen is
// loaded on first use (dynamic import, precached by the service worker, so it opens offline too).
const startup = async () => caseloadScreen;
const lazy = {
  person: () => import("./screens/person.js"),
  visit: () => import("./screens/visit-form.js"),
  goal: () => import("./screens/goal-form.js"),
  referral: () => import("./screens/referral.js"),
  resources: () => import("./screens/resources.js"),
  diary: () => import("./screens/diary.js"),
  sync: () => import("./screens/sync.js"),
  settings: () => import("./screens/settings.js"),
  personForm: () => import("./screens/person-form.js"),
  voidVisit: () => import("./screens/visit-void.js"),
  rateGoal: () => import("./screens/goal-rating.js"),
  ending: () => import("./screens/ending.js"),
  lone: () => import("./screens/lone-working.js"),
};

// [pattern, loader, screen name, live (safe to redraw when data arrives), tab]
const ROUTES = [
  [/^\/app\/?$/, startup, "caseload", true, "caseload"],
  [/^\/app\/p\/([^/]+)$/, lazy.person, "person", true, "caseload"],
  [/^\/app\/p\/([^/]+)\/visit$/, lazy.visit, "visitForm", false, "caseload"],
  [/^\/app\/v\/([^/]+)$/, lazy.visit, "visitEdit", false, "caseload"],
  [/^\/app\/p\/([^/]+)\/goal$/, lazy.goal, "goalForm", false, "caseload"],
  [/^\/app\/g\/([^/]+)$/, lazy.goal, "goalEdit", false, "caseload"],
  [/^\/app\/p\/([^/]+)\/refer\/([^/]+)$/, lazy.referral, "referForm", false, "resources"],
  [/^\/app\/r\/([^/]+)$/, lazy.referral, "referralEdit", false, "caseload"],
  [/^\/app\/resources$/, lazy.resources, "resources", true, "resources"],
  [/^\/app\/diary$/, lazy.diary, "diary", true, "diary"],
  [/^\/app\/(sync|conflicts)$/, lazy.sync, "syncScreen", true, "sync"],
  [/^\/app\/settings$/, lazy.settings, "settings", false, "settings"],
  [/^\/app\/people\/new$/, lazy.personForm, "personForm", false, "caseload"],
  [/^\/app\/v\/([^/]+)\/void$/, lazy.voidVisit, "voidVisit", false, "caseload"],
  [/^\/app\/g\/([^/]+)\/rate$/, lazy.rateGoal, "rateGoal", false, "caseload"],
  [/^\/app\/p\/([^/]+)\/close$/, lazy.ending, "closeEngagement", false, "caseload"],
  [/^\/app\/p\/([^/]+)\/check-in$/, lazy.lone, "startVisit", false, "caseload"],
  [/^\/app\/check-in\/([^/]+)$/, lazy.lone, "checkInScreen", true, "caseload"],
];

let current = { live: false };
export const ctx = { navigate, render, user: null, recovering: null };

// --- the lock: PIN after sign-in, after idle and on reopening; the offline lease ---------------------------
// The lock screen has its own <main>; the app's <main> is hidden behind it, not cleared, so a form the worker
// was filling in is still there after unlocking (SECURITY.md: it stays in this page's memory only).
const DAY = 24 * 60 * 60 * 1000;
const lockMain = h("main", { id: "lock", tabindex: "-1", hidden: true });
main.after(lockMain);

async function leaseDays() { return Number(await store.getMeta("lease_days")) || 14; }
// The lease counts on the phone's clock, so a clock turned back would stretch it: a clock more than a day behind
// the last contact, or behind the latest time this app has seen (kept in `clock_seen`), also ends the lease.
// (Clocks drift and get corrected by minutes, not days.) An online sign-in opens it again, as for the lease.
async function leaseExpired() {
  const [last, seen] = await Promise.all([store.getMeta("last_contact"), store.getMeta("clock_seen")]);
  const now = Date.now();
  if (!seen || now > seen + 60 * 60 * 1000) await store.setMeta("clock_seen", now);
  if (!last) { await store.setMeta("last_contact", new Date(now).toISOString()); return false; }
  if (now < Math.max(Date.parse(last), seen || 0) - DAY) return "clock";
  return now - Date.parse(last) > (await leaseDays()) * DAY;
}

// The screen in front of the data, or null when the data may show.
async function gate(reason) {
  if (!(await vault.isSetUp())) return lockScreens.setPin(ctx);
  const expired = await leaseExpired();
  if (expired) {
    vault.lock("lease");
    return lockScreens.lease(ctx, await leaseDays(), expired === "clock");
  }
  if (!vault.isUnlocked()) return lockScreens.unlock(ctx, { reason });
  return null;
}

function showLock(view) {
  main.hidden = true;
  document.getElementById("tabs").hidden = true;
  lockMain.hidden = false;
  lockMain.replaceChildren(view);
  document.documentElement.dataset.locked = "1";
  const heading = lockMain.querySelector("h1");
  (heading || lockMain).setAttribute("tabindex", "-1");
  (heading || lockMain).focus();
}
function hideLock() {
  lockMain.hidden = true;
  lockMain.replaceChildren();
  main.hidden = false;
  delete document.documentElement.dataset.locked;
}

// "Forgot your PIN" or the lease: an online sign-in, then the server's key for this device opens the data.
ctx.recover = async (why) => {
  ctx.recovering = why;
  showLock(signInScreen.signIn(ctx, { email: await store.getMeta("email"),
    title: why === "forgot" ? "Sign in to choose a new PIN" : "Sign in with signal",
    intro: "Sign in with your email and password. Nothing on this phone is lost." }));
};

// Rows an older version stored in plain text are sealed after the PIN is set; this finishes it if that was cut
// short. A failure loses nothing (plain rows are still read) and is tried again on the next unlock.
const sealPlainRows = () => store.sealPlainRows().catch(() => {});

ctx.unlocked = async () => {
  lastActive = Date.now();
  await sealPlainRows();
  const resume = lockMain.hidden === false && current.name && current.path === location.pathname + location.search;
  hideLock();
  if (resume) {
    document.getElementById("tabs").hidden = false;
    showStatus();
    startSync();
    return;
  }
  await signedInView();
};

let lastActive = Date.now();
for (const type of ["pointerdown", "keydown", "input", "scroll"]) {
  document.addEventListener(type, () => { lastActive = Date.now(); }, { capture: true, passive: true });
}
async function checkIdle() {
  // Never while the page is hidden or being put away (idb-connection.js): a read started then could be frozen
  // with the page in the back/forward cache. Coming back (visibilitychange, pageshow) checks at once instead.
  if (!vault.isUnlocked() || document.visibilityState !== "visible") return;
  const minutes = Number(await store.getMeta("lock_minutes")) || 5;
  if (Date.now() - lastActive > minutes * 60 * 1000) vault.lock("idle");
  else if (await leaseExpired()) vault.lock("lease");
}
setInterval(checkIdle, 15000);
document.addEventListener("visibilitychange", checkIdle);
// Restored from the back/forward cache: the same page, memory and all, maybe much later; check the lock, then
// catch up (the IndexedDB connection closed on pagehide reopens on first use).
window.addEventListener("pageshow", async (event) => {
  if (!event.persisted) return;
  await checkIdle();
  showStatus();
  if (vault.isUnlocked() && ctx.user) sync.syncNow();
});
vault.events.addEventListener("locked", async (e) => {
  if (e.detail === "revoked" || e.detail === "signed_out" || e.detail === "other_user") return;
  const view = await gate(e.detail);
  if (view) showLock(view);
});

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", path);
  else history.pushState({}, "", path);
  return render({ focus: true });
}

// Renders overlap (each waits on the database): only the latest may draw. A redraw for new data (background)
// also gives way to a tap made after it began, or it would draw the screen as it was before the tap.
let renderSeq = 0;
let lastTouch = 0;
let drawing = 0; // renders the worker asked for (a tap, a navigation), still under way

async function render({ focus = false, background = false } = {}) {
  if (background && drawing) { setTimeout(redraw, 1000); return; } // never in the way of the worker's own
  if (background) return draw(focus, true);
  drawing++;
  try { return await draw(focus, false); } finally { drawing--; }
}

async function draw(focus, background) {
  const seq = ++renderSeq;
  const began = Date.now();
  const stale = () => {
    if (seq !== renderSeq) return true;
    if (background && lastTouch >= began) { redraw(); return true; } // tried again once the worker pauses
    return false;
  };
  const user = await store.getMeta("user");
  if (stale()) return;
  ctx.user = user;
  if (!user) {
    const email = await store.getMeta("email");
    if (stale()) return;
    hideLock();
    document.getElementById("tabs").hidden = true;
    current = { live: false };
    mount(signInScreen.signIn(ctx, { email }), focus);
    return;
  }
  const blocked = await gate(vault.isUnlocked() ? "" : "reopen");
  if (stale()) return;
  if (blocked) { current = { live: false }; main.replaceChildren(); showLock(blocked); return; }
  hideLock();
  document.getElementById("tabs").hidden = false;
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  for (const [pattern, loader, name, live, tab] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    const mod = await loader();
    const view = await mod[name](ctx, ...match.slice(1), params);
    if (stale()) return;
    current = { live, name, path: path + location.search };
    mount(view, focus);
    performance.mark(`screen:${name}`); // read by bench/pwa_budget.py
    for (const a of document.querySelectorAll("#tabs a")) {
      if (a.dataset.tab === tab) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    return;
  }
  mount(h("section", {}, h("h1", { text: "Not found" }), h("p", {}, h("a", { href: "/app/", text: "Back to caseload" }))), focus);
}

function mount(view, focus) {
  main.replaceChildren(view);
  if (focus) {
    const heading = main.querySelector("h1");
    (heading || main).setAttribute("tabindex", "-1");
    (heading || main).focus({ preventScroll: false });
  }
}

// In-app links move without reloading; everything else behaves as a normal link.
document.addEventListener("click", (event) => {
  const a = event.target.closest("a[href]");
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/app/") || url.pathname.includes(".")) return;
  event.preventDefault();
  hideToast(); // the worker moved on: the last toast has been seen
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", () => { hideToast(); render({ focus: true }); });

// --- status line and banners (banners.js) ----------------------------------------------------------------

const showStatus = (s) => banners.showStatus(ctx, s);
ctx.signInAgain = async () => mount(signInScreen.signIn(ctx, { again: true, email: await store.getMeta("email") }), true);
sync.events.addEventListener("status", (e) => showStatus(e.detail));
window.addEventListener("offline", () => showStatus());
window.addEventListener("online", () => showStatus());
// New data redraws lists, but never under the worker's fingers: not while a field has focus, and not within
// a few seconds of a tap or key press (a redraw then waits).
let redrawTimer = null;
// Only touches on the screens count, and signing in or choosing/entering a PIN starts afresh (signedInView): those
// are not work a redraw could disturb (they held the first caseload back for seconds after the pull had finished).
for (const type of ["pointerdown", "keydown"]) {
  document.addEventListener(type, (event) => { if (main.contains(event.target)) lastTouch = Date.now(); }, true);
}
function redraw() {
  if (!current.live || !vault.isUnlocked()) return;
  const typing = main.contains(document.activeElement) && /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
  const recent = Date.now() - lastTouch < 5000;
  clearTimeout(redrawTimer);
  if (typing || recent) { redrawTimer = setTimeout(redraw, 5000); return; }
  render({ background: true });
}
sync.events.addEventListener("pulled", redraw);
sync.events.addEventListener("synced", redraw);
// Lone working: keep the coordinators' numbers on the phone for a visit without signal (at most hourly).
sync.events.addEventListener("synced", () => lazy.lone().then((m) => m.refreshContacts()).catch(() => {}));
sync.events.addEventListener("signin", () => showStatus());
sync.events.addEventListener("revoked", async () => {
  ctx.user = null;
  await render();
  toast("This phone was removed from Alongside by a coordinator, so its data has been cleared.");
});

// --- service worker: installed once, updates offered ---------------------------------------------------

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const hadController = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener("controllerchange", () => { if (hadController) location.reload(); });
  try {
    const reg = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
    if (reg.waiting && navigator.serviceWorker.controller) banners.offerUpdate(reg.waiting);
    reg.addEventListener("updatefound", () => {
      const worker = reg.installing;
      worker.addEventListener("statechange", () => {
        if (worker.state === "installed" && navigator.serviceWorker.controller) banners.offerUpdate(worker);
      });
    });
  } catch { /* no service worker (private mode, http): the app still works while online */ }
}

async function boot() {
  const csrf = await store.getMeta("csrf");
  if (csrf) setCsrf(csrf);
  await render();
  document.documentElement.dataset.ready = "1";
  showStatus();
  registerWorker();
  banners.iosNotice();
  banners.storageNotice(ctx);
  if (ctx.user) {
    if (navigator.onLine) await sync.refreshSession();
    if (vault.isUnlocked()) startSync();
  }
}

function startSync() {
  banners.markSyncStarted();
  return sync.start();
}

async function signedInView() {
  lastTouch = 0;
  await render({ focus: true });
  showStatus();
  if (vault.isUnlocked()) startSync();
}

// After a password sign-in: a locked phone (forgotten PIN, lease) opens with the server's key for this device.
export async function signedIn() {
  const why = ctx.recovering;
  ctx.recovering = null;
  if (why && !vault.isUnlocked() && (await vault.isSetUp())) {
    try {
      await vault.unlockWithServer(await sync.ensureDevice());
    } catch (err) {
      if (err.code === "device_revoked") { await sync.revoked(); return; }
      throw err;
    }
    await sealPlainRows();
    if (why === "forgot") { showLock(lockScreens.setPin(ctx, { recovered: true })); return; }
  }
  lastActive = Date.now();
  await signedInView();
  banners.storageNotice(ctx); // asks the browser to keep this phone's data, and says if it will not
}
ctx.signedIn = signedIn;
ctx.showStatus = showStatus;

boot();
