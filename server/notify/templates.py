"""The fixed wording of every message that leaves the server. A template is an id, the values it takes
(each of a checked kind: a time, an id for a link, a small number, one of a fixed set of words) and
functions from those values to a push title and body, an SMS, and an email subject and body. There is no
kind of value that carries text, so nothing anyone typed can reach a push, SMS or email."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field

TITLE = "Alongside"
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:\d\d)?$")


class TemplateError(ValueError):
    """A template id that does not exist, or values that are not what the template takes."""


@dataclass(frozen=True)
class Rendered:
    push_title: str
    push_body: str
    url: str  # a path on this server ("/r/", "/coordinator/concerns/<id>")
    sms: str
    email_subject: str
    email_body: str


@dataclass(frozen=True)
class Template:
    id: str
    values: dict[str, str]  # name -> kind: "datetime" | "uuid" | "int" | "choice:a|b|c"
    text: Callable[[dict], str]  # the one sentence, from checked values
    path: Callable[[dict], str] = lambda values: "/r/"
    subject: str = "A reminder from Alongside"
    footer: str = "To stop these reminders, tell your peer worker."
    audience: str = "person"  # person | staff
    meta: dict = field(default_factory=dict)


REGISTRY: dict[str, Template] = {}


def register(template: Template) -> Template:
    for kind in template.values.values():
        if kind not in ("datetime", "uuid", "int") and not kind.startswith("choice:"):
            raise TemplateError(f"unknown value kind {kind!r}")
    REGISTRY[template.id] = template
    return template


def get(template_id: str) -> Template:
    try:
        return REGISTRY[template_id]
    except KeyError as exc:
        raise TemplateError(f"no template {template_id!r}") from exc


def _check(kind: str, name: str, value):
    if kind == "datetime":
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return value.astimezone(dt.UTC).isoformat()
        if isinstance(value, str) and _ISO.match(value):
            return value
    elif kind == "uuid":
        if isinstance(value, uuidlib.UUID):
            return str(value)
        if isinstance(value, str):
            try:
                return str(uuidlib.UUID(value))
            except ValueError:
                pass
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100_000:
            return value
    elif kind.startswith("choice:"):
        if isinstance(value, str) and value in kind[len("choice:"):].split("|"):
            return value
    raise TemplateError(f"{name}: not a {kind.split(':')[0]}")


def check_values(template_id: str, values: dict | None) -> dict:
    """The values as stored in the outbox (JSON-safe), or TemplateError: exactly the declared names,
    each of its declared kind."""
    template = get(template_id)
    values = dict(values or {})
    if set(values) != set(template.values):
        raise TemplateError(f"{template_id} takes {sorted(template.values)}, not {sorted(values)}")
    return {name: _check(kind, name, values[name]) for name, kind in template.values.items()}


def datetime_value(values: dict, name: str) -> dt.datetime:
    """A checked datetime value as naive UTC."""
    value = dt.datetime.fromisoformat(values[name].replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def render(template_id: str, stored_values: str | dict, base_url: str, context: dict | None = None) -> Rendered:
    """Every body of one message. `context` holds what the dispatcher knows (the due time), never text."""
    template = get(template_id)
    values = json.loads(stored_values) if isinstance(stored_values, str) else dict(stored_values)
    values = check_values(template_id, values)  # stored rows are checked again: belt and braces
    values["_context"] = dict(context or {})
    sentence = template.text(values)
    path = template.path(values)
    link = base_url.rstrip("/") + path
    return Rendered(
        push_title=TITLE,
        push_body=sentence,
        url=path,
        sms=f"{sentence}\n{template.footer}" if template.audience == "person" else f"{sentence} {link}",
        email_subject=template.subject,
        email_body=f"{sentence}\n\n{link}\n\n{template.footer}\n",
    )


# --- staff alerts (issue 14 adds its own here or beside its code, the same way) ------------------

register(Template(
    id="staff_concern",
    values={"concern_id": "uuid"},
    text=lambda v: "A serious concern needs review.",
    path=lambda v: f"/coordinator/concerns?focus={v['concern_id']}",
    subject="A serious concern needs review",
    footer="You get this because you are a coordinator on Alongside.",
    audience="staff",
))
register(Template(
    id="staff_concern_escalated",
    values={"concern_id": "uuid", "hours": "int"},
    text=lambda v: f"A serious concern has waited {v['hours']} hours for review.",
    path=lambda v: f"/coordinator/concerns?focus={v['concern_id']}",
    subject="A serious concern is waiting for review",
    footer="You get this because you are a coordinator or admin on Alongside.",
    audience="staff",
))
register(Template(
    id="staff_lone_working_overdue",
    values={"checkin_id": "uuid"},
    text=lambda v: "A lone-working visit is overdue: please check on your colleague.",
    path=lambda v: f"/coordinator/lone-working?focus={v['checkin_id']}",
    subject="A lone-working visit is overdue",
    footer="You get this because you are a coordinator on Alongside.",
    audience="staff",
))
register(Template(
    id="worker_check_out_prompt",
    values={"checkin_id": "uuid"},
    text=lambda v: "Are you OK? Tap to check out.",
    path=lambda v: "/app/",
    subject="Are you OK?",
    footer="You get this because you started a visit on Alongside.",
    audience="staff",
))
