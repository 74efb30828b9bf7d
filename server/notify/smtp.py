"""Plain SMTP email, the fallback any organisation can configure: ALONGSIDE_SMTP_URL
(smtp://user:password@host:587 uses STARTTLS when the server offers it, smtps://host:465 is TLS from the
start, smtp+plain://host:25 never upgrades: for a local relay or tests) and ALONGSIDE_SMTP_FROM. Each
sending thread keeps one connection open across messages. 4xx replies are retried, 5xx refused."""

from __future__ import annotations

import smtplib
import ssl
import threading
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from .channels import Outcome, Send
from .settings import NotifySettings


def parse_smtp_url(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps", "smtp+plain") or not parts.hostname:
        raise ValueError("ALONGSIDE_SMTP_URL must be smtp://, smtps:// or smtp+plain:// with a host")
    default_port = {"smtp": 587, "smtps": 465, "smtp+plain": 25}[parts.scheme]
    return {"scheme": parts.scheme, "host": parts.hostname, "port": parts.port or default_port,
            "user": unquote(parts.username or ""), "password": unquote(parts.password or "")}


class SmtpTransport:
    def __init__(self, settings: NotifySettings):
        self.settings = settings
        self.server = parse_smtp_url(settings.smtp_url)
        self._local = threading.local()
        self._all: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the URL may hold a password
        return "<SmtpTransport>"

    def _connect(self) -> smtplib.SMTP:
        s, timeout = self.server, self.settings.limits.request_timeout
        if s["scheme"] == "smtps":
            conn = smtplib.SMTP_SSL(s["host"], s["port"], timeout=timeout, context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(s["host"], s["port"], timeout=timeout)
            conn.ehlo()
            if s["scheme"] == "smtp" and conn.has_extn("starttls"):
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
        if s["user"]:
            conn.login(s["user"], s["password"])
        with self._lock:
            self._all.append(conn)
        return conn

    def _connection(self) -> smtplib.SMTP:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def message(self, send: Send) -> MIMEText:
        """A plain-text message (the compat32 classes: several times cheaper to build than EmailMessage)."""
        r = send.rendered
        msg = MIMEText(r.email_body, "plain", "utf-8")
        msg["From"] = self.settings.smtp_from
        msg["To"] = send.address
        msg["Subject"] = r.email_subject
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.settings.smtp_from.rpartition("@")[2] or None)
        msg["Auto-Submitted"] = "auto-generated"
        return msg

    def send(self, send: Send) -> Outcome:
        msg = self.message(send)
        data = msg.as_bytes()
        for attempt in (1, 2):  # a kept connection the server closed meanwhile: reconnect once
            try:
                self._connection().sendmail(self.settings.smtp_from, [send.address], data)
                return Outcome("delivered", 250, provider_id=msg["Message-ID"].strip("<>")[:64])
            except smtplib.SMTPServerDisconnected:
                self._drop()
                if attempt == 2:
                    return Outcome("retry", None, "mail server closed the connection")
            except smtplib.SMTPRecipientsRefused as exc:
                code = next(iter(exc.recipients.values()))[0]
                return Outcome("retry" if 400 <= code < 500 else "failed", code, f"mail server refused: {code}")
            except smtplib.SMTPResponseException as exc:
                self._drop()
                code = exc.smtp_code
                return Outcome("retry" if 400 <= code < 500 else "failed", code, f"mail server refused: {code}")
            except (TimeoutError, OSError, smtplib.SMTPException) as exc:
                self._drop()
                return Outcome("retry", None, f"could not reach the mail server: {type(exc).__name__}")
        return Outcome("retry", None, "mail server closed the connection")

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
