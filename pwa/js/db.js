// The one module that owns IndexedDB: a store per synced entity, the `outbox` of mutations waiting for
// the server, and `meta` (who is signed in, device id, pull cursor, last sync). Every edit writes the
// record and its mutation in one transaction; nothing here ever awaits the network.
//
// Encryption at rest (SECURITY.md): every record and outbox entry is stored as {iv, ct} (AES-GCM under the
// data key from vault.js, a fresh random 12-byte IV on every write) beside a few clear fields the indexes
// need: ids, person/goal/visit ids, rev, sync state, a visit's start and next-visit times (when, never who or
// what: the caseload and diary then open without decrypting visits). Never names, notes or titles.
// WebCrypto cannot run inside an IndexedDB transaction (the transaction commits while it waits), so a write
// is read -> decide in memory -> encrypt -> one readwrite transaction, serialised by a lock (Web Locks
// across tabs) so two writers never interleave. A write that reads nothing (new records only) takes no lock.
import { deleteDB } from "../vendor/idb-8.0.4/idb.js";
import { key as dataKey } from "./vault.js";
import { db, closeDB, DB_NAME, STORES } from "./idb-connection.js";

export { db, closeDB, DB_NAME, STORES };
// What a person's purge removes with them: [entity, field naming the parent, parent entity].
const CHILDREN = [
  ["visit", "person_id", "person"], ["goal", "person_id", "person"], ["referral", "person_id", "person"],
  ["conflict", "person_id", "person"], ["goal_progress", "goal_id", "goal"], ["review", "visit_id", "visit"],
];

export function uuid() {
  return crypto.randomUUID ? crypto.randomUUID() : fallbackUuid();
}
function fallbackUuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- encryption ------------------------------------------------------------------------------------

const CLEAR = { // the fields each store keeps readable beside {iv, ct}
  outbox: ["record_id", "state"],
  visits: ["person_id", "_next", "started_at"], goals: ["person_id"], goal_progress: ["goal_id"], referrals: ["person_id"],
  reviews: ["visit_id"], conflicts: ["person_id"],
};
const PEOPLE_LIST = "people_list"; // one sealed list of who is on the caseload: one decrypt opens the caseload
const SEALED_META = new Set(["visit_defaults", PEOPLE_LIST, "handovers_seen"]); // meta that says something about a person or a visit
const LIST_FIELDS = ["id", "display_name", "status", "deleted", "rev", "_sync",
  "added_in_field", "confirmed", "_added_here", "missed_in_a_row", "handover_note"]; // issue 15: the caseload's flags
function listEntry(person) {
  const entry = {};
  for (const f of LIST_FIELDS) if (person[f] !== undefined) entry[f] = person[f];
  return entry;
}
const KEYPATH = (name) => (name === "outbox" ? "seq" : name === "meta" ? "key" : "id");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class LockedError extends Error {
  constructor() { super("Alongside is locked. Enter your PIN to open it."); this.name = "LockedError"; }
}
function needKey() {
  const k = dataKey();
  if (!k) throw new LockedError();
  return k;
}

async function sealRow(name, value) {
  if (name === "meta" && !SEALED_META.has(value.key)) return value;
  const k = needKey();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, k, encoder.encode(JSON.stringify(value)));
  const row = { iv, ct };
  if (name === "meta") { row.key = value.key; return row; }
  if (name !== "outbox") { row.id = value.id; row.rev = value.rev ?? null; row._sync = value._sync; }
  else if (value.seq != null) row.seq = value.seq;
  for (const field of CLEAR[name] || []) if (value[field] !== undefined) row[field] = value[field];
  return row;
}

async function openRow(name, row) {
  if (!row || !row.ct) return row; // absent, or written before encryption (sealed on its next write)
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: row.iv }, needKey(), row.ct);
  const value = JSON.parse(decoder.decode(plain));
  if (name === "outbox") value.seq = row.seq;
  return value;
}
const openRows = (name, rows) => Promise.all(rows.map((r) => openRow(name, r)));

