"""SMS and email through GOV.UK Notify with its official client (notifications-python-client). Our
fixed wording travels as personalisation: the Notify SMS template's whole text is ((body)), the email
template's subject ((subject)) and text ((body)). The client is not thread-safe: one per sending thread.
Notify answers 201 with a notification id; 400/403 are refusals (a bad number, a bad key); 429 and 5xx
are retried."""

from __future__ import annotations

import threading

import requests
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from .channels import Outcome, Send, from_status, retry_after_seconds
from .settings import NotifySettings


class GovukNotifyTransport:
    def __init__(self, settings: NotifySettings):
        self.settings = settings
        self._local = threading.local()

    def __repr__(self) -> str:  # the API key is a secret
        return "<GovukNotifyTransport>"

    def _client(self) -> NotificationsAPIClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = NotificationsAPIClient(self.settings.notify_api_key, base_url=self.settings.notify_base_url,
                                            timeout=self.settings.limits.request_timeout)
            client.request_session.trust_env = False  # no proxy or netrc look-ups on every request
            self._local.client = client
        return client

    def send(self, send: Send) -> Outcome:
        r = send.rendered
        reference = f"alongside-{send.message_id}"  # our outbox id: no name, no address
        try:
            if send.channel == "sms":
                answer = self._client().send_sms_notification(
                    phone_number=send.address, template_id=self.settings.notify_sms_template_id,
                    personalisation={"body": r.sms}, reference=reference)
            else:
                answer = self._client().send_email_notification(
                    email_address=send.address, template_id=self.settings.notify_email_template_id,
                    personalisation={"subject": r.email_subject, "body": r.email_body}, reference=reference)
        except APIError as exc:
            status = exc.status_code
            response = getattr(exc, "response", None)
            if response is None:  # the client's own wrapper for a connection failure or time-out
                return Outcome("retry", None, "could not reach GOV.UK Notify")
            outcome = from_status(status, retry_after_seconds(response.headers.get("Retry-After")),
                                  service="GOV.UK Notify")
            return Outcome("failed", status, outcome.error) if outcome.outcome == "gone" else outcome
        except requests.RequestException:
            return Outcome("retry", None, "could not reach GOV.UK Notify")
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the batch
            return Outcome("failed", None, f"could not send: {type(exc).__name__}")
        provider_id = str((answer or {}).get("id", ""))[:64]
        return Outcome("delivered", 201, provider_id=provider_id)
