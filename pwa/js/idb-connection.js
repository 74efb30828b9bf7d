// The one IndexedDB connection (used only by db.js), its upgrade steps, and the page lifecycle around it, as
// WebKit and Chromium both define it. A page frozen in the back/forward cache, or a second tab, must never hold
// a transaction that blocks this page's writes (in WebKit a read of `meta` left open by a frozen page blocked every
// write to `meta` for 20-30 s), so:
// - no IndexedDB work starts while the page is hidden: it waits until the page is shown again;
// - from `pagehide` (the page is leaving, or going into the back/forward cache) to `pageshow`, new work fails at
//   once (PageAwayError) instead of waiting, so nothing waits frozen while holding the writers' Web Lock; the
//   connection is closed on `pagehide` and opened again, on demand, after `pageshow`;
// - `versionchange` (another tab upgrading or deleting the database) closes it; an abnormal `close` forgets it.
import { openDB } from "../vendor/idb-8.0.4/idb.js";

export const DB_NAME = "alongside";
export const STORES = {
  person: "people",
  visit: "visits",
  goal: "goals",
  goal_progress: "goal_progress",
  referral: "referrals",
  resource: "resources",
  review: "reviews",
  conflict: "conflicts",
  supervision: "supervision", // version 2: the worker's own supervision sessions, read-only (issue 16)
  check_in: "check_ins", // version 3: the worker's lone-working check-ins (issue 14)
};
const INDEXES = {
  visits: [["person_id", "person_id"], ["_next", "_next"]],
  goals: [["person_id", "person_id"]],
  goal_progress: [["goal_id", "goal_id"]],
  referrals: [["person_id", "person_id"]],
  reviews: [["visit_id", "visit_id"]],
  conflicts: [["person_id", "person_id"]],
};

let dbPromise = null;
let away = null; // while the page is hidden or put away: {promise, resolve, gone}, settled when it is shown again

export class PageAwayError extends Error {
  constructor() { super("The page is being put away; this is done when it is shown again."); this.name = "PageAwayError"; }
}

function open() {
  return openDB(DB_NAME, 3, {
    upgrade(d, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) {
        for (const name of Object.values(STORES).filter((n) => n !== "supervision" && n !== "check_ins")) {
          const store = d.createObjectStore(name, { keyPath: "id" });
          for (const [index, path] of INDEXES[name] || []) store.createIndex(index, path);
        }
        const outbox = d.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        outbox.createIndex("record_id", "record_id");
        d.createObjectStore("meta", { keyPath: "key" });
      }
      if (oldVersion < 2) {
        d.createObjectStore("supervision", { keyPath: "id" });
        // Pulls before this version skipped supervision; pull everything once more (merged by rev) to get it.
        if (oldVersion >= 1) tx.objectStore("meta").delete("cursor");
      }
      if (oldVersion < 3) d.createObjectStore("check_ins", { keyPath: "id" }); // new: nothing to pull again
    },
    blocking() { closeDB(); }, // another tab wants to upgrade or delete: let it (and reopen on our next use)
    terminated() { dbPromise = null; }, // closed by the browser (storage cleared, disk error): reopen next time
  });
}

// The connection, once the page is visible; work asked for while it is hidden waits for it to be shown, and
// work asked for after pagehide fails.
export function db() {
  if (away && away.gone) return Promise.reject(new PageAwayError());
  if (away) return away.promise.then(db);
  if (!dbPromise) dbPromise = open().catch((err) => { dbPromise = null; throw err; });
  return dbPromise;
}

export async function closeDB() {
  if (!dbPromise) return;
  const p = dbPromise;
  dbPromise = null;
  try { (await p).close(); } catch { /* never opened, or already closed */ }
}

function putAway(gone = false) {
  if (!away) {
    let resolve;
    const promise = new Promise((r) => { resolve = r; });
    away = { promise, resolve, gone };
  }
  if (gone) away.gone = true;
}
function comeBack() {
  if (!away) return;
  const { resolve } = away;
  away = null;
  resolve();
}

if (typeof document !== "undefined") {
  if (document.visibilityState === "hidden") putAway();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") putAway();
    else comeBack();
  }, { capture: true }); // before any other module's handler can start work
  window.addEventListener("pagehide", () => { putAway(true); closeDB(); }, { capture: true });
  window.addEventListener("pageshow", () => { if (document.visibilityState !== "hidden") comeBack(); }, { capture: true });
}