// One write: reads see earlier writes of the same unit; commit() encrypts everything, then writes it all
// in one transaction. Outbox entries added here have no seq until then.
class Work {
  constructor() { this.changes = new Map(); this.adds = []; }
  map(name) {
    if (!this.changes.has(name)) this.changes.set(name, new Map());
    return this.changes.get(name);
  }
  async get(name, key) {
    const m = this.changes.get(name);
    if (m && m.has(key)) return m.get(key) ? structuredClone(m.get(key)) : undefined;
    return openRow(name, await (await db()).get(name, key));
  }
  put(name, value) {
    const key = value[KEYPATH(name)];
    if (key === undefined) { if (!this.adds.some(([, v]) => v === value)) this.adds.push([name, value]); return; }
    this.map(name).set(key, structuredClone(value));
  }
  delete(name, key) { this.map(name).set(key, null); }
  add(name, value) { this.adds.push([name, value]); }
  async byIndex(name, index, value) {
    const rows = await openRows(name, await (await db()).getAllFromIndex(name, index, value));
    const m = this.changes.get(name) || new Map();
    const kp = KEYPATH(name);
    const out = [];
    const seen = new Set();
    for (const r of rows) {
      seen.add(r[kp]);
      if (!m.has(r[kp])) out.push(r);
      else if (m.get(r[kp]) && m.get(r[kp])[index] === value) out.push(structuredClone(m.get(r[kp])));
    }
    for (const [k, v] of m) if (v && !seen.has(k) && v[index] === value) out.push(structuredClone(v));
    for (const [n, v] of this.adds) if (n === name && v[index] === value) out.push(v); // by reference: see put()
    return out;
  }
  async commit() {
    const people = this.changes.get("people");
    if (people && people.size) { // keep the sealed people list in step, in the same transaction
      const list = await getMeta(PEOPLE_LIST);
      if (list) {
        for (const [k, v] of people) { if (v) list[k] = listEntry(v); else delete list[k]; }
        this.put("meta", { key: PEOPLE_LIST, value: list });
      }
    }
    const writes = [];
    for (const [name, m] of this.changes) for (const [k, v] of m) writes.push([name, k, v]);
    if (!writes.length && !this.adds.length) return;
    const [sealed, added] = await Promise.all([ // every encryption at once, each with its own fresh IV
      Promise.all(writes.map(([name, , v]) => (v ? sealRow(name, v) : null))),
      Promise.all(this.adds.map(([name, v]) => sealRow(name, v))),
    ]);
    const names = new Set([...writes.map(([n]) => n), ...this.adds.map(([n]) => n)]);
    const tx = (await db()).transaction([...names], "readwrite");
    writes.forEach(([name, k], i) => {
      if (sealed[i]) tx.objectStore(name).put(sealed[i]);
      else tx.objectStore(name).delete(k);
    });
    this.adds.forEach(([name], i) => tx.objectStore(name).add(added[i]));
    await tx.done;
  }
}

let chain = Promise.resolve();
function serial(fn) { // one writer at a time, across tabs where Web Locks exist
  if (navigator.locks) return navigator.locks.request("alongside-db", () => fn());
  const run = chain.then(fn, fn);
  chain = run.catch(() => {});
  return run;
}

// Rows written before encryption was set up are sealed now, with the mark that it is done in the same
// transaction (nothing is lost). Called after the PIN is set and on every unlock, so an upgrade cut short (the
// app closed between "Save PIN" and here) is finished next time; once marked, it reads only the mark.
const SEALED_MARK = "plain_rows_sealed";
export function sealPlainRows() {
  return serial(async () => {
    const d = await db();
    if (await d.get("meta", SEALED_MARK)) return;
    const w = new Work();
    w.put("meta", { key: SEALED_MARK, value: true });
    for (const name of [...Object.values(STORES), "outbox"]) {
      for (const row of await d.getAll(name)) if (!row.ct) w.put(name, row);
    }
    for (const key of SEALED_META) {
      const row = await d.get("meta", key);
      if (row && !row.ct) w.put("meta", row);
    }
    await w.commit();
  });
}

