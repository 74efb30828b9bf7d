"""The reports page counts concerns by level and outcome, those still waiting, the median time to acknowledge and
the alerts that escalated: on both databases, for the coordinator's own team only."""

from __future__ import annotations

import datetime as dt
import re

from test_coordinator_common import make_person, make_visit, sign_in

from server.db import utcnow, write_transaction
from server.models import StaffAlert, Visit
from server.safety import alerts


def test_concerns_by_level_outcome_and_median_time_to_acknowledge(client, coordinator, worker, make_user, other_team):
    person = make_person(coordinator.team, worker)
    now = utcnow().replace(microsecond=0)
    when = now - dt.timedelta(days=2)

    def concern(level, outcome="", ack_minutes=None):
        visit = make_visit(person, worker, when=when, concern=level)
        created = when
        Visit.update(created_at=created, concern_outcome=outcome,
                     concern_ack_at=created + dt.timedelta(minutes=ack_minutes) if ack_minutes is not None else None
                     ).where(Visit.id == visit.id).execute()
        return visit

    concern("high", "safeguarding", 10)
    concern("high", "crisis_team", 30)
    concern("high", "safeguarding", 200)
    concern("high")  # waiting
    concern("low", "no_action", 60)
    concern("low")
    make_visit(person, worker, when=when, concern="none")
    outsider = make_user("peer_worker", team=other_team)
    make_visit(make_person(other_team, outsider), outsider, when=when, concern="high")  # another team
    high = Visit.select().where(Visit.concern == "high").first()
    with write_transaction():
        alert = alerts.raise_alert("concern", coordinator.team_id, subject_uuid=str(high.uuid), now=now)
    StaffAlert.update(escalated_at=now).where(StaffAlert.id == alert.id).execute()

    sign_in(client, coordinator)
    html = client.get(f"/coordinator/reports?from={(now - dt.timedelta(days=7)).date()}&to={now.date()}")
    assert html.status_code == 200
    page = html.get_data(as_text=True)
    section = page[page.index('id="concerns-h"'):page.index("Referrals by category and worker")]
    cells = lambda label: re.findall(r"<td class=\"num\">([^<]*)</td>",  # noqa: E731
                                     section[section.index(f'<th scope="row">{label}</th>'):].split("</tr>")[0])
    # Raised, No further action, Safeguarding, Crisis team, Other, Not recorded, waiting, median
    assert cells("Serious concern") == ["4", "0", "2", "1", "0", "1", "1", "30 min"]
    assert cells("Some concern") == ["2", "1", "0", "0", "0", "1", "1", "60 min"]
    assert "All concerns: 6; median time to acknowledge 45 min" in section
    assert "escalated because nobody acknowledged them in time: 1" in section
