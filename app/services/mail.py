"""Turning outbox rows into emails and handing them to an SMTP server."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from app.models import OutboxMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    use_tls: bool
    username: str
    password: str
    sender: str
    timeout: float

    @classmethod
    def from_config(cls, config: Mapping) -> MailSettings:
        return cls(
            server=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
            use_tls=config["MAIL_USE_TLS"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            sender=config["MAIL_FROM"],
            timeout=config["MAIL_TIMEOUT"],
        )


def build(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(domain="lamalle")
    # Lets a receiving system recognise a resend after a crash as the same email.
    message["X-LaMalle-Key"] = row.key
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    if row.ics:
        message.add_attachment(
            row.ics.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename="evenement.ics",
            params={"method": "PUBLISH", "charset": "utf-8"},
        )
    return message


def readable(message: EmailMessage) -> str:
    """The headers a person reads and the decoded text part: the wire form is quoted-printable,
    where a link copied from the log comes out broken (« =3D », lines cut with « = »)."""
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    headers = "\n".join(f"{name}: {message[name]}" for name in ("From", "To", "Subject") if message[name])
    return f"{headers}\n\n{text}"


def send(settings: MailSettings, message: EmailMessage) -> None:
    """Deliver one message; raises on any failure so that the outbox retries it.

    With no MAIL_SERVER configured (development), the message is written to the log.
    """
    if not settings.server:
        log.info("Email (no MAIL_SERVER set, not sent):\n%s", readable(message))
        return
    with smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout) as smtp:
        if settings.use_tls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)
