// The sync client (contract v1 in DESIGN.md): push the outbox in order, then pull changes since the
// cursor. Runs on start, on `online`, when the app becomes visible, every 5 minutes, after each save and
// on "Sync now". Batches halve on 413; a timeout is never a success. When the server cannot be reached although
// the phone thinks it is online (server down, captive portal, a train's wifi), it tries again by itself after
// 3 s, then 6, 12 ... up to 2 minutes, and says so plainly until a request gets through.
import { request, setCsrf, ApiError } from "./api.js";
import * as store from "./db.js";
import * as vault from "./vault.js";
import * as fieldRules from "./rules.js";

const FIVE_MINUTES = 5 * 60 * 1000;
const FIRST_RETRY = 3000;
const LONGEST_RETRY = 2 * 60 * 1000;
const MAX_BATCH = 100;
const PULL_LIMIT = 500;
export const events = new EventTarget();

const state = {
  running: null, again: false, next: undefined, batchSize: MAX_BATCH, failures: 0, nextTry: 0, lastError: "",
  unreachable: false, retryTimer: null,
};

function emit(type, detail) { events.dispatchEvent(new CustomEvent(type, { detail })); }

export async function status() {
  const outbox = await store.outboxStates(); // clear fields only: works while locked
  return {
    unsynced: outbox.total - outbox.rejected,
    rejected: outbox.rejected,
    lastSync: await store.getMeta("last_sync"),
    needsSignIn: await store.getMeta("needs_sign_in", false),
    running: !!state.running,
    lastError: state.lastError,
    unreachable: state.unreachable && navigator.onLine !== false, // the server, not the phone's signal
  };
}

export async function changed() { emit("status", await status()); } // redraws the status line

let started = false;
export function start() {
  if (started) return syncNow({ manual: true });
  started = true;
  window.addEventListener("online", () => syncNow());
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") syncNow(); });
  setInterval(() => syncNow(), FIVE_MINUTES);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "FLUSH") {
        syncNow({ manual: true }).finally(() => event.ports[0] && event.ports[0].postMessage("done"));
      }
    });
  }
  return syncNow();
}

// After a save: flush now if we can, and ask for Background Sync where the browser has it.
export async function afterEdit() {
  await changed();
  try {
    const reg = navigator.serviceWorker && (await navigator.serviceWorker.getRegistration("/app/"));
    if (reg && reg.sync) await reg.sync.register("alongside-outbox");
  } catch { /* Background Sync refused or missing: the other triggers cover it */ }
  syncNow();
}

export function syncNow({ manual = false } = {}) {
  if (state.running) {
    // Whatever was saved while a sync ran goes in one more round (after it, never alongside it).
    state.again = state.again || (manual ? "manual" : "auto");
    return state.running.then(() => state.next);
  }
  if (!manual && Date.now() < state.nextTry) return Promise.resolve();
  state.running = run(manual).finally(async () => {
    state.running = null;
    await changed();
    const again = state.again;
    state.again = false;
    state.next = again ? syncNow({ manual: again === "manual" }) : undefined;
  });
  changed();
  return state.running;
}

async function run(manual) {
  if (!(await store.getMeta("user"))) return;
  // Locked: the outbox cannot be read. Background Sync only asks an open window to flush (sw.js); the key is
  // never in the service worker, so nothing is sent until the worker unlocks. Deliberate (SECURITY.md).
  if (!vault.isUnlocked()) { state.lastError = "locked"; return; }
  if (navigator.onLine === false) { state.lastError = "offline"; return; }
  if ((await store.getMeta("needs_sign_in", false)) && !manual) return;
  try {
    const deviceId = await ensureDevice();
    await pushAll(deviceId);
    await pullAll(deviceId);
    await fieldRules.refresh(); // the server's field rules, when they changed (kept for offline use)
    await store.setMetaMany({ last_sync: new Date().toISOString(), ...contact() });
    await sendDeviceName(deviceId);
    reached();
    emit("synced");
  } catch (err) {
    await failed(err);
  }
}

// A request got through: the backoff and the "can't reach" message end.
function reached() {
  state.failures = 0;
  state.nextTry = 0;
  state.lastError = "";
  state.unreachable = false;
  clearTimeout(state.retryTimer);
}

// Not reached: no answer, a time-out, an answer that is not ours (a captive portal), or the server unwell.
function unreachable(err) {
  return err instanceof ApiError && (err.status === 0 || err.status >= 500 || err.status === 429);
}

async function failed(err) {
  const code = err instanceof ApiError ? err.code : "error";
  state.lastError = code;
  if (err instanceof ApiError && err.status > 0 && err.status < 500) state.unreachable = false; // it answered
  if (code === "device_revoked") { await revoked(); return; }
  if (code === "unknown_device") { // e.g. the server's data was reset: register again on the next try
    await store.setMeta("device_id", null);
    state.nextTry = Date.now() + 1000;
    return;
  }
  if (code === "csrf_failed") {
    await refreshSession();
    state.nextTry = Date.now() + 1000;
    return;
  }
  if (err.status === 401) {
    await store.setMeta("needs_sign_in", true); // everything stays; the worker signs in again
    emit("signin");
    return;
  }
  state.failures += 1;
  state.unreachable = unreachable(err);
  const delay = Math.min(LONGEST_RETRY, FIRST_RETRY * 2 ** (state.failures - 1)) * (0.75 + Math.random() * 0.5);
  state.nextTry = Date.now() + delay;
  clearTimeout(state.retryTimer); // one retry pending at a time; it runs whether or not anything else triggers
  state.retryTimer = setTimeout(() => { state.nextTry = 0; syncNow(); }, delay);
}

