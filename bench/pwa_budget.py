"""Field-app budget: first-load critical path size (compressed), warm offline start to an interactive
caseload with 10,000 records in IndexedDB under 4x CPU throttling, and log-a-visit tap-to-saved.
A benchmark, not a test: it prints figures beside their targets and never fails on time.

    .venv/bin/python bench/pwa_budget.py [--runs 5] [--records 10000]
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")

CHROMIUM = os.environ.get("ALONGSIDE_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct-horse-battery"
PIN = "bench pin 2026"
CRITICAL_TYPES = {"document", "stylesheet", "script"}

SEED = """async ([people, visits, goals, referrals]) => {
  const db = await import('/app/js/db.js');
  const pid = (i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const rid = (p, i) => `${p}0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const day = 86400000, now = Date.now();
  const iso = (t) => new Date(t).toISOString();
  const many = (n, make) => Array.from({ length: n }, (_, i) => ({ rev: i + 1, ...make(i) }));
  await db.bulkPut('person', many(people, (i) => ({ id: pid(i), status: 'active', preferred_contact: 'Phone',
    display_name: `Person ${String(i).padStart(5, '0')}` })));
  await db.bulkPut('visit', many(visits, (i) => ({ id: rid('1', i), person_id: pid(i % people),
    started_at: iso(now - (i % 90) * day), duration_minutes: 60, mode: '01', location_type: 'A01',
    attendance: '5', notes: 'Routine visit. Talked about the week and plans.', goal_ids: [], concern: 'none',
    concern_notes: '', next_visit_at: iso(now - (i % 90) * day + 7 * day) })));  // a week after each visit
  await db.bulkPut('goal', many(goals, (i) => ({ id: rid('2', i), person_id: pid(i % people),
    title: `Goal number ${i} in the person's own words`, life_area: 'Home', steps: 'One step', status: 'active' })));
  await db.bulkPut('referral', many(referrals, (i) => ({ id: rid('3', i), person_id: pid(i % people),
    resource_id: rid('4', 0), status: 'made', notes: '' })));
  const counts = await Promise.all(['person', 'visit', 'goal', 'referral'].map((e) => db.count(e)));
  return counts.reduce((a, b) => a + b, 0);
}"""


def start_server(tmp: Path):
    from werkzeug.serving import make_server

    from server import create_app
    from server import db as dbmod
    from server.models import Person, Team, User
    from server.passwords import hash_password

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
                      "INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench-secret-key-long-enough-0123456789",
                      "AUTO_MIGRATE": True})
    with dbmod.database.connection_context(), dbmod.write_transaction():
        team = Team.create(name="Bench team")
        worker = User.create(email="bench@example.test", name="Bench Worker", role="peer_worker", team=team,
                             password_hash=hash_password(PASSWORD))
        Person.create(team=team, display_name="Real Person").assign_to(worker)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def median(values):
    return statistics.median(values) if values else float("nan")


def line(label, value, target, unit):
    verdict = "within" if value <= target else "OVER"
    print(f"  {label:<52} {value:>9.1f} {unit:<3} target <= {target:g} {unit}  ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="pwa-bench-"))
    server, url = start_server(tmp)
    n = args.records
    split = [n // 10, n * 6 // 10, n * 2 // 10]
    split.append(n - sum(split))  # people, visits, goals, referrals

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp / "profile"), executable_path=CHROMIUM, service_workers="allow",
            viewport={"width": 360, "height": 640},
            args=["--disable-background-networking", "--disable-component-update", "--no-first-run"])
        page = context.pages[0] if context.pages else context.new_page()

        # 1. First load: everything fetched before the caseload is interactive (a fresh profile, signed out).
        loaded = {}
        page.on("response",
                lambda r: loaded.setdefault(r.url, r) if r.request.resource_type in CRITICAL_TYPES else None)
        page.goto(url + "/app/")
        page.wait_for_selector("html[data-ready]")
        page.fill("input[name=email]", "bench@example.test")
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_selector("#set-pin-screen")  # the PIN chosen after the first sign-in
        page.fill("input[name=new_pin]", PIN)
        page.fill("input[name=new_pin_again]", PIN)
        page.click("#set-pin")
        page.wait_for_selector("#caseload-list")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20000)
        critical = {"js": [0, 0], "css": [0, 0], "html": [0, 0]}
        for resp_url, response in loaded.items():
            if "/app/" not in resp_url or resp_url.endswith("sw.js"):
                continue
            body = response.body()
            kind = response.request.resource_type
            key = "js" if kind == "script" else "css" if kind == "stylesheet" else "html"
            critical[key][0] += len(body)
            critical[key][1] += len(gzip.compress(body, compresslevel=9))
        lazy = 0  # every module of the app not fetched on the critical path: loaded on first use
        for path in sorted((ROOT / "pwa" / "js").rglob("*.js")):
            url_path = "/app/" + str(path.relative_to(ROOT / "pwa"))
            if path.name != "sw-strategies.js" and not any(u.endswith(url_path) for u in loaded):
                lazy += len(gzip.compress(path.read_bytes(), compresslevel=9))
        total_raw = sum(v[0] for v in critical.values())
        total_gz = sum(v[1] for v in critical.values())

        # 2. Seed 10,000 records, then start warm and offline under 4x CPU throttling.
        seeded = page.evaluate(SEED, split)
        context.set_offline(True)
        context.route("**/*", lambda route: route.abort("internetdisconnected"))
        cdp = context.new_cdp_session(page)
        starts, taps, stored = [], [], []
        for _ in range(args.runs):
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            page.goto(url + "/app/")
            page.wait_for_selector("#unlock-screen")  # reopening: the app opens locked
            page.fill("input[name=pin]", PIN)
            page.evaluate("""() => document.querySelector('#unlock').addEventListener('click',
                (e) => { window.__unlockTap = e.timeStamp; }, { capture: true })""")
            page.click("#unlock")
            page.wait_for_selector("#caseload-list li")
            starts.append(page.evaluate(
                "performance.getEntriesByName('screen:caseload')[0].startTime - window.__unlockTap"))
            # 3. Log a visit: tap Save -> the visit and its mutation are in IndexedDB and the worker is told.
            page.click("#caseload-list a >> nth=0")
            page.wait_for_selector("#log-visit")
            page.click("#log-visit")
            page.wait_for_selector("#save-visit")
            page.evaluate("""() => document.querySelector('#save-visit').addEventListener('click',
                (e) => { window.__tap = e.timeStamp; }, { capture: true })""")
            page.click("#save-visit")
            page.wait_for_selector("#visits")
            marks = page.evaluate("""() => [window.__tap, performance.getEntriesByName('visit-stored')[0].startTime,
                performance.getEntriesByName('visit-saved')[0].startTime]""")
            stored.append(marks[1] - marks[0])
            taps.append(marks[2] - marks[0])
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        context.close()
    server.shutdown()

    print("Field app (PWA) budget — headless Chromium", "(Debian)" if CHROMIUM == "/usr/bin/chromium" else CHROMIUM)
    print("First load, critical path (HTML + CSS + JS fetched before the caseload; gzip -9 of each file):")
    for key in ("html", "css", "js"):
        print(f"  {key:<5} {critical[key][0] / 1024:7.1f} KB raw  {critical[key][1] / 1024:6.1f} KB compressed")
    line("critical path total, compressed", total_gz / 1024, 100, "KB")
    line("JavaScript, compressed", critical["js"][1] / 1024, 60, "KB")
    print(f"  (raw total {total_raw / 1024:.1f} KB; forms and other screens load later: "
          f"{lazy / 1024:.1f} KB compressed)")
    print(f"Warm offline start, {seeded} records in IndexedDB ({split[0]} people, {split[1]} visits, {split[2]} goals, "
          f"{split[3]} referrals), 4x CPU throttling, median of {args.runs}:")
    line("tap Open (PIN) -> caseload interactive", median(starts), 1000, "ms")
    line("log a visit: tap Save -> stored in IndexedDB", median(stored), 100, "ms")
    line("log a visit: tap Save -> saved and confirmed", median(taps), 100, "ms")
    print(f"  runs: start {[round(x) for x in starts]} ms; tap-to-saved {[round(x) for x in taps]} ms")


if __name__ == "__main__":
    main()
