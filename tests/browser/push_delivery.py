"""Hand a decrypted Web Push message to a page's service worker (the DevTools protocol's deliverPushMessage, as
Chromium cannot subscribe to a real push service offline) and read the notifications it shows. Shared by the
reminders (/r/) and lone-working (/app/) browser tests."""

from __future__ import annotations

import json
import time

NOTIFICATIONS = """(scope) => navigator.serviceWorker.getRegistration(scope).then((r) => r.getNotifications())
  .then((ns) => ns.map((n) => ({ title: n.title, body: n.body, data: n.data })))"""


def deliver_push(context, page, origin: str, scope: str, payload: dict) -> list[dict]:
    """Deliver `payload` to the registration whose scope ends with `scope` and return the notifications shown
    ({title, body, data}). Handed again if none shows within 8 s, up to three times (on a loaded machine a
    hand-over has been seen to vanish); a notification's tag makes a second showing replace the first."""
    context.grant_permissions(["notifications"], origin=origin)
    cdp = context.new_cdp_session(page)
    registrations, versions = [], []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.on("ServiceWorker.workerVersionUpdated", lambda e: versions.extend(e["versions"]))
    cdp.send("ServiceWorker.enable")

    def registration():
        latest = {r["registrationId"]: r for r in registrations if r["scopeURL"].endswith(scope)}
        return next((r for r in latest.values() if not r.get("isDeleted")), None)  # the latest word on each

    deadline = time.monotonic() + 15  # the registration events arrive asynchronously
    while registration() is None and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    reg = registration()
    assert reg is not None, registrations
    shown = []
    for _attempt in range(3):
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": origin, "registrationId": reg["registrationId"],
                                                      "data": json.dumps(payload)})
        # Polled: a predicate returning a promise is truthy at once, so page.wait_for_function cannot wait on it.
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            shown = page.evaluate(NOTIFICATIONS, scope)
            if shown:
                return shown
            page.wait_for_timeout(100)
    print("no notification shown; registrations:", registrations, "versions:", versions[-4:])
    return shown
