"""Scheduled work, run by APScheduler (in `make run`, or `flask scheduler`) or by cron (`flask send-due`).

Two jobs: the tick writes the reminders that are due to the outbox; the sender delivers
what the outbox holds. Both are safe to run in several processes at once.

Jobs are derived from the database at each run, never stored in the scheduler: a restart
loses nothing, and the scheduler's own state need not be shared between processes.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from app.config import site_domain
from app.extensions import db
from app.i18n import utcnow
from app.models import AgendaSource
from app.services import agenda_import, mail, outbox, reminders

log = logging.getLogger(__name__)


@contextmanager
def job_context(app: Flask):
    """An app context whose session is removed at the end (emails build their links on SITE_URL)."""
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def tick(app: Flask) -> int:
    """Write the reminders due now to the outbox; returns how many rows were added."""
    with job_context(app):
        written = reminders.due(
            db.session, utcnow(), zone=ZoneInfo(app.config["TIMEZONE"]), domain=site_domain(app.config["SITE_URL"])
        )
        if written:
            log.info("Reminders: %s email(s) written to the outbox", written)
        return written


def import_agenda(app: Flask) -> dict[str, agenda_import.ImportReport]:
    """Fetch every partner calendar that has an address, and import it."""
    with job_context(app):
        reports = {}
        zone = ZoneInfo(app.config["TIMEZONE"])
        for source in db.session.scalars(select(AgendaSource).where(AgendaSource.url.is_not(None))).all():
            reports[source.name] = agenda_import.import_source(db.session, source=source, now=utcnow(), zone=zone)
        return reports


def send(app: Flask) -> outbox.SendReport:
    with job_context(app):
        settings = mail.MailSettings.from_config(app.config)
        report = outbox.send_due(
            db.session, deliver=lambda message: mail.send(settings, message), sender=settings.sender, now=utcnow()
        )
        if report.sent or report.retried or report.failed:
            log.info("Outbox: %s sent, %s to retry, %s failed", report.sent, report.retried, report.failed)
        return report


def build_scheduler(app: Flask, *, blocking: bool):
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
