"""Every email the system must send, written once under a unique key."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import StateEnum, UTCDateTime, state_column


class OutboxStatus(StateEnum):
    PENDING = "pending", _l("En attente d'envoi")
    SENT = "sent", _l("Envoyé")
    FAILED = "failed", _l("En échec")


class OutboxMessage(Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # e.g. "booking:42:reminder-24h"; the unique constraint is what makes a tick idempotent.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(
        state_column(OutboxStatus, name="status", length=10), default=OutboxStatus.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # A claim is a lease: a sender that dies after claiming leaves the row to be claimed
    # again once the lease has run out, so nothing is lost.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
