"""The words of staff alerts: fixed sentences chosen by the alert's kind, and a link to the alert's page
(which checks who may see it). No name, note or place is ever a value here."""

from __future__ import annotations

from .. import notify

KINDS = "concern|concern_rejected|lone_overdue|help"
SENTENCES = {
    "concern": "A serious concern needs review.",
    "concern_rejected": "A visit with a concern could not be saved: please follow it up.",
    "lone_overdue": "A lone worker has not checked out.",
    "help": "A worker asked for help.",
}
FOOTER = "You get this because you are a coordinator or admin on Alongside. Choose how at /coordinator/alerts/settings"


def _path(values: dict) -> str:
    return f"/coordinator/alerts/{values['alert_id']}"


notify.register(notify.Template(
    id="staff_alert",
    values={"alert_id": "uuid", "kind": f"choice:{KINDS}"},
    text=lambda v: SENTENCES[v["kind"]],
    path=_path,
    subject="Alongside: something needs you now",
    footer=FOOTER,
    audience="staff",
))
notify.register(notify.Template(
    id="staff_alert_escalated",
    values={"alert_id": "uuid", "kind": f"choice:{KINDS}", "minutes": "int"},
    text=lambda v: f"Not acknowledged after {v['minutes']} minutes. {SENTENCES[v['kind']]}",
    path=_path,
    subject="Alongside: an alert is still waiting",
    footer=FOOTER,
    audience="staff",
))
