// The one module that owns IndexedDB: a store per synced entity, the `outbox` of mutations waiting for
// the server, and `meta` (who is signed in, device id, pull cursor, last sync). Every edit writes the
// record and its mutation in one transaction; nothing here ever awaits the network.
import { openDB, deleteDB } from "../vendor/idb-8.0.4/idb.js";

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
};
// What a person's purge removes with them: [entity, field naming the parent, parent entity].
const CHILDREN = [
  ["visit", "person_id", "person"], ["goal", "person_id", "person"], ["referral", "person_id", "person"],
  ["conflict", "person_id", "person"], ["goal_progress", "goal_id", "goal"], ["review", "visit_id", "visit"],
];
const INDEXES = {
  visits: [["person_id", "person_id"], ["_next", "_next"]],
  goals: [["person_id", "person_id"]],
  goal_progress: [["goal_id", "goal_id"]],
  referrals: [["person_id", "person_id"]],
  reviews: [["visit_id", "visit_id"]],
  conflicts: [["person_id", "person_id"]],
};

let dbPromise = null;

export function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, 1, {
      upgrade(d, oldVersion) {
        if (oldVersion < 1) {
          for (const name of Object.values(STORES)) {
            const store = d.createObjectStore(name, { keyPath: "id" });
            for (const [index, path] of INDEXES[name] || []) store.createIndex(index, path);
          }
          const outbox = d.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
          outbox.createIndex("record_id", "record_id");
          d.createObjectStore("meta", { keyPath: "key" });
        }
      },
      blocking() { closeDB(); }, // another tab wants to delete or upgrade: let it
    });
  }
  return dbPromise;
}

export async function closeDB() {
  if (!dbPromise) return;
  const p = dbPromise;
  dbPromise = null;
  try { (await p).close(); } catch { /* already closed */ }
}

export function uuid() {
  return crypto.randomUUID ? crypto.randomUUID() : fallbackUuid();
}
function fallbackUuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- meta ------------------------------------------------------------------------------------------

export async function getMeta(key, fallback = null) {
  const row = await (await db()).get("meta", key);
  return row ? row.value : fallback;
}
export async function setMeta(key, value) {
  await (await db()).put("meta", { key, value });
}
export async function setMetaMany(values) {
  const tx = (await db()).transaction("meta", "readwrite");
  for (const [key, value] of Object.entries(values)) tx.store.put({ key, value });
  await tx.done;
}

// --- reads -----------------------------------------------------------------------------------------

export async function get(entity, id) {
  return (await db()).get(STORES[entity], id);
}
export async function all(entity) {
  return (await db()).getAll(STORES[entity]);
}
export async function byIndex(entity, index, value) {
  return (await db()).getAllFromIndex(STORES[entity], index, value);
}
export async function count(entity) {
  return (await db()).count(STORES[entity]);
}
export async function upcomingVisits(fromIso) {
  return (await db()).getAllFromIndex("visits", "_next", IDBKeyRange.lowerBound(fromIso));
}
export async function outboxAll() {
  return (await db()).getAll("outbox");
}
export async function outboxCount() {
  return (await db()).count("outbox");
}

// A sortable UTC key for a time with any offset (the index cannot compare "+01:00" with "Z").
function utcKey(value) {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}
function localShape(entity, record) {
  if (entity === "visit") record._next = utcKey(record.next_visit_at);
  return record;
}

// --- edits: the record and its mutation, in one transaction ----------------------------------------

