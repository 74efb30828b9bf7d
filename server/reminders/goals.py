"""Goal-step reminders agreed between a worker and the person: one of the safe templates, or a few custom
words. The custom words are shown only on the person's own /r/ page (behind their device cookie); every
push, SMS or email says only the fixed sentence of its template ("Reminder: a step you planned")."""

from __future__ import annotations

import datetime as dt
import re

from ..db import utcnow
from ..models import Goal, Person, Reminder
from .schedule import GOAL_KIND, apply_quiet_hours, to_utc
from .settings import settings_for

CUSTOM_TEXT_MAX = 60
# What the person's own page shows; the notification says MESSAGE_TEXT[template] whatever was typed.
GOAL_TEMPLATES = {
    "step": "Reminder: the step you planned for today",
    "plan": "Reminder: the plan you made together",
    "call": "Reminder: the call you planned",
    "outing": "Reminder: the outing you planned",
    "group": "Reminder: the group you chose to try",
    "custom": "Reminder: {text}",
}
MESSAGE_TEXT = {**{k: v for k, v in GOAL_TEMPLATES.items() if k != "custom"},
                "custom": "Reminder: a step you planned"}
CUSTOM_TEXT_WARNING = ("Your words show only on the person's own reminders page; the notification itself just "
                       "says \"Reminder: a step you planned\". Keep them short and neutral: no names, no health "
                       "details, no links.")

# Words that would say "health" to someone glancing at the phone. Matched as word starts, case-insensitive.
HEALTH_WORDS = (
    "mental", "health", "depress", "anxi", "panic", "psych", "therap", "counsel", "medic", "meds",
    "pill", "tablet", "dose", "prescri", "pharmac", "doctor", "gp", "nurse", "hospital", "clinic",
    "ward", "section", "crisis", "suicid", "self-harm", "selfharm", "harm", "overdose", "diagnos",
    "bipolar", "schizo", "psychos", "ptsd", "ocd", "adhd", "autis", "eating disorder", "anorex",
    "bulimi", "addict", "alcohol", "drink", "drug", "rehab", "detox", "recovery", "relapse",
    "symptom", "mood", "wellbeing", "well-being", "cmht", "nhs", "a&e", "sick", "illness", "ill",
    "lithium", "sertraline", "antidep", "injection", "depot", "blood", "test result", "methadone", "chemist",
)
_WORD_START = re.compile(r"[a-z0-9&\-]+")


class ReminderError(ValueError):
    """A goal reminder that cannot be made; `errors` maps field -> messages."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def has_health_words(text: str) -> bool:
    lowered = " " + " ".join((text or "").lower().split()) + " "
    words = _WORD_START.findall(lowered)
    for bad in HEALTH_WORDS:
        if " " in bad:
            hit = f" {bad}" in lowered
        elif len(bad) <= 3:
            hit = bad in words
        else:
            hit = any(w.startswith(bad) for w in words)
        if hit:
            return True
    return False


def custom_text_problems(text: str, person: Person | None = None) -> list[str]:
    problems = []
    text = (text or "").strip()
    if not text:
        problems.append("Write a few words, or choose a ready-made reminder.")
    if len(text) > CUSTOM_TEXT_MAX:
        problems.append(f"At most {CUSTOM_TEXT_MAX} characters.")
    words = _WORD_START.findall(text.lower())
    if has_health_words(text):
        problems.append("Leave out health details: others may see this phone.")
    if person is not None:
        names = [n for n in re.split(r"[^\w]+", (person.display_name or "").lower()) if len(n) >= 3]
        if any(n in words for n in names):
            problems.append("Leave out names: others may see this phone.")
    if re.search(r"[<>{}]|https?:|www\.", text, re.IGNORECASE):
        problems.append("Plain words only: no links or markup.")
    return problems


def add_goal_reminder(person: Person, send_at: dt.datetime, template: str = "step", text: str = "",
                      goal: Goal | None = None, by=None, now: dt.datetime | None = None) -> Reminder:
    """A goal-step reminder agreed with the person; call inside a write transaction. `send_at` aware, or
    naive local wall-clock time. Quiet hours apply."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    if template not in GOAL_TEMPLATES:
        errors["template"] = [f"Choose one of: {', '.join(GOAL_TEMPLATES)}."]
    if template == "custom":
        problems = custom_text_problems(text, person)
        if problems:
            errors["text"] = problems
    elif text:
        errors["text"] = ["Custom text goes with the 'custom' template only."]
    if not person.reminders_opt_in:
        errors["person_id"] = ["This person has not turned reminders on."]
    if goal is not None and goal.person_id != person.id:
        errors["goal_id"] = ["That goal belongs to someone else."]
    when = to_utc(send_at) if send_at is not None else None
    if when is None or when < now:
        errors["send_at"] = ["Choose a time in the future."]
    elif when > now + dt.timedelta(days=366):
        errors["send_at"] = ["Choose a time within the next year."]
    if errors:
        raise ReminderError(errors)
    when = apply_quiet_hours(when, settings_for(person))
    body = GOAL_TEMPLATES[template].format(text=" ".join(text.split()))
    return Reminder.create(person=person.id, kind=GOAL_KIND, goal=goal.id if goal else None, created_by=by,
                           body=body, template=template, send_at=when)
