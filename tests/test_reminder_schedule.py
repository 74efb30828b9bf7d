"""Scheduling rules: the evening before and two hours before, quiet hours, both clock changes in
Europe/London, reschedule and cancel when a visit moves, settings, goal-step reminders, status."""

from __future__ import annotations

import datetime as dt

import pytest

from server.db import utcnow, write_transaction
from server.models import Consent, Goal, Person, Reminder, ReminderSetting, Visit
from server.reminders import consent, goals, schedule, status
from server.reminders import settings as reminder_settings
from server.sync.revisions import next_rev

UTC = dt.UTC


def u(*args):
    """Naive UTC."""
    return dt.datetime(*args)


def plan(visit_at, **settings):
    return {p.kind: (p.send_at, p.body) for p in
            schedule.plan_visit_reminders(visit_at, reminder_settings.Settings(**settings))}


# --- pure rules (no database) ----------------------------------------------------------------

def test_ordinary_winter_day():
    # Tuesday 10 November 2026, 10:00 GMT = 10:00 UTC
    got = plan(u(2026, 11, 10, 10, 0))
    assert got["visit_evening"] == (u(2026, 11, 9, 18, 0), "Reminder: your visit is tomorrow at 10:00")
    assert got["visit_soon"] == (u(2026, 11, 10, 8, 0), "Reminder: your visit is today at 10:00")


def test_summer_day_uses_bst():
    # 10:00 BST = 09:00 UTC; 18:00 BST the evening before = 17:00 UTC
    got = plan(u(2026, 7, 15, 9, 0))
    assert got["visit_evening"][0] == u(2026, 7, 14, 17, 0)
    assert got["visit_soon"] == (u(2026, 7, 15, 7, 0), "Reminder: your visit is today at 10:00")


def test_march_clock_change_visit_on_the_sunday():
    # Clocks go forward at 01:00 UTC on Sunday 29 March 2026. Visit 10:00 BST = 09:00 UTC.
    got = plan(u(2026, 3, 29, 9, 0))
    assert got["visit_evening"] == (u(2026, 3, 28, 18, 0), "Reminder: your visit is tomorrow at 10:00")  # 18:00 GMT
    assert got["visit_soon"] == (u(2026, 3, 29, 7, 0), "Reminder: your visit is today at 10:00")  # 08:00 BST


def test_march_clock_change_visit_the_day_after():
    # Monday 30 March 10:00 BST; the evening before is Sunday 18:00 BST = 17:00 UTC
    got = plan(u(2026, 3, 30, 9, 0))
    assert got["visit_evening"][0] == u(2026, 3, 29, 17, 0)
    assert got["visit_evening"][1] == "Reminder: your visit is tomorrow at 10:00"


def test_october_clock_change_visit_on_the_sunday():
    # Clocks go back at 01:00 UTC on Sunday 25 October 2026. Visit 10:00 GMT = 10:00 UTC.
    got = plan(u(2026, 10, 25, 10, 0))
    assert got["visit_evening"] == (u(2026, 10, 24, 17, 0), "Reminder: your visit is tomorrow at 10:00")  # 18:00 BST
    assert got["visit_soon"] == (u(2026, 10, 25, 8, 0), "Reminder: your visit is today at 10:00")


def test_october_clock_change_visit_the_day_after():
    got = plan(u(2026, 10, 26, 10, 0))
    assert got["visit_evening"][0] == u(2026, 10, 25, 18, 0)  # 18:00 GMT


def test_two_hours_before_is_real_time_across_the_change():
    # Visit 03:30 BST on 29 March (02:30 UTC); two real hours before is 00:30 UTC = 00:30 GMT,
    # inside quiet hours (21:00-08:00) so it moves to 08:00 BST, which is after the visit: dropped.
    got = plan(u(2026, 3, 29, 2, 30))
    assert "visit_soon" not in got
    # without quiet hours it stays at exactly two real hours before
    got = plan(u(2026, 3, 29, 2, 30), quiet_hours_start="00:00", quiet_hours_end="00:00")
    assert got["visit_soon"][0] == u(2026, 3, 29, 0, 30)


def test_quiet_hours_move_to_their_end():
    # Visit 09:30 GMT: two hours before is 07:30, in quiet hours -> 08:00 GMT
    got = plan(u(2026, 11, 10, 9, 30))
    assert got["visit_soon"][0] == u(2026, 11, 10, 8, 0)


