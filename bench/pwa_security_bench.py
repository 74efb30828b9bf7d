"""Phone encryption cost: unlock time (PBKDF2 600,000 iterations + unwrap) and what AES-GCM adds to opening a
10,000-record caseload and to logging a visit, in headless Chromium with 4x CPU throttling.
A benchmark, not a test: it prints figures beside their targets and never fails on time.

    .venv/bin/python bench/pwa_security_bench.py [--runs 5] [--records 10000]

The encrypted figures are the app's own code (db.js, vault.js). The plain baseline is the same records, the
same indexes and the same reads written to a second, unencrypted IndexedDB database in the same page, so the
difference is the cost of encryption alone (structured clone of {iv, ct} + decrypt + JSON.parse, against
structured clone of the plain object).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from pwa_budget import CHROMIUM, PASSWORD, PIN, SEED, line, median, start_server  # noqa: E402

os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")

# The same records into a plain database with the app's store layout (for the baseline).
PLAIN_SEED = """async () => {
  const db = await import('/app/js/db.js');
  const { openDB, deleteDB } = await import('/app/vendor/idb-8.0.4/idb.js');
  await deleteDB('plain-bench');
  const plain = await openDB('plain-bench', 1, { upgrade(d) {
    d.createObjectStore('people', { keyPath: 'id' });
    d.createObjectStore('visits', { keyPath: 'id' }).createIndex('_next', '_next');
    d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
    d.createObjectStore('meta', { keyPath: 'key' });
  } });
  for (const [entity, store] of [['person', 'people'], ['visit', 'visits']]) {
    const rows = await db.all(entity);
    const tx = plain.transaction(store, 'readwrite');
    for (const r of rows) tx.store.put(r);
    await tx.done;
  }
  plain.close();
}"""

CASELOAD_READS = """async () => {
  const db = await import('/app/js/db.js');
  const { openDB } = await import('/app/vendor/idb-8.0.4/idb.js');
  const from = new Date(Date.now() - 3600000).toISOString();
  // what the caseload reads: the sealed people list (one decrypt) and upcoming visits' clear times
  await db.peopleList(); // built once after a bulk seed (as after a first sync)
  let t = performance.now();
  const [people, visits] = await Promise.all([db.peopleList(), db.upcomingVisitTimes(from)]);
  const encrypted = performance.now() - t;
  const plain = await openDB('plain-bench', 1);
  t = performance.now();
  const [p2, v2] = await Promise.all([plain.getAll('people'),
                                      plain.getAllFromIndex('visits', '_next', IDBKeyRange.lowerBound(from))]);
  const clear = performance.now() - t;
  plain.close();
  if (people.length !== p2.length || visits.length !== v2.length) throw new Error('baseline differs');
  return { encrypted, clear, people: people.length, visits: visits.length };
}"""

RENDER_CASELOAD = """async () => {
  const app = await import('/app/js/app.js');
  const t = performance.now();
  await app.navigate('/app/');
  return performance.now() - t;
}"""

VISIT_WRITES = """async (n) => {
  const db = await import('/app/js/db.js');
  const { openDB } = await import('/app/vendor/idb-8.0.4/idb.js');
  const person = (await db.all('person'))[0].id;
  const fields = () => ({ person_id: person, started_at: new Date().toISOString(), duration_minutes: 60, mode: '01',
    location_type: 'A01', attendance: '5', notes: 'Routine visit. Talked about the week and plans.', goal_ids: [],
    concern: 'none', concern_notes: '', next_visit_at: null });
  const encrypted = [], clear = [];
  const plain = await openDB('plain-bench', 1);
  for (let i = 0; i < n; i += 1) {
    let t = performance.now();
    const change = { entity: 'visit', id: db.uuid(), isNew: true, fields: fields() };
    await db.edit([change], { visit_defaults: { mode: '01' } });
    encrypted.push(performance.now() - t);
    t = performance.now();
    const id = db.uuid(), f = fields();
    // what edit() wrote before encryption: the visit, its mutation and the form defaults, one transaction
    const tx = plain.transaction(['visits', 'outbox', 'meta'], 'readwrite');
    tx.objectStore('visits').put({ ...f, id, rev: null, _sync: 'unsynced', _errors: null });
    tx.objectStore('outbox').add({ id: db.uuid(), entity: 'visit', record_id: id, op: 'upsert', base_rev: null,
      fields: f, attempts: 0, state: 'pending', created_at: new Date().toISOString() });
    tx.objectStore('meta').put({ key: 'visit_defaults', value: { mode: '01' } });
    await tx.done;
    clear.push(performance.now() - t);
  }
  plain.close();
  const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { encrypted: med(encrypted), clear: med(clear) };
}"""

UNLOCK = """async (pin) => {
  const vault = await import('/app/js/vault.js');
  vault.lock('bench');
  const t = performance.now();
  const result = await vault.unlock(pin);
  return [performance.now() - t, result];
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="pwa-sec-bench-"))
    server, url = start_server(tmp)
    n = args.records
    split = [n // 10, n * 6 // 10, n * 2 // 10]
    split.append(n - sum(split))

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp / "profile"), executable_path=CHROMIUM, service_workers="allow",
            viewport={"width": 360, "height": 640},
            args=["--disable-background-networking", "--disable-component-update", "--no-first-run"])
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(url + "/app/")
        page.wait_for_selector("html[data-ready]")
        page.fill("input[name=email]", "bench@example.test")
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_selector("#set-pin-screen")
        page.fill("input[name=new_pin]", PIN)
        page.fill("input[name=new_pin_again]", PIN)
        page.click("#set-pin")
        page.wait_for_selector("#caseload-list")
        seeded = page.evaluate(SEED, split)
        page.evaluate(PLAIN_SEED)
        context.set_offline(True)
        context.route("**/*", lambda route: route.abort("internetdisconnected"))
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        unlocks, reads_enc, reads_clear, renders, edits_enc, edits_clear = [], [], [], [], [], []
        counts = None
        for _ in range(args.runs):
            ms, result = page.evaluate(UNLOCK, PIN)
            assert result == "ok", result
            unlocks.append(ms)
            reads = page.evaluate(CASELOAD_READS)
            counts = (reads["people"], reads["visits"])
            reads_enc.append(reads["encrypted"])
            reads_clear.append(reads["clear"])
            renders.append(page.evaluate(RENDER_CASELOAD))
            writes = page.evaluate(VISIT_WRITES, 9)
            edits_enc.append(writes["encrypted"])
            edits_clear.append(writes["clear"])
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        context.close()
    server.shutdown()

    added = median(reads_enc) - median(reads_clear)
    render = median(renders)
    plain_render = render - added
    print("Phone encryption — headless Chromium", "(Debian)" if CHROMIUM == "/usr/bin/chromium" else CHROMIUM,
          f"4x CPU throttling, median of {args.runs} runs")
    line("unlock: PBKDF2-SHA256 600,000 + unwrap + meta", median(unlocks), 1500, "ms")
    print(f"Opening the caseload: {seeded} records seeded; the caseload reads {counts[0]} people and "
          f"{counts[1]} upcoming visits:")
    print(f"  reads, encrypted (sealed people list + clear visit times){median(reads_enc):9.1f} ms")
    print(f"  the same reads, plain IndexedDB                         {median(reads_clear):9.1f} ms")
    print(f"  whole caseload screen (reads + sort + DOM), encrypted   {render:9.1f} ms")
    line("encryption's share of opening the caseload", 100 * added / plain_render, 20, "%")
    print("Logging a visit (the visit, its mutation and the form defaults; median of 9 per run):")
    print(f"  encrypted edit()                                        {median(edits_enc):9.1f} ms")
    print(f"  plain IndexedDB, the same three writes in one transaction {median(edits_clear):7.1f} ms")
    line("encryption adds to logging a visit", median(edits_enc) - median(edits_clear), 100, "ms")
    print(f"  runs: unlock {[round(x) for x in unlocks]} ms; caseload reads {[round(x) for x in reads_enc]} vs "
          f"{[round(x) for x in reads_clear]} ms; screen {[round(x) for x in renders]} ms; log a visit "
          f"{[round(x, 1) for x in edits_enc]} vs {[round(x, 1) for x in edits_clear]} ms")


if __name__ == "__main__":
    main()