// changes: [{entity, id, fields, isNew}] -> the saved records. Unsent mutations of the same record are
// merged (never one that has been sent: a retry must carry exactly what was sent the first time).
// `meta` (optional) is written in the same transaction (e.g. the defaults for the next visit form).
export async function edit(changes, meta = null) {
  const d = await db();
  const names = [...new Set(changes.map((c) => STORES[c.entity]))];
  const tx = d.transaction([...names, "outbox", ...(meta ? ["meta"] : [])], "readwrite");
  const outbox = tx.objectStore("outbox");
  const saved = [];
  if (meta) for (const [key, value] of Object.entries(meta)) tx.objectStore("meta").put({ key, value });
  for (const change of changes) {
    const store = tx.objectStore(STORES[change.entity]);
    // A record made here has a fresh UUID: nothing to read first (this keeps tap-to-saved short).
    const existing = change.isNew ? undefined : await store.get(change.id);
    if (!existing && !change.isNew) throw new Error("That record is no longer on this phone.");
    const fields = {};
    for (const [k, v] of Object.entries(change.fields)) {
      if (!existing || JSON.stringify(existing[k]) !== JSON.stringify(v)) fields[k] = v;
    }
    if (existing && !Object.keys(fields).length) { saved.push(existing); continue; }
    if (change.localOnly) { // shown at once, sent by another mutation (a conflict's restore)
      const record = localShape(change.entity, { ...existing, ...fields, id: change.id });
      await store.put(record);
      saved.push(record);
      continue;
    }
    const record = localShape(change.entity, {
      ...(existing || { rev: null }), ...fields, ...(change.local || {}), id: change.id, _sync: "unsynced", _errors: null,
    });
    store.put(record);
    const pending = existing ? await outbox.index("record_id").getAll(change.id) : [];
    const open = pending.filter((m) => !m.attempts && m.state !== "rejected").pop();
    if (open) {
      open.fields = { ...open.fields, ...fields };
      await outbox.put(open);
    } else {
      const rejected = pending.filter((m) => m.state === "rejected");
      // A fix for a rejected mutation carries the whole record: the rejected one is then retired.
      const keys = new Set([...rejected.flatMap((m) => Object.keys(m.fields)), ...Object.keys(fields)]);
      const full = Object.fromEntries([...keys].map((k) => [k, record[k]]));
      for (const m of rejected) await outbox.delete(m.seq);
      const wasNew = !existing || (existing.rev == null && rejected.some((m) => m.base_rev == null));
      outbox.add({
        id: uuid(), entity: change.entity, record_id: change.id, op: "upsert",
        base_rev: wasNew ? null : existing.rev ?? null,
        fields: wasNew ? pickFields(record) : full, attempts: 0, state: "pending", created_at: new Date().toISOString(),
      });
    }
    saved.push(record);
  }
  await tx.done;
  return saved;
}

export function pickFields(record) {
  const out = {};
  for (const [k, v] of Object.entries(record)) if (k !== "id" && k !== "rev" && !k.startsWith("_")) out[k] = v;
  return out;
}

// --- the sync client's side of the outbox ------------------------------------------------------------

// The next batch: oldest first, one mutation per record (so each carries the rev its predecessor got),
// rejected ones left for the worker to fix. Marks them attempted in the same transaction.
export async function takeBatch(limit) {
  const d = await db();
  const tx = d.transaction("outbox", "readwrite");
  const batch = [];
  const seen = new Set();
  let cursor = await tx.store.openCursor();
  while (cursor && batch.length < limit) {
    const m = cursor.value;
    if (m.state !== "rejected" && !seen.has(m.record_id)) {
      seen.add(m.record_id);
      m.attempts = (m.attempts || 0) + 1;
      await cursor.update(m);
      batch.push(m);
    } else if (m.state !== "rejected") {
      seen.add(m.record_id);
    }
    cursor = await cursor.continue();
  }
  await tx.done;
  return batch;
}

// A rejected mutation sent again as a new mutation (its cause may be fixed now, e.g. a goal it needed).
export async function retryRejected(seq) {
  const tx = (await db()).transaction([...Object.values(STORES), "outbox"], "readwrite");
  const outbox = tx.objectStore("outbox");
  const m = await outbox.get(seq);
  if (m && m.state === "rejected") {
    await outbox.delete(seq);
    const again = { ...m, id: uuid(), state: "pending", attempts: 0, errors: null, created_at: new Date().toISOString() };
    delete again.seq; // a new place at the end of the queue
    await outbox.add(again);
    const store = tx.objectStore(STORES[m.entity]);
    const record = await store.get(m.record_id);
    if (record) await store.put({ ...record, _sync: "unsynced", _errors: null });
  }
  await tx.done;
}

// Drop a rejected mutation from the phone. Safe: the server kept what was typed with the rejection.
// A record that never reached the server goes with it.
export async function discardRejected(seq) {
  const tx = (await db()).transaction([...Object.values(STORES), "outbox"], "readwrite");
  const outbox = tx.objectStore("outbox");
  const m = await outbox.get(seq);
  if (m && m.state === "rejected") {
    await outbox.delete(seq);
    const store = tx.objectStore(STORES[m.entity]);
    const record = await store.get(m.record_id);
    const rest = await outbox.index("record_id").getAll(m.record_id);
    if (record && !rest.length) {
      if (record.rev == null) await store.delete(m.record_id);
      else await store.put({ ...record, _sync: "synced", _errors: null });
    }
  }
  await tx.done;
}