def test_quiet_hours_end_on_the_march_change_morning():
    # Visit 09:00 BST (08:00 UTC) on 29 March: 07:00 BST is quiet -> 08:00 BST = 07:00 UTC
    got = plan(u(2026, 3, 29, 8, 0))
    assert got["visit_soon"][0] == u(2026, 3, 29, 7, 0)


def test_quiet_hours_end_on_the_october_change_morning():
    # Visit 08:30 GMT on 25 October: 06:30 GMT is quiet -> 08:00 GMT = 08:00 UTC
    got = plan(u(2026, 10, 25, 8, 30))
    assert got["visit_soon"][0] == u(2026, 10, 25, 8, 0)


def test_evening_reminder_in_late_quiet_hours_moves_to_the_morning_and_says_today():
    got = plan(u(2026, 11, 10, 14, 0), evening_time="22:00")
    assert got["visit_evening"] == (u(2026, 11, 10, 8, 0), "Reminder: your visit is today at 14:00")


def test_quiet_hours_that_do_not_cross_midnight():
    assert schedule.in_quiet_hours(dt.time(13, 0), "12:00", "14:00")
    assert not schedule.in_quiet_hours(dt.time(14, 0), "12:00", "14:00")
    assert schedule.in_quiet_hours(dt.time(23, 0), "21:00", "08:00")
    assert schedule.in_quiet_hours(dt.time(0, 0), "21:00", "08:00")
    assert not schedule.in_quiet_hours(dt.time(8, 0), "21:00", "08:00")


def test_settings_switch_reminders_off():
    assert plan(u(2026, 11, 10, 10, 0), evening_before=False, hours_before=0) == {}
    assert set(plan(u(2026, 11, 10, 10, 0), hours_before=0)) == {"visit_evening"}


def test_a_later_visit_says_the_weekday():
    sends = schedule.visit_body(u(2026, 11, 12, 10, 0), u(2026, 11, 9, 18, 0))
    assert sends == "Reminder: your visit is on Thursday 12 November at 10:00"


def test_nonexistent_local_time_moves_forward():
    # 01:30 on 29 March does not exist in London; it is read as 02:30 BST = 01:30 UTC
    assert schedule.to_utc(dt.datetime(2026, 3, 29, 1, 30)) == u(2026, 3, 29, 1, 30)
    assert schedule.to_utc(dt.datetime(2026, 3, 29, 3, 30)) == u(2026, 3, 29, 2, 30)


@pytest.mark.parametrize("text", [
    "take your meds", "Ring the GP", "mental health group", "Therapy at 3", "anxiety walk",
    "call Alex", "see https://x.test", "x" * 61,
])
def test_custom_text_refuses_health_words_names_links_and_length(text):
    person = Person(display_name="Alex Smith")
    assert goals.custom_text_problems(text, person)


@pytest.mark.parametrize("text", ["Walk to the park", "Bake the bread", "Phone the library", "Go swimming"])
def test_custom_text_allows_plain_words(text):
    assert goals.custom_text_problems(text, Person(display_name="Alex Smith")) == []


# --- with the database ------------------------------------------------------------------------

@pytest.fixture
def person(app, team, worker):
    with write_transaction():
        p = Person.create(team=team, display_name="Sam Person", reminders_opt_in=True)
        p.assign_to(worker)
    return p


