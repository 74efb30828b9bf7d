"""Shared by the coordinator-page browser tests (no tests in here): sign in, axe-core (vendored, with the
WCAG 2.2 target-size rule turned on), the 24 px spacing measure between targets, and a team with enough of
everything that every page has something on it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

from helpers import PASSWORD

AXE_DIR = Path(__file__).parent.parent / "vendor/axe-core-4.14.1"
AXE = (AXE_DIR / "axe.min.js").read_text()
SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 360, "height": 640}}

# axe leaves target-size (WCAG 2.2, 2.5.8) off by default; every other rule runs as shipped.
AXE_RUN = """async () => (await axe.run(document, {rules: {'target-size': {enabled: true}}})).violations
    .map(v => [v.id, v.nodes.length, v.nodes[0].target.join(' ')])"""

# Every pair of visible pointer targets at least 24 px apart, edge to edge (the house rule: stricter than
# WCAG 2.5.8, which lets a 24x24 target touch its neighbour). A target inside another (a link in a summary)
# is not a pair; focusable scroll regions are not pointer targets.
SPACING_JS = """() => {
  const els = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
    .filter(e => { const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && !e.closest('.visually-hidden, .skip')
        && e.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}); });
  const rects = els.map(e => e.getBoundingClientRect());
  const name = e => e.tagName.toLowerCase() + ' "' + (e.innerText || e.value || e.id || '').trim().slice(0, 40) + '"';
  const close = [];
  for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++) {
    if (els[i].contains(els[j]) || els[j].contains(els[i])) continue;
    const a = rects[i], b = rects[j];
    const dx = Math.max(0, Math.max(a.left, b.left) - Math.min(a.right, b.right));
    const dy = Math.max(0, Math.max(a.top, b.top) - Math.min(a.bottom, b.bottom));
    const gap = Math.hypot(dx, dy);
    if (gap < 23.5) close.push([Math.round(gap * 10) / 10, name(els[i]), name(els[j])]);
  }
  return close;
}"""


def sign_in(page, base: str, user) -> None:
    page.goto(base + "/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/coordinator/**")


def axe_violations(page) -> list:
    page.evaluate(AXE + "\n;0")
    return page.evaluate(AXE_RUN)


def targets_too_close(page) -> list:
    return page.evaluate(SPACING_JS)


def overflowing_tables(page) -> list:
    """Tables wider than their box (scrollWidth > clientWidth): they would scroll sideways."""
    return page.evaluate("""() => [...document.querySelectorAll('.table-wrap')]
        .filter(e => e.scrollWidth > e.clientWidth)
        .map(e => [e.querySelector('caption')?.innerText, e.scrollWidth, e.clientWidth])""")


def seed_team(field, *, resources: int = 3, workers: int = 2) -> SimpleNamespace:
    """A coordinator, peer workers (one with a long name), people with visits in every mode and attendance,
    a concern, goals rated over time, referrals and resources."""
    from server.codes import VISIT_ATTENDANCE, VISIT_MODES
    from server.db import utcnow
    from server.models import Goal, GoalProgress, Referral, Resource, Visit
    from server.sync.revisions import next_rev

    coordinator = field.user("coordinator", name="Cass Coordinator")
    names = ["Sam Worker", "Bartholomew Featherstonehaugh-Smythe", "Jo Bennett", "Priya Shah", "Ade Okafor",
             "Lee Chan"][:workers]
    staff = [field.user("peer_worker", name=name) for name in names]
    people = [field.person(staff[i % len(staff)], name=name)
              for i, name in enumerate(["Alex Example", "Robin Reed", "Kim Lowe"])]
    now = utcnow().replace(microsecond=0)
    modes, attendance = list(VISIT_MODES), list(VISIT_ATTENDANCE)
    visits = []
    with field.tx():
        shelf = [Resource.create(name=f"Resource number {i + 1}", category=["Food", "Money", "Housing"][i % 3],
                                 description="Open to all.", phone="0161 000 0000", area="North", rev=next_rev())
                 for i in range(resources)]
        for p_index, person in enumerate(people):
            worker = staff[p_index % len(staff)]
            goal = Goal.create(person=person, created_by=worker, title=f"Walk to the park ({person.display_name})",
                               rev=next_rev())
            for i in range(6):
                when = now - dt.timedelta(days=40 - 6 * i, hours=p_index)
                visit = Visit.create(person=person, author=worker, started_at=when, duration_minutes=45,
                                     mode=modes[(i + p_index) % len(modes)],
                                     attendance=attendance[(i + p_index) % len(attendance)],
                                     wellbeing=3 + i, notes="Talked about the week.", rev=next_rev(),
                                     goal_ids=json.dumps([str(goal.uuid)]),
                                     concern="low" if (i, p_index) == (5, 0) else "none",
                                     concern_notes="Seemed low." if (i, p_index) == (5, 0) else "")
                visits.append(visit)
                GoalProgress.create(goal=goal, visit=visit, author=worker, rating=2 + i, rated_by="together",
                                    created_at=when, rev=next_rev())
            Referral.create(person=person, resource=shelf[p_index % len(shelf)], created_by=worker, status="made",
                            rev=next_rev())
    return SimpleNamespace(coordinator=coordinator, workers=staff, people=people, visits=visits, resources=shelf)