// --- meta ------------------------------------------------------------------------------------------

export async function getMeta(key, fallback = null) {
  const row = await openRow("meta", await (await db()).get("meta", key));
  return row ? row.value : fallback;
}
export async function setMeta(key, value) {
  await setMetaMany({ [key]: value });
}
export async function setMetaMany(values) {
  const rows = await Promise.all(Object.entries(values).map(([key, value]) => sealRow("meta", { key, value })));
  const tx = (await db()).transaction("meta", "readwrite");
  for (const row of rows) tx.store.put(row);
  await tx.done;
}

// --- reads -----------------------------------------------------------------------------------------

export async function get(entity, id) {
  return openRow(STORES[entity], await (await db()).get(STORES[entity], id));
}
export async function all(entity) {
  return openRows(STORES[entity], await (await db()).getAll(STORES[entity]));
}
export async function byIndex(entity, index, value) {
  return openRows(STORES[entity], await (await db()).getAllFromIndex(STORES[entity], index, value));
}
// The caseload's people (id, name, status, sync state) from one sealed list; built once from the records.
export async function peopleList() {
  const list = await getMeta(PEOPLE_LIST);
  if (list) return Object.values(list);
  return serial(async () => {
    const built = Object.fromEntries((await all("person")).map((p) => [p.id, listEntry(p)]));
    await setMeta(PEOPLE_LIST, built);
    return Object.values(built);
  });
}
export async function count(entity) {
  return (await db()).count(STORES[entity]);
}
export async function upcomingVisits(fromIso) {
  return openRows("visits", await (await db()).getAllFromIndex("visits", "_next", IDBKeyRange.lowerBound(fromIso)));
}
// Upcoming visits from their clear fields only (no decryption): person, start and next-visit time.
export async function upcomingVisitTimes(fromIso) {
  const rows = await (await db()).getAllFromIndex("visits", "_next", IDBKeyRange.lowerBound(fromIso));
  return rows.map((r) => ({ id: r.id, person_id: r.person_id, started_at: r.started_at, _next: r._next, next_visit_at: r._next }));
}
export async function outboxAll() {
  return openRows("outbox", await (await db()).getAll("outbox"));
}
export async function outboxCount() {
  return (await db()).count("outbox");
}
// Counts by state from the clear fields: works while locked (the status line, sign-out's refusal).
export async function outboxStates() {
  const rows = await (await db()).getAll("outbox");
  return { total: rows.length, rejected: rows.filter((m) => m.state === "rejected").length };
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
export function edit(changes, meta = null) {
  // Only new records (the usual visit, with its ratings and the form defaults): nothing is read, so nothing
  // decided can go stale and the one transaction is atomic by itself; no lock to wait for. A new person is not
  // (commit() reads and re-seals the people list), nor is any change to an existing record.
  const readsNothing = changes.every((c) => c.isNew && c.entity !== "person");
  return (readsNothing ? (fn) => fn() : serial)(async () => {
    const w = new Work();
    const saved = [];
    if (meta) for (const [key, value] of Object.entries(meta)) w.put("meta", { key, value });
    for (const change of changes) {
      const name = STORES[change.entity];
      // A record made here has a fresh UUID: nothing to read first (this keeps tap-to-saved short).
      const existing = change.isNew ? undefined : await w.get(name, change.id);
      if (!existing && !change.isNew) throw new Error("That record is no longer on this phone.");
      const fields = {};
      for (const [k, v] of Object.entries(change.fields)) {
        if (!existing || JSON.stringify(existing[k]) !== JSON.stringify(v)) fields[k] = v;
      }
      if (existing && !Object.keys(fields).length) { saved.push(existing); continue; }
      if (change.localOnly) { // shown at once, sent by another mutation (a conflict's restore)
        const record = localShape(change.entity, { ...existing, ...fields, id: change.id });
        w.put(name, record);
        saved.push(record);
        continue;
      }
      const record = localShape(change.entity, {
        ...(existing || { rev: null }), ...fields, ...(change.local || {}), id: change.id, _sync: "unsynced", _errors: null,
      });
      w.put(name, record);
      const pending = existing ? await w.byIndex("outbox", "record_id", change.id) : [];
      const open = pending.filter((m) => !m.attempts && m.state !== "rejected").pop();
      if (open) {
        open.fields = { ...open.fields, ...fields };
        w.put("outbox", open);
      } else {
        const rejected = pending.filter((m) => m.state === "rejected");
        // A fix for a rejected mutation carries the whole record: the rejected one is then retired.
        const keys = new Set([...rejected.flatMap((m) => Object.keys(m.fields)), ...Object.keys(fields)]);
        const full = Object.fromEntries([...keys].map((k) => [k, record[k]]));
        for (const m of rejected) w.delete("outbox", m.seq);
        const wasNew = !existing || (existing.rev == null && rejected.some((m) => m.base_rev == null));
        w.add("outbox", {
          id: uuid(), entity: change.entity, record_id: change.id, op: "upsert",
          base_rev: wasNew ? null : existing.rev ?? null,
          fields: wasNew ? pickFields(record) : full, attempts: 0, state: "pending", created_at: new Date().toISOString(),
        });
      }
      saved.push(record);
    }
    await w.commit();
    return saved;
  });
}

export function pickFields(record) {
  const out = {};
  for (const [k, v] of Object.entries(record)) if (k !== "id" && k !== "rev" && !k.startsWith("_")) out[k] = v;
  return out;
}

// --- the sync client's side of the outbox ------------------------------------------------------------

// The next batch: oldest first, one mutation per record (so each carries the rev its predecessor got),
// rejected ones left for the worker to fix. Marks them attempted in the same write.
export function takeBatch(limit) {
  return serial(async () => {
    const rows = await (await db()).getAll("outbox"); // by seq: oldest first
    const picked = [];
    const seen = new Set();
    for (const row of rows) {
      if (picked.length >= limit) break;
      if (row.state === "rejected") continue;
      if (!seen.has(row.record_id)) picked.push(row);
      seen.add(row.record_id);
    }
    const batch = await openRows("outbox", picked);
    const w = new Work();
    for (const m of batch) {
      m.attempts = (m.attempts || 0) + 1;
      w.put("outbox", m);
    }
    await w.commit();
    return batch;
  });
}

// A rejected mutation sent again as a new mutation (its cause may be fixed now, e.g. a goal it needed).
export function retryRejected(seq) {
  return serial(async () => {
    const w = new Work();
    const m = await w.get("outbox", seq);
    if (m && m.state === "rejected") {
      w.delete("outbox", seq);
      const again = { ...m, id: uuid(), state: "pending", attempts: 0, errors: null, created_at: new Date().toISOString() };
      delete again.seq; // a new place at the end of the queue
      w.add("outbox", again);
      const record = await w.get(STORES[m.entity], m.record_id);
      if (record) w.put(STORES[m.entity], { ...record, _sync: "unsynced", _errors: null });
    }
    await w.commit();
  });
}

// Drop a rejected mutation from the phone. Safe: the server kept what was typed with the rejection.
// A record that never reached the server goes with it.
export function discardRejected(seq) {
  return serial(async () => {
    const w = new Work();
    const m = await w.get("outbox", seq);
    if (m && m.state === "rejected") {
      w.delete("outbox", seq);
      const name = STORES[m.entity];
      const record = await w.get(name, m.record_id);
      const rest = await w.byIndex("outbox", "record_id", m.record_id);
      if (record && !rest.length) {
        if (record.rev == null) w.delete(name, m.record_id);
        else w.put(name, { ...record, _sync: "synced", _errors: null });
      }
    }
    await w.commit();
  });
}

export function applyPushResults(sent, results) {
  return serial(async () => {
    const w = new Work();
    const byId = new Map(results.map((r) => [r.id, r]));
    const outcome = { applied: 0, rejected: 0, conflict: 0 };
    for (const m of sent) {
      const r = byId.get(m.id);
      if (!r) continue; // not answered: stays in the outbox and is sent again
      const name = STORES[m.entity];
      const record = await w.get(name, m.record_id);
      const hasErrors = r.errors && Object.keys(r.errors).length;
      // A duplicate repeats the original outcome: the first answer was lost on the way back.
      const status = r.status === "duplicate" ? (r.outcome || (hasErrors ? "rejected" : "applied")) : r.status;
      if (status === "rejected") {
        m.state = "rejected";
        m.errors = r.errors || {};
        w.put("outbox", m);
        outcome.rejected += 1;
        if (record) w.put(name, { ...record, _sync: "rejected", _errors: m.errors });
        continue;
      }
      w.delete("outbox", m.seq);
      outcome[status === "conflict" ? "conflict" : "applied"] += 1;
      const rest = await w.byIndex("outbox", "record_id", m.record_id);
      if (r.rev != null) {
        for (const later of rest) {
          if (!later.attempts && (later.base_rev == null || later.base_rev < r.rev)) {
            later.base_rev = r.rev;
            w.put("outbox", later);
          }
        }
      }
      if (record) {
        const rev = r.rev != null && (record.rev == null || r.rev > record.rev) ? r.rev : record.rev;
        const state = rest.length ? record._sync : status === "conflict" ? "conflict" : "synced";
        w.put(name, { ...record, rev, _sync: state, _errors: rest.length ? record._errors : null });
      }
    }
    await w.commit();
    return outcome;
  });
}

// One pulled page: changes merged (local unsent edits stay on top), purges removed with their children,
// the cursor saved in the same transaction so a crash never skips or double-applies a page.
export function applyPull(page) {
  return serial(async () => {
    const w = new Work();
    for (const c of page.changes || []) {
      const name = STORES[c.entity];
      if (!name) continue;
      const existing = await w.get(name, c.record_id);
      if (existing && existing.rev != null && c.rev != null && existing.rev > c.rev) continue;
      if (c.deleted) { w.delete(name, c.record_id); continue; }
      const pending = await w.byIndex("outbox", "record_id", c.record_id);
      let record = { ...(existing || {}), ...(c.fields || {}), id: c.record_id, rev: c.rev };
      if (pending.length) {
        for (const m of pending) record = { ...record, ...m.fields };
        record._sync = existing ? existing._sync : "unsynced";
      } else {
        record._sync = "synced";
        record._errors = null;
      }
      w.put(name, localShape(c.entity, record));
    }
    for (const p of page.purge || []) await purgeIn(w, p.entity, p.record_id);
    if (page.cursor != null) w.put("meta", { key: "cursor", value: page.cursor });
    await w.commit();
  });
}

async function purgeIn(w, entity, id) {
  const name = STORES[entity];
  if (!name) return;
  w.delete(name, id);
  for (const [child, field, parent] of CHILDREN) {
    if (parent !== entity) continue;
    for (const row of await w.byIndex(STORES[child], field, id)) await purgeIn(w, child, row.id);
  }
}

export async function wipe() {
  await closeDB();
  await deleteDB(DB_NAME);
}

// For the benchmark and tests: many records in one transaction.
export async function bulkPut(entity, records) {
  const name = STORES[entity];
  const rows = await Promise.all(records.map((r) => sealRow(name, localShape(entity, { _sync: "synced", ...r }))));
  const tx = (await db()).transaction(name, "readwrite");
  for (const row of rows) tx.store.put(row);
  await tx.done;
  if (entity === "person") await setMeta(PEOPLE_LIST, null); // rebuilt on the next read
}