def later(days, hour=12):
    """A day `days` ahead at a daytime hour (UTC), so quiet hours never drop a reminder by accident."""
    return (utcnow() + dt.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def _visit(person, worker, next_visit_at, started_at=None):
    return Visit.create(person=person, author=worker, started_at=started_at or utcnow() - dt.timedelta(hours=1),
                        next_visit_at=next_visit_at)


def _pending(person):
    return {r.kind: r for r in Reminder.select().where((Reminder.person == person.id)
                                                      & (Reminder.status == "pending"))}


def test_visit_changed_creates_reschedules_and_cancels(person, worker):
    first = later(3)
    with write_transaction():
        visit = _visit(person, worker, first)
        schedule.visits_changed([visit.person_id])
    pending = _pending(person)
    assert set(pending) == {"visit_evening", "visit_soon"}
    assert pending["visit_soon"].visit_id == visit.id
    soon_id = pending["visit_soon"].id

    # moved a day later: the same rows move (no duplicates)
    with write_transaction():
        visit.next_visit_at = first + dt.timedelta(days=1)
        visit.save()
        schedule.visits_changed([visit.person_id])
    pending = _pending(person)
    assert pending["visit_soon"].id == soon_id
    assert Reminder.select().where(Reminder.person == person.id).count() == 2
    soon_expected = schedule.apply_quiet_hours(visit.next_visit_at - dt.timedelta(hours=2),
                                               reminder_settings.settings_for(person))
    assert pending["visit_soon"].send_at == soon_expected

    # next visit removed: cancelled
    with write_transaction():
        visit.next_visit_at = None
        visit.save()
        schedule.visits_changed([visit.person_id])
    assert _pending(person) == {}
    assert Reminder.select().where(Reminder.status == "cancelled").count() == 2


def test_a_synced_visit_schedules_reminders_only_for_people_who_opted_in(person, worker, team):
    """Through the sync engine: one push with visits of two people; only the one who opted in gets
    reminders, and after they withdraw a later visit schedules nothing."""
    from sync_support import mutation, new_id

    from server import person_pages, sync

    with write_transaction():
        other = Person.create(team=team, display_name="Not opted in", rev=next_rev())
        other.assign_to(worker)
    device = sync.register_device(worker, "phone")
    when = later(3).replace(tzinfo=UTC).isoformat()

    def visit(who, next_visit_at):
        return mutation("visit", new_id(), {"person_id": str(who.uuid), "started_at": "2026-11-20T10:00:00+00:00",
                                            "next_visit_at": next_visit_at})

    results = sync.apply_batch(worker, device, [visit(person, when), visit(other, when)])
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert all(isinstance(r["rev"], int) for r in results)
    assert set(_pending(person)) == {"visit_evening", "visit_soon"}
    assert _pending(other) == {}

    with write_transaction():
        person_pages.withdraw(Person.get_by_id(person.id))
    assert _pending(person) == {}
    sync.apply_batch(worker, device, [visit(person, later(5).replace(tzinfo=UTC).isoformat())])
    assert _pending(person) == {}


def test_deleted_visit_cancels_its_reminders(person, worker):
    with write_transaction():
        visit = _visit(person, worker, later(2))
        schedule.visits_changed([visit.person_id])
    assert len(_pending(person)) == 2
    with write_transaction():
        visit.deleted = True
        visit.save()
        schedule.visits_changed([visit.person_id])
    assert _pending(person) == {}


def test_a_later_log_moves_the_next_visit(person, worker):
    with write_transaction():
        older = _visit(person, worker, later(2), started_at=utcnow() - dt.timedelta(days=5))
        schedule.visits_changed([older.person_id])
        newer = _visit(person, worker, later(4))
        schedule.visits_changed([newer.person_id])
    pending = _pending(person)
    assert {r.visit_id for r in pending.values()} == {newer.id}


def test_no_reminders_without_opt_in(app, team, worker):
    with write_transaction():
        p = Person.create(team=team, display_name="Not Opted", reminders_opt_in=False)
        visit = _visit(p, worker, later(2))
        schedule.visits_changed([visit.person_id])
    assert Reminder.select().count() == 0


def test_past_send_times_are_not_created(person, worker):
    # visit in 90 minutes: the evening reminder and "two hours before" are both already past. No quiet hours:
    # between 06:00 and 08:00 they would move a past "two hours before" to 08:00, still ahead of the visit.
    with write_transaction():
        schedule.update_settings(person, quiet_hours_start="00:00", quiet_hours_end="00:00")
        visit = _visit(person, worker, utcnow() + dt.timedelta(minutes=90))
        schedule.visits_changed([visit.person_id])
    assert _pending(person) == {}


def test_sent_reminder_is_never_recreated(person, worker):
    with write_transaction():
        visit = _visit(person, worker, later(2))
        schedule.visits_changed([visit.person_id])
        Reminder.update(status="sent").where(Reminder.kind == "visit_evening").execute()
        schedule.visits_changed([visit.person_id])  # an unrelated edit syncs
    assert Reminder.select().where(Reminder.kind == "visit_evening").count() == 1


def test_person_and_organisation_settings(person, worker, coordinator):
    with write_transaction():
        schedule.update_settings(None, by=coordinator, hours_before=3, evening_time="19:00")
    assert reminder_settings.settings_for(person).hours_before == 3
    with write_transaction():
        schedule.update_settings(person, by=worker, evening_before=False, quiet_hours_start="22:00",
                                 quiet_hours_end="07:00")
    s = reminder_settings.settings_for(person)
    assert (s.evening_before, s.hours_before, s.evening_time) == (False, 3, "19:00")
    assert (s.quiet_hours_start, s.quiet_hours_end) == ("22:00", "07:00")
    assert Person.get_by_id(person.id).quiet_hours_start == "22:00"
    assert ReminderSetting.select().count() == 2
    # an existing reminder follows the new settings
    with write_transaction():
        visit = _visit(person, worker, u(2030, 1, 15, 12, 0))
        schedule.visits_changed([visit.person_id])
    assert set(_pending(person)) == {"visit_soon"}
    assert _pending(person)["visit_soon"].send_at == u(2030, 1, 15, 9, 0)
    with write_transaction():
        schedule.update_settings(person, by=worker, hours_before=1)
    assert _pending(person)["visit_soon"].send_at == u(2030, 1, 15, 11, 0)


def test_goal_reminder_from_template_and_custom_text(person, worker):
    with write_transaction():
        goal = Goal.create(person=person, title="Walk more")
        r = goals.add_goal_reminder(person, dt.datetime(2030, 6, 3, 11, 0), "custom", "Walk to the park",
                                       goal=goal, by=worker, now=u(2030, 1, 1))
    assert r.body == "Reminder: Walk to the park"
    assert r.send_at == u(2030, 6, 3, 10, 0)  # 11:00 BST
    with write_transaction():
        r2 = goals.add_goal_reminder(person, dt.datetime(2030, 1, 3, 6, 0, tzinfo=UTC), "step", by=worker,
                                        now=u(2030, 1, 1))
    assert r2.body == "Reminder: the step you planned for today"
    assert r2.send_at == u(2030, 1, 3, 8, 0)  # quiet hours
    with pytest.raises(goals.ReminderError) as err:
        goals.add_goal_reminder(person, dt.datetime(2030, 1, 3, 12, 0), "custom", "Take your tablets",
                                   now=u(2030, 1, 1))
    assert "text" in err.value.errors
    with pytest.raises(goals.ReminderError) as err:
        goals.add_goal_reminder(person, dt.datetime(2001, 1, 3, 12, 0), "step")
    assert "send_at" in err.value.errors


def test_reminder_status(person, worker):
    assert status.reminder_status(person)["devices"] == 0
    with write_transaction():
        Consent.create(person=person, text_version=consent.CONSENT_TEXT_VERSION)
        visit = _visit(person, worker, later(2))
        schedule.visits_changed([visit.person_id])
    state = status.reminder_status(person)
    assert state["reminders_on"] is True
    assert state["consent_text_version"] == consent.CONSENT_TEXT_VERSION
    assert state["pending_reminders"] == 2
    assert [r.kind for r in status.upcoming(person)] == ["visit_evening", "visit_soon"]


def test_sync_push_schedules_moves_and_cancels(client, worker):
    """Through the real sync API: the sync engine calls visits_changed inside its write transaction."""
    from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields

    person = person_on_caseload(worker, name="Sync Person")
    Person.update(reminders_opt_in=True).where(Person.id == person.id).execute()
    phone = HttpDevice(client, worker)
    vid = new_id()
    year = utcnow().year + 1  # a next visit is at most two years ahead (issue 15): July and November of next year
    fields = visit_fields(person.uuid, next_visit_at=f"{year}-07-15T10:00:00+01:00")
    [result] = phone.push([mutation("visit", vid, fields)])
    assert result["status"] == "applied", result
    pending = _pending(person)
    assert pending["visit_evening"].send_at == u(year, 7, 14, 17, 0)  # 18:00 BST
    assert pending["visit_evening"].body == "Reminder: your visit is tomorrow at 10:00"
    assert pending["visit_soon"].send_at == u(year, 7, 15, 7, 0)
    [result] = phone.push([mutation("visit", vid, {"next_visit_at": f"{year}-11-03T14:30:00+00:00"},
                                    base_rev=result["rev"])])
    assert result["status"] == "applied", result
    pending = _pending(person)
    assert pending["visit_soon"].send_at == u(year, 11, 3, 12, 30)
    assert pending["visit_evening"].body == "Reminder: your visit is tomorrow at 14:30"
    [result] = phone.push([mutation("visit", vid, op="delete", base_rev=result["rev"])])
    assert result["status"] == "applied", result
    assert _pending(person) == {}


def test_the_time_zone_is_read_in_create_app(make_app):
    """Not as a side effect of registering the commands: create_app itself sets the scheduling zone."""
    make_app(TIMEZONE="America/New_York")
    assert schedule.zone().key == "America/New_York"
    assert schedule.local_at(dt.date(2030, 1, 15), "18:00") == u(2030, 1, 15, 23, 0)
    make_app()
    assert schedule.zone().key == "Europe/London"