export async function applyPushResults(sent, results) {
  const d = await db();
  const tx = d.transaction([...Object.values(STORES), "outbox"], "readwrite");
  const outbox = tx.objectStore("outbox");
  const byId = new Map(results.map((r) => [r.id, r]));
  const outcome = { applied: 0, rejected: 0, conflict: 0 };
  for (const m of sent) {
    const r = byId.get(m.id);
    if (!r) continue; // not answered: stays in the outbox and is sent again
    const store = tx.objectStore(STORES[m.entity]);
    const record = await store.get(m.record_id);
    const hasErrors = r.errors && Object.keys(r.errors).length;
    // A duplicate repeats the original outcome: the first answer was lost on the way back.
    const status = r.status === "duplicate" ? (r.outcome || (hasErrors ? "rejected" : "applied")) : r.status;
    if (status === "rejected") {
      m.state = "rejected";
      m.errors = r.errors || {};
      await outbox.put(m);
      outcome.rejected += 1;
      if (record) await store.put({ ...record, _sync: "rejected", _errors: m.errors });
      continue;
    }
    await outbox.delete(m.seq);
    outcome[status === "conflict" ? "conflict" : "applied"] += 1;
    const rest = await outbox.index("record_id").getAll(m.record_id);
    if (r.rev != null) {
      for (const later of rest) {
        if (!later.attempts && (later.base_rev == null || later.base_rev < r.rev)) {
          later.base_rev = r.rev;
          await outbox.put(later);
        }
      }
    }
    if (record) {
      const rev = r.rev != null && (record.rev == null || r.rev > record.rev) ? r.rev : record.rev;
      const state = rest.length ? record._sync : status === "conflict" ? "conflict" : "synced";
      await store.put({ ...record, rev, _sync: state, _errors: rest.length ? record._errors : null });
    }
  }
  await tx.done;
  return outcome;
}

// One pulled page: changes merged (local unsent edits stay on top), purges removed with their children,
// the cursor saved in the same transaction so a crash never skips or double-applies a page.
export async function applyPull(page) {
  const d = await db();
  const tx = d.transaction([...Object.values(STORES), "outbox", "meta"], "readwrite");
  const outbox = tx.objectStore("outbox");
  for (const c of page.changes || []) {
    const name = STORES[c.entity];
    if (!name) continue;
    const store = tx.objectStore(name);
    const existing = await store.get(c.record_id);
    if (existing && existing.rev != null && c.rev != null && existing.rev > c.rev) continue;
    if (c.deleted) { await store.delete(c.record_id); continue; }
    const pending = await outbox.index("record_id").getAll(c.record_id);
    let record = { ...(existing || {}), ...(c.fields || {}), id: c.record_id, rev: c.rev };
    if (pending.length) {
      for (const m of pending) record = { ...record, ...m.fields };
      record._sync = existing ? existing._sync : "unsynced";
    } else {
      record._sync = "synced";
      record._errors = null;
    }
    await store.put(localShape(c.entity, record));
  }
  for (const p of page.purge || []) await purgeIn(tx, p.entity, p.record_id);
  if (page.cursor != null) await tx.objectStore("meta").put({ key: "cursor", value: page.cursor });
  await tx.done;
}

async function purgeIn(tx, entity, id) {
  const name = STORES[entity];
  if (!name) return;
  await tx.objectStore(name).delete(id);
  for (const [child, field, parent] of CHILDREN) {
    if (parent !== entity) continue;
    const store = tx.objectStore(STORES[child]);
    const keys = await store.index(field).getAllKeys(id);
    for (const key of keys) await purgeIn(tx, child, key);
  }
}

export async function wipe() {
  await closeDB();
  await deleteDB(DB_NAME);
}

// For the benchmark and tests: many records in one transaction.
export async function bulkPut(entity, records) {
  const tx = (await db()).transaction(STORES[entity], "readwrite");
  for (const r of records) tx.store.put(localShape(entity, { _sync: "synced", ...r }));
  await tx.done;
}
