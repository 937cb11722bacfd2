"""Scheduled work, run by APScheduler (in `make run`, or `flask scheduler`) or by cron (`flask send-due`).

Two jobs: the tick writes the reminders that are due to the outbox; the sender delivers
what the outbox holds. Both are safe to run in several processes at once. Each job builds
its context (`entry.for_job`) and owns its units of work: the services it calls never commit.

Jobs are derived from the database at each run, never stored in the scheduler: a restart
loses nothing, and the scheduler's own state need not be shared between processes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from flask import Flask
from sqlalchemy import select

from app import entry
from app.db import DbSession, unit_of_work
from app.extensions import db
from app.models import AgendaSource, OutboxStatus
from app.services import agenda_import, mail, outbox, release, reminders, waitlist
from app.services.context import ServiceContext
from app.services.errors import DomainError

log = logging.getLogger(__name__)

Deliver = Callable[[EmailMessage], None]


@contextmanager
def job_context(app: Flask) -> Iterator[ServiceContext]:
    """An app context and the job's service context; the session is removed at the end."""
    with app.app_context():
        try:
            yield entry.for_job(app)
        finally:
            db.session.remove()


# Reminders ---------------------------------------------------------------------------------------


def write_reminders(session: DbSession, ctx: ServiceContext) -> int:
    """Write the reminders due at ctx.now; returns how many outbox rows were added.

    Finding and rendering them only reads; the write lock is taken afterwards, for the
    few inserts alone. Two ticks at once may render the same email: the unique key keeps one.
    """
    drafts = reminders.drafts(session, ctx, due=reminders.due(session, ctx))
    if not drafts:
        session.rollback()  # ends the read transaction
        return 0
    with unit_of_work(session):
        return reminders.write(session, ctx, drafts=drafts)


def release_unused(session: DbSession, ctx: ServiceContext) -> int:
    """Release the account bookings nobody opened; returns how many.

    Finding them only reads; each release is a unit of work of its own, so that one refused
    (revealed meanwhile) or failing leaves the others released."""
    found = release.due(session, ctx)
    session.rollback()  # ends the read transaction
    released = 0
    for booking in found:
        try:
            with unit_of_work(session):
                if release.release(session, ctx, booking=booking) is not None:
                    released += 1
        except DomainError as refused:  # e.g. the database refused the change: the others still go
            log.warning("Booking %s not released: %s", booking.id, refused)
    return released


def settle_waitlist(session: DbSession, ctx: ServiceContext) -> int:
    """Let unanswered waitlist holds lapse (each passing its slot on, in a unit of work of its
    own) and end the wishes whose period has begun; returns how many holds lapsed."""
    found = waitlist.due_lapses(session, ctx)
    session.rollback()  # ends the read transaction
    lapsed = 0
    for booking in found:
        try:
            with unit_of_work(session):
                if waitlist.lapse(session, ctx, booking=booking) is not None:
                    lapsed += 1
        except DomainError as refused:
            log.warning("Hold %s not lapsed: %s", booking.id, refused)
    with unit_of_work(session):
        waitlist.expire_passed(session, ctx)
    return lapsed


def tick(app: Flask) -> int:
    with job_context(app) as ctx:
        released = release_unused(db.session, ctx)
        if released:
            log.info("Released %s unused account booking(s)", released)
        lapsed = settle_waitlist(db.session, ctx)
        if lapsed:
            log.info("Waitlist: %s hold(s) lapsed and passed on", lapsed)
        written = write_reminders(db.session, ctx)
        if written:
            log.info("Reminders: %s email(s) written to the outbox", written)
        return written


# Sending -----------------------------------------------------------------------------------------


def send_due(
    session: DbSession, ctx: ServiceContext, *, deliver: Deliver, sender: str, limit: int = 50
) -> outbox.SendReport:
    """Send up to `limit` due emails, each exactly once as far as SMTP allows.

    The claim commits before any sending; no transaction is open during a network call;
    each outcome commits on its own, so that a crash loses at most the lease on what was
    claimed (sent again once the lease ends), never an email, and repeats no sent one.
    """
    report = outbox.SendReport()
    with unit_of_work(session):
        claimed = outbox.claim(session, ctx, limit=limit)
    for row_id in claimed:
        message = outbox.message_for(session, row_id, sender)
        session.rollback()  # no transaction is held open across the network call
        if message is None:
            continue
        try:
            deliver(message)
        except Exception as exc:  # any failure of the SMTP exchange is retried
            with unit_of_work(session):
                status = outbox.record_failure(session, ctx, row_id=row_id, error=exc)
            if status == OutboxStatus.FAILED:
                report.failed += 1
            else:
                report.retried += 1
        else:
            with unit_of_work(session):
                outbox.record_sent(session, ctx, row_id=row_id)
            report.sent += 1
    return report


def send(app: Flask) -> outbox.SendReport:
    with job_context(app) as ctx:
        settings = mail.MailSettings.from_config(app.config)
        report = send_due(db.session, ctx, deliver=lambda message: mail.send(settings, message), sender=settings.sender)
        if report.sent or report.retried or report.failed:
            log.info("Outbox: %s sent, %s to retry, %s failed", report.sent, report.retried, report.failed)
        return report


# Partners' calendars -----------------------------------------------------------------------------


def import_source(session: DbSession, ctx: ServiceContext, *, source: AgendaSource) -> agenda_import.ImportReport:
    """Fetch a partner's calendar outside any transaction (it may take the whole timeout),
    then import it in a unit of work of its own; an unreachable address is reported on the source."""
    url = source.url or ""
    session.rollback()  # no read transaction held open across the network either
    try:
        data = agenda_import.fetch(url)
    except agenda_import.FetchError as error:
        with unit_of_work(session):
            return agenda_import.record_fetch_error(session, ctx, source=source, error=error)
    with unit_of_work(session):
        return agenda_import.import_bytes(session, ctx, source=source, data=data)


def import_agenda(app: Flask) -> dict[str, agenda_import.ImportReport]:
    """Every partner calendar that has an address, one after the other."""
    with job_context(app) as ctx:
        sources = db.session.scalars(select(AgendaSource).where(AgendaSource.url.is_not(None))).all()
        return {source.name: import_source(db.session, ctx, source=source) for source in sources}


def build_scheduler(app: Flask, *, blocking: bool) -> Any:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    # APScheduler logs every run at INFO; our jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    job_defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(job_defaults=job_defaults, timezone="UTC")
    scheduler.add_job(tick, "interval", minutes=1, args=[app], id="reminders-tick", replace_existing=True)
    scheduler.add_job(send, "interval", seconds=20, args=[app], id="outbox-send", replace_existing=True)
    scheduler.add_job(import_agenda, "cron", hour=4, minute=30, args=[app], id="agenda-import", replace_existing=True)
    return scheduler
