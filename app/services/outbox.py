"""The outbox: emails written once under a unique key, sent at least once.

Writers call queue() inside their own transaction, so an email exists exactly when the
change it tells of was committed. Senders claim due rows with a lease, send, then mark
them; a sender that dies leaves its claimed rows to be taken again when the lease ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import is_postgres, write_transaction
from app.models import OutboxMessage, OutboxStatus
from app.services import mail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def exists(session: Session, key: str) -> bool:
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None


def queue(
    session: Session,
    *,
    key: str,
    to: str,
    subject: str,
    body_text: str,
    now: datetime,
    body_html: str | None = None,
    ics: str | None = None,
) -> bool:
    """Add an email unless one with this key exists; True when it was added.

    Runs inside the caller's transaction. A savepoint keeps a concurrent duplicate
    (the unique key refusing it) from spoiling the rest of that transaction.
    """
    if exists(session, key):
        return False
    row = OutboxMessage(
        key=key,
        to_address=to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        ics=ics,
        status=OutboxStatus.PENDING.value,
        created_at=now,
        next_attempt_at=now,
        attempts=0,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def backoff(attempts: int) -> timedelta:
    """1 min, 2 min, 4 min… capped at 6 h."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def claim(session: Session, now: datetime, limit: int = 50) -> list[int]:
    """Take a lease on up to `limit` due rows; returns their ids."""
    with write_transaction(session):
        query = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING.value,
                OutboxMessage.next_attempt_at <= now,
                (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_until=now + LEASE))
    return ids


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


Deliver = Callable[[EmailMessage], None]


def send_due(session: Session, *, deliver: Deliver, sender: str, now: datetime, limit: int = 50) -> SendReport:
    report = SendReport()
    for row_id in claim(session, now, limit):
        row = session.get(OutboxMessage, row_id)
        if row is None or row.status != OutboxStatus.PENDING.value:
            continue
        message = mail.build(row, sender)
        session.rollback()  # no transaction is held open across the network call
        try:
            deliver(message)
        except Exception as exc:  # any failure of the SMTP exchange is retried
            _record_failure(session, row_id, now, exc, report)
        else:
            with write_transaction(session):
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id)
                    .values(
                        status=OutboxStatus.SENT.value,
                        sent_at=now,
                        attempts=OutboxMessage.attempts + 1,
                        claimed_until=None,
                        last_error=None,
                    )
                )
            report.sent += 1
    return report


def _record_failure(session: Session, row_id: int, now: datetime, exc: Exception, report: SendReport) -> None:
    log.warning("Outbox %s: sending failed: %s", row_id, exc)
    with write_transaction(session):
        row = session.get(OutboxMessage, row_id)
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        row.claimed_until = None
        if row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED.value
            report.failed += 1
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            report.retried += 1


def retry(session: Session, row_id: int, now: datetime) -> None:
    """An admin's "retry" on a failed row: it becomes due again, with a fresh count."""
    with write_transaction(session):
        row = session.get(OutboxMessage, row_id)
        if row is not None and row.status == OutboxStatus.FAILED.value:
            row.status = OutboxStatus.PENDING.value
            row.attempts = 0
            row.next_attempt_at = now
