// The field app's entry: opens local data first (the app works with no signal), routes in-app paths,
// keeps the sync status visible, and offers service-worker updates without forcing them.
import * as store from "./db.js";
import * as sync from "./sync.js";
import { setCsrf } from "./api.js";
import { h, toast, fmtWhen } from "./ui.js";
import * as core from "./screens-core.js";

const main = document.getElementById("main");
const lazyForms = () => import("./screens-forms.js");
const lazyMore = () => import("./screens-more.js");

// [pattern, loader, screen name, live (safe to redraw when data arrives), tab]
const ROUTES = [
  [/^\/app\/?$/, async () => core, "caseload", true, "caseload"],
  [/^\/app\/p\/([^/]+)$/, async () => core, "person", true, "caseload"],
  [/^\/app\/p\/([^/]+)\/visit$/, lazyForms, "visitForm", false, "caseload"],
  [/^\/app\/v\/([^/]+)$/, lazyForms, "visitEdit", false, "caseload"],
  [/^\/app\/p\/([^/]+)\/goal$/, lazyForms, "goalForm", false, "caseload"],
  [/^\/app\/g\/([^/]+)$/, lazyForms, "goalEdit", false, "caseload"],
  [/^\/app\/p\/([^/]+)\/refer\/([^/]+)$/, lazyForms, "referForm", false, "resources"],
  [/^\/app\/r\/([^/]+)$/, lazyForms, "referralEdit", false, "caseload"],
  [/^\/app\/resources$/, lazyMore, "resources", true, "resources"],
  [/^\/app\/diary$/, lazyMore, "diary", true, "diary"],
  [/^\/app\/(sync|conflicts)$/, lazyMore, "syncScreen", true, "sync"],
  [/^\/app\/settings$/, lazyMore, "settings", false, "settings"],
];

let current = { live: false };
export const ctx = { navigate, render, user: null };

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", path);
  else history.pushState({}, "", path);
  return render({ focus: true });
}

async function render({ focus = false } = {}) {
  const user = await store.getMeta("user");
  ctx.user = user;
  document.getElementById("tabs").hidden = !user;
  if (!user) {
    current = { live: false };
    mount(core.signIn(ctx, { email: await store.getMeta("email") }), focus);
    return;
  }
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  for (const [pattern, loader, name, live, tab] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    const mod = await loader();
    current = { live, name };
    const view = await mod[name](ctx, ...match.slice(1), params);
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
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", () => render({ focus: true }));

// --- status line and banners --------------------------------------------------------------------------

let syncStarted = false;
async function showStatus(s) {
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
  el.replaceChildren(...parts);
  signInBanner(s.needsSignIn);
}

function signInBanner(show) {
  const existing = document.getElementById("signin-banner");
  if (!show) { if (existing) existing.remove(); return; }
  if (existing) return;
  const banner = h("div", { class: "banner warn", id: "signin-banner", role: "alert" },
    h("p", { text: "Your sign-in has ended. Everything you logged is safe on this phone. Sign in again to send it." }),
    h("button", { type: "button", class: "btn", onclick: async () => {
      banner.remove();
      mount(core.signIn(ctx, { again: true, email: await store.getMeta("email") }), true);
    } }, "Sign in again"));
  document.getElementById("banners").append(banner);
}

sync.events.addEventListener("status", (e) => showStatus(e.detail));
window.addEventListener("offline", () => showStatus());
window.addEventListener("online", () => showStatus());
// New data redraws lists, but never under the worker's fingers: not while a field has focus, and not within
// a few seconds of a tap or key press (a redraw then waits).
let lastTouch = 0;
let redrawTimer = null;
for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, () => { lastTouch = Date.now(); }, true);
function redraw() {
  if (!current.live) return;
  const typing = main.contains(document.activeElement) && /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
  const recent = Date.now() - lastTouch < 5000;
  clearTimeout(redrawTimer);
  if (typing || recent) { redrawTimer = setTimeout(redraw, 5000); return; }
  render();
}
sync.events.addEventListener("pulled", redraw);
sync.events.addEventListener("synced", redraw);
sync.events.addEventListener("signin", () => showStatus());
sync.events.addEventListener("revoked", async () => {
  ctx.user = null;
  await render();
  toast("This phone was removed from Alongside by a coordinator, so its data has been cleared.");
});

function iosNotice() {
  const ua = navigator.userAgent;
  const ios = /iPhone|iPad|iPod/.test(ua) && !/CriOS|FxiOS/.test(ua);
  const installed = navigator.standalone === true || matchMedia("(display-mode: standalone)").matches;
  if (!ios || installed) return;
  store.getMeta("ios_notice_shown").then((shown) => {
    if (shown) return;
    const banner = h("div", { class: "banner", role: "note" },
      h("p", { text: "Please add Alongside to your Home Screen (Share, then Add to Home Screen). Safari clears a website's saved data after 7 days without use; the installed app keeps your unsynced work safe." }),
      h("button", { type: "button", class: "btn", onclick: () => banner.remove() }, "Got it"));
    document.getElementById("banners").append(banner);
    store.setMeta("ios_notice_shown", true);
  });
}

// --- service worker: installed once, updates offered ---------------------------------------------------

function offerUpdate(worker) {
  if (document.getElementById("update-banner")) return;
  const banner = h("div", { class: "banner", id: "update-banner", role: "status" },
    h("p", { text: "A new version is ready." }),
    h("button", { type: "button", class: "btn", onclick: () => worker.postMessage({ type: "SKIP_WAITING" }) }, "Reload"));
  document.getElementById("banners").append(banner);
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const hadController = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener("controllerchange", () => { if (hadController) location.reload(); });
  try {
    const reg = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
    if (reg.waiting && navigator.serviceWorker.controller) offerUpdate(reg.waiting);
    reg.addEventListener("updatefound", () => {
      const worker = reg.installing;
      worker.addEventListener("statechange", () => {
        if (worker.state === "installed" && navigator.serviceWorker.controller) offerUpdate(worker);
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
  iosNotice();
  if (ctx.user) {
    if (navigator.onLine) await sync.refreshSession();
    startSync();
  }
}

function startSync() {
  syncStarted = true;
  return sync.start();
}

export async function signedIn() {
  await render({ focus: true });
  showStatus();
  startSync();
}
ctx.signedIn = signedIn;
ctx.showStatus = showStatus;

boot();
