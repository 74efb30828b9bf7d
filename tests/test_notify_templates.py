"""Nothing a worker typed leaves the server: for every registered template and every channel, the bodies
are the same whatever custom goal-step text, display name or note exists (a property test), and no value
of any kind can carry text into a template."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import server.reminders.messages  # noqa: F401 - registers the reminder templates
from server.models import Reminder
from server.notify.templates import REGISTRY, TemplateError, check_values, render
from server.reminders.goals import GOAL_TEMPLATES, MESSAGE_TEXT
from server.reminders.messages import template_for

FIXED_UUID = uuid.UUID("0b8f3b0e-8a61-4b8f-9a7c-3a1c2d4e5f60")
WHEN = dt.datetime(2030, 3, 14, 10, 30)


def sample_values(template) -> list[dict]:
    """Every choice of each template, with fixed times, ids and numbers."""
    out = [{}]
    for name, kind in template.values.items():
        options = {"datetime": [WHEN], "uuid": [FIXED_UUID], "int": [2]}.get(kind) or kind[7:].split("|")
        out = [{**v, name: o} for v in out for o in options]
    return out


def bodies(rendered) -> list[str]:
    return [rendered.push_title, rendered.push_body, rendered.url, rendered.sms, rendered.email_subject,
            rendered.email_body]


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=60), template=st.sampled_from(sorted(GOAL_TEMPLATES)),
       kind=st.sampled_from(["goal_step", "visit_evening", "visit_soon"]))
def test_no_worker_text_reaches_any_body(text, template, kind):
    """A reminder's messages depend only on its kind, template id and visit time, never on its text."""
    typed = Reminder(kind=kind, template=template, body=f"Reminder: {text}", visit_at=WHEN, send_at=WHEN)
    plain = Reminder(kind=kind, template=template, body="Reminder: something else", visit_at=WHEN, send_at=WHEN)
    with_text = render(*template_for(typed), "https://alongside.example", {"due_at": WHEN})
    without = render(*template_for(plain), "https://alongside.example", {"due_at": WHEN})
    assert bodies(with_text) == bodies(without)
    if len(text.strip()) >= 4 and not any(text.strip() in b for b in bodies(without)):
        assert not any(text.strip() in b for b in bodies(with_text))


@pytest.mark.parametrize("template_id", sorted(REGISTRY))
def test_every_template_renders_only_fixed_words(template_id):
    template = REGISTRY[template_id]
    for values in sample_values(template):
        rendered = render(template_id, check_values(template_id, values), "https://alongside.example",
                          {"due_at": WHEN - dt.timedelta(hours=2)})
        for body in bodies(rendered):
            assert body and len(body) < 400
            assert "{" not in body and "((" not in body


@settings(max_examples=200, deadline=None)
@given(template_id=st.sampled_from(sorted(REGISTRY)), value=st.text(min_size=1, max_size=40))
def test_no_value_kind_takes_free_text(template_id, value):
    template = REGISTRY[template_id]
    if not template.values:
        with pytest.raises(TemplateError):
            check_values(template_id, {"note": value})
        return
    for name, kind in template.values.items():
        if kind.startswith("choice:") and value in kind[7:].split("|"):
            continue
        if kind == "uuid":
            try:
                uuid.UUID(value)
                continue
            except ValueError:
                pass
        values = {**sample_values(template)[0], name: value}
        with pytest.raises(TemplateError):
            check_values(template_id, values)


def test_the_custom_goal_step_says_only_the_fixed_sentence():
    assert MESSAGE_TEXT["custom"] == "Reminder: a step you planned"
    with pytest.raises(TemplateError):
        check_values("goal_step", {"variant": "custom", "text": "pick up methadone at the chemist"})
