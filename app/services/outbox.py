"""The outbox: emails written once under a unique key, sent at least once.

Writers call queue() inside their own unit of work, so an email exists exactly when the
change it tells of was committed. The sender (app/jobs.py) claims due rows with a lease
in one unit of work, then sends each one and records its outcome in a unit of work of its
own; a sender that dies leaves its claimed rows to be taken again when the lease ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.db import DbSession, is_postgres, lock
from app.models import OutboxMessage, OutboxStatus
from app.services import mail
from app.services.context import ServiceContext
from app.services.errors import NotFound

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


@dataclass(frozen=True)
class Draft:
    """An email ready to be written: rendered beforehand, so that writing it is quick."""

    key: str
    to: str
    subject: str
    body_text: str
    body_html: str | None = None
    ics: str | None = None


def exists(session: DbSession, key: str) -> bool:
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None


def existing_keys(session: DbSession, keys: set[str]) -> set[str]:
    """Which of these keys are already written, in one query (a few hundred keys at most)."""
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))))


def queue(
    session: DbSession,
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

    Runs inside the caller's unit of work: one INSERT … ON CONFLICT (key) DO NOTHING, so that a
    duplicate, even one written by a concurrent transaction, neither fails nor spoils the rest
    of that unit of work.
    """
    insert = postgresql_insert if is_postgres(session) else sqlite_insert
    written = session.execute(
        insert(OutboxMessage)
        .values(
            key=key,
            to_address=to,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            ics=ics,
            status=OutboxStatus.PENDING,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    # The id comes back only for a row written: rowcount is not reliable for an ORM-enabled insert.
    return written.scalar_one_or_none() is not None


def queue_draft(session: DbSession, ctx: ServiceContext, *, draft: Draft) -> bool:
    return queue(
        session,
        key=draft.key,
        to=draft.to,
        subject=draft.subject,
        body_text=draft.body_text,
        body_html=draft.body_html,
        ics=draft.ics,
        now=ctx.now,
    )


def backoff(attempts: int) -> timedelta:
    """1 min, 2 min, 4 min… capped at 6 h."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


# Sending: the steps of app.jobs.send_due, each in the caller's unit of work -------------------


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Claim:
    """Rows taken by one sender, and the end of its lease on them, which also tells the rows
    this sender still holds from the ones another sender took over (see `renew`)."""

    ids: list[int]
    until: datetime


def claim(session: DbSession, ctx: ServiceContext, *, limit: int = 10, lease: timedelta = LEASE) -> Claim:
    """Take a lease on up to `limit` due rows.

    The caller commits the claim before sending anything, so that another sender skips
    these rows (PostgreSQL: SKIP LOCKED while this one is deciding; SQLite: the write lock).
    """
    now = ctx.now
    query = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
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
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_until=now + lease))
    return Claim(ids, now + lease)


def renew(
    session: DbSession, ctx: ServiceContext, *, row_id: int, held_until: datetime, lease: timedelta = LEASE
) -> datetime | None:
    """Just before sending one row: extend this sender's lease on it, from ctx.now (the wall
    clock, not the batch's start); None when the row is no longer this sender's to send.

    A slow SMTP server can make a batch outlast its lease, and another sender may then claim
    what is left: that claim changes `claimed_until`, so the compare-and-set below fails and
    this sender skips the row. Once renewed, nobody else can claim it before the new lease
    ends, longer than one SMTP exchange may take."""
    until = ctx.now + lease
    done = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.claimed_until == held_until,
        )
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return until if getattr(done, "rowcount", 0) == 1 else None


def message_for(session: DbSession, row_id: int, sender: str) -> EmailMessage | None:
    """The email of a claimed row; None when it is no longer waiting (sent meanwhile)."""
    row = session.get(OutboxMessage, row_id, populate_existing=True)
    if row is None or row.status != OutboxStatus.PENDING:
        return None
    return mail.build(row, sender)


def record_sent(session: DbSession, ctx: ServiceContext, *, row_id: int) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            status=OutboxStatus.SENT,
            sent_at=ctx.now,
            attempts=OutboxMessage.attempts + 1,
            claimed_until=None,
            last_error=None,
        )
    )


def record_failure(session: DbSession, ctx: ServiceContext, *, row_id: int, error: Exception) -> OutboxStatus:
    """One more failed attempt: due again after a growing delay, or failed for good after MAX_ATTEMPTS."""
    log.warning("Outbox %s: sending failed: %s", row_id, error)
    row = lock(session, OutboxMessage, row_id)
    if row is None:
        return OutboxStatus.FAILED
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    row.claimed_until = None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = OutboxStatus.FAILED
    else:
        row.next_attempt_at = ctx.now + backoff(row.attempts)
    return row.status


def retry(session: DbSession, ctx: ServiceContext, row_id: int) -> None:
    """An admin's "retry" on a failed row: it becomes due again, with a fresh count."""
    ctx.require_admin()
    row = lock(session, OutboxMessage, row_id)
    if row is None:
        raise NotFound(_("Ce message n'existe pas."))
    if row.status == OutboxStatus.FAILED:
        row.status = OutboxStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = ctx.now