// A coordinator removed this phone: its data, key and caches go; the app says why.
export async function revoked() {
  vault.lock("revoked");
  await store.wipe();
  // The app shell's caches hold no one's data, but a revoked phone keeps nothing of Alongside's.
  if (self.caches) for (const name of await caches.keys()) await caches.delete(name).catch(() => {});
  emit("revoked");
}

// The server was reached: the offline lease starts again, and so does the clock check (app.js, leaseExpired).
function contact() {
  return { last_contact: new Date().toISOString(), clock_seen: Date.now() };
}

export async function ensureDevice() {
  let deviceId = await store.getMeta("device_id");
  if (!deviceId) {
    const name = (await store.getMeta("device_name")) || defaultDeviceName();
    const res = await request("POST", "/api/v1/devices", { body: { name } });
    deviceId = res.device_id;
    await store.setMetaMany({ device_id: deviceId, device_name: name, device_name_sent: name });
  }
  return deviceId;
}

// A name given to this phone in Settings reaches the coordinators' device list with the next sync. Never in
// the way of the records: sent after them, and only a revoked device or an ended session counts as a failure.
async function sendDeviceName(deviceId) {
  const [name, sent] = await Promise.all([store.getMeta("device_name"), store.getMeta("device_name_sent")]);
  if (!name || name === sent) return;
  try {
    await request("PATCH", `/api/v1/devices/${encodeURIComponent(deviceId)}`, { body: { name } });
    await store.setMeta("device_name_sent", name);
  } catch (err) {
    if (err.status === 422) await store.setMeta("device_name_sent", name); // refused: keep it on this phone only
    else if (err.code === "device_revoked" || err.status === 401) throw err;
  }
}

export function defaultDeviceName() {
  const ua = navigator.userAgent;
  const kind = /iPhone/.test(ua) ? "iPhone" : /Android/.test(ua) ? "Android phone" : "Browser";
  return `${kind} (${new Date().toISOString().slice(0, 10)})`;
}

async function pushAll(deviceId) {
  for (let round = 0; round < 1000; round += 1) {
    const batch = await store.takeBatch(state.batchSize);
    if (!batch.length) return;
    let res;
    try {
      res = await request("POST", "/api/v1/sync/push", {
        body: {
          device_id: deviceId,
          mutations: batch.map((m) => ({
            id: m.id, entity: m.entity, record_id: m.record_id, op: m.op, base_rev: m.base_rev, fields: m.fields,
          })),
        },
      });
    } catch (err) {
      if (err.status === 413) {
        if (batch.length === 1) {
          await store.applyPushResults(batch, [{
            id: batch[0].id, status: "rejected", errors: { _: ["Too large to send. Please shorten the notes."] },
          }]);
        } else {
          state.batchSize = Math.max(1, Math.floor(batch.length / 2));
        }
        continue;
      }
      throw err;
    }
    const results = (res && res.results) || [];
    if (!results.length) throw new ApiError(0, { code: "bad_response", message: "No results" });
    await store.applyPushResults(batch, results);
    await changed();
  }
}

async function pullAll(deviceId) {
  for (let round = 0; round < 10000; round += 1) {
    const cursor = (await store.getMeta("cursor")) || 0;
    const page = await request("GET", `/api/v1/sync/pull?cursor=${encodeURIComponent(cursor)}&limit=${PULL_LIMIT}`, {
      headers: { "X-Device-Id": deviceId },
    });
    await store.applyPull(page);
    if ((page.changes || []).length || (page.purge || []).length) emit("pulled");
    if (!page.more) return;
  }
}

// --- sign-in --------------------------------------------------------------------------------------

export async function signIn(email, password, oneTimeCode = "") {
  const body = oneTimeCode ? { email, password, one_time_code: oneTimeCode } : { email, password };
  const res = await request("POST", "/api/v1/auth/login", { body });
  const previous = await store.getMeta("user");
  if (previous && previous.id !== res.user.id) {
    if (await store.outboxCount()) {
      await request("POST", "/api/v1/auth/logout").catch(() => {});
      throw new ApiError(409, { code: "other_user", message: "This phone holds another worker's unsynced work." });
    }
    vault.lock("other_user");
    await store.wipe();
  }
  setCsrf(res.csrf_token);
  await store.setMetaMany({ user: res.user, csrf: res.csrf_token, needs_sign_in: false, email, ...contact() });
  reached();
  return res.user;
}

// Refresh the CSRF token when online; a 401 here means the session ended (kept data, ask to sign in).
export async function refreshSession() {
  try {
    const res = await request("GET", "/api/v1/auth/me", { timeout: 8000 });
    setCsrf(res.csrf_token);
    await store.setMetaMany({ csrf: res.csrf_token, user: res.user, needs_sign_in: false, ...contact() });
  } catch (err) {
    if (err.status === 401) {
      await store.setMeta("needs_sign_in", true);
      emit("signin");
    }
  }
}

export async function signOut() {
  if (await store.outboxCount()) return false;
  await request("POST", "/api/v1/auth/logout").catch(() => {});
  vault.lock("signed_out");
  await store.wipe();
  return true;
}
