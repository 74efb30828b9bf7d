// The phone's encryption key (SECURITY.md, "Phone encryption"). A random AES-GCM 256 data key encrypts every
// record and outbox entry (db.js). It is stored only wrapped, twice: by a key derived from the worker's PIN
// (PBKDF2-SHA256, 600,000 iterations, random salt) and by this device's key from the server (handed over only
// after an online sign-in). Unwrapped, it lives only in this module's memory as a non-extractable CryptoKey;
// locking drops it. The service worker never has it.
import { getMeta, setMeta, setMetaMany } from "./db.js";
import { request } from "./api.js";

export const PBKDF2_ITERATIONS = 600000;
export const MIN_PIN = 6;
export const FREE_TRIES = 5;
const FIRST_WAIT_MS = 30000;
const DATA_KEY = { name: "AES-GCM", length: 256 };

let dataKey = null;
export const events = new EventTarget();

export function key() { return dataKey; }
export function isUnlocked() { return !!dataKey; }
export async function isSetUp() { return !!(await getMeta("vault")); }

export function lock(reason = "idle") {
  if (!dataKey) return;
  dataKey = null;
  events.dispatchEvent(new CustomEvent("locked", { detail: reason }));
}

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function pinKey(pin, salt, iterations) {
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "PBKDF2", salt, iterations, hash: "SHA-256" }, base, DATA_KEY, false,
    ["wrapKey", "unwrapKey"]);
}

async function serverKey(deviceId, { make = false } = {}) {
  const path = `/api/v1/devices/${encodeURIComponent(deviceId)}/key`;
  const res = make ? await request("POST", path) : await request("GET", path);
  return crypto.subtle.importKey("raw", unb64(res.key), DATA_KEY, false, ["wrapKey", "unwrapKey"]);
}

async function wrap(kek) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.wrapKey("raw", dataKey, kek, { name: "AES-GCM", iv });
  return { iv: b64(iv), ct: b64(ct) };
}

async function unwrap(wrapped, kek) {
  return crypto.subtle.unwrapKey("raw", unb64(wrapped.ct), kek, { name: "AES-GCM", iv: unb64(wrapped.iv) },
    DATA_KEY, false, ["encrypt", "decrypt"]);
}

// Wrapping needs an extractable key for one moment: a fresh data key is made extractable, wrapped twice, then
// imported again non-extractable from its own wrapping, so the key kept in memory can never be exported.
export async function setUp(pin, deviceId) {
  if (pin.length < MIN_PIN) throw new Error(`Please use at least ${MIN_PIN} characters.`);
  const server = await serverKey(deviceId, { make: true });
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const kek = await pinKey(pin, salt, PBKDF2_ITERATIONS);
  const existing = await getMeta("vault");
  if (existing && !dataKey) throw new Error("Unlock first.");
  if (!dataKey) {
    dataKey = await crypto.subtle.generateKey(DATA_KEY, true, ["encrypt", "decrypt"]);
  }
  // wrapKey needs an extractable key: a recovered key (non-extractable) is re-wrapped from its stored form.
  let byPin;
  let byServer;
  if (dataKey.extractable) {
    byPin = await wrap(kek);
    byServer = await wrap(server);
    dataKey = await unwrap(byPin, kek);
  } else {
    byServer = existing.server;
    const temp = await crypto.subtle.unwrapKey("raw", unb64(byServer.ct), server, { name: "AES-GCM", iv: unb64(byServer.iv) },
      DATA_KEY, true, ["encrypt", "decrypt"]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    byPin = { iv: b64(iv), ct: b64(await crypto.subtle.wrapKey("raw", temp, kek, { name: "AES-GCM", iv })) };
  }
  await setMetaMany({
    vault: { v: 1, salt: b64(salt), iterations: PBKDF2_ITERATIONS, pin: byPin, server: byServer },
    pin_tries: { failed: 0, until: 0 },
  });
  events.dispatchEvent(new CustomEvent("unlocked"));
}

// How long the worker must wait before another try (0: may try now).
export async function waitMs() {
  const tries = await getMeta("pin_tries", { failed: 0, until: 0 });
  return Math.max(0, (tries.until || 0) - Date.now());
}

// -> "ok" | "wrong" | "wait". Wrong PINs never remove anything; after FREE_TRIES each wrong try doubles the wait.
export async function unlock(pin) {
  const vault = await getMeta("vault");
  if (!vault) return "wrong";
  if (await waitMs()) return "wait";
  try {
    const kek = await pinKey(pin, unb64(vault.salt), vault.iterations);
    dataKey = await unwrap(vault.pin, kek);
  } catch {
    const tries = await getMeta("pin_tries", { failed: 0, until: 0 });
    const failed = (tries.failed || 0) + 1;
    const until = failed >= FREE_TRIES ? Date.now() + FIRST_WAIT_MS * 2 ** Math.min(failed - FREE_TRIES, 10) : 0;
    await setMeta("pin_tries", { failed, until });
    return until ? "wait" : "wrong";
  }
  await setMeta("pin_tries", { failed: 0, until: 0 });
  events.dispatchEvent(new CustomEvent("unlocked"));
  return "ok";
}

// After an online sign-in: the server's key for this device opens the data key (forgotten PIN, offline lease).
export async function unlockWithServer(deviceId) {
  const vault = await getMeta("vault");
  if (!vault) return false;
  const server = await serverKey(deviceId);
  dataKey = await unwrap(vault.server, server);
  await setMeta("pin_tries", { failed: 0, until: 0 });
  events.dispatchEvent(new CustomEvent("unlocked"));
  return true;
}
