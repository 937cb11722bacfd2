"""Scheduled work, run by APScheduler (in `make run`, or `flask scheduler`) or by cron (`flask send-due`).

Two jobs: the tick writes the reminders that are due to the outbox; the sender delivers
what the outbox holds. Both are safe to run in several processes at once. Each job builds
its context (`entry.for_job`) and owns its units of work: the services it calls never commit.

Jobs are derived from the database at each run, never stored in the scheduler: a restart
loses nothing, and the scheduler's own state need not be shared between processes.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import URL, create_engine, select, text
from sqlalchemy.pool import NullPool

from app import entry
from app.db import DbSession, unit_of_work
from app.extensions import db
from app.models import AgendaSource, Booking, OutboxStatus
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


def _one_by_one(session: DbSession, found: list[Booking], act: Callable[[Booking], object], what: str) -> int:
    """Act on each booking found (by a read that is ended here) in a unit of work of its own, so
    that one refused (changed meanwhile) or failing leaves the others done; returns how many
    were done (`act` answers None for one that no longer needed it)."""
    session.rollback()  # ends the read transaction
    done = 0
    for booking in found:
        try:
            with unit_of_work(session):
                if act(booking) is not None:
                    done += 1
        except DomainError as refused:  # e.g. the database refused the change: the others still go
            log.warning("Booking %s not %s: %s", booking.id, what, refused)
    return done


def release_unused(session: DbSession, ctx: ServiceContext) -> int:
    """Release the account bookings nobody opened; returns how many."""
    found = release.due(session, ctx)
    return _one_by_one(session, found, lambda b: release.release(session, ctx, booking=b), "released")


def settle_waitlist(session: DbSession, ctx: ServiceContext) -> int:
    """Let unanswered waitlist holds lapse (each passing its slot on) and end the wishes whose
    period has begun; returns how many holds lapsed."""
    found = waitlist.due_lapses(session, ctx)
    lapsed = _one_by_one(session, found, lambda b: waitlist.lapse(session, ctx, booking=b), "lapsed")
    # The minute tick takes the write lock only when a wish is due to end, not every minute.
    if waitlist.any_passed(session, ctx):
        with unit_of_work(session):
            waitlist.expire_passed(session, ctx)
    else:
        session.rollback()  # ends the read transaction
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
    session: DbSession,
    ctx: ServiceContext,
    *,
    deliver: Deliver,
    sender: str,
    limit: int = 10,
    lease: timedelta = outbox.LEASE,
    clock: Callable[[], datetime] | None = None,
) -> outbox.SendReport:
    """Send up to `limit` due emails, each exactly once as far as SMTP allows.

    The claim commits before any sending; no transaction is open during a network call;
    each outcome commits on its own, so that a crash loses at most the lease on what was
    claimed (sent again once the lease ends), never an email, and repeats no sent one.
    Before each email the lease on that row is renewed on `clock` (the wall clock): a batch
    slowed down past its lease skips what another sender took over instead of sending it twice.
    """
    report = outbox.SendReport()
    with unit_of_work(session):
        claimed = outbox.claim(session, ctx, limit=limit, lease=lease)
    for row_id in claimed.ids:
        with unit_of_work(session):
            now = ctx.at(clock()) if clock is not None else ctx
            still_ours = outbox.renew(session, now, row_id=row_id, held_until=claimed.until, lease=lease)
        if still_ours is None:
            continue
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
        report = send_due(
            db.session,
            ctx,
            deliver=lambda message: mail.send(settings, message),
            sender=settings.sender,
            clock=entry.clock,
        )
        if report.sent or report.retried or report.failed:
            log.info("Outbox: %s sent, %s to retry, %s failed", report.sent, report.retried, report.failed)
        return report


# Partners' calendars -----------------------------------------------------------------------------


def _read_apart(ctx: ServiceContext, data: bytes, limits: agenda_import.ImportLimits) -> agenda_import.Parsed:
    """A partner's file is read in a process of its own (agenda_import.parse_isolated), never here.

    A subprocess rather than a thread or a job of this process: only a process can be given a
    memory and CPU limit by the operating system and be killed at its wall-clock budget. A file
    that makes the reading swell or spin costs that process alone, never the scheduler that also
    sends the emails (nor a web worker), and the next source is read all the same.
    """
    return agenda_import.parse_isolated(
        data, window_start=ctx.now, zone=ctx.zone, locale=str(get_locale() or ctx.default_locale), limits=limits
    )


def import_source(
    session: DbSession,
    ctx: ServiceContext,
    *,
    source: AgendaSource,
    limits: agenda_import.ImportLimits | None = None,
) -> agenda_import.ImportReport:
    """Fetch a partner's calendar and read it outside any transaction (each within its budget),
    then store it in a unit of work of its own; an unreachable or refused address, or a file over
    its reading budget, is reported on the source and changes nothing."""
    limits = limits or agenda_import.ImportLimits.from_config(current_app.config)
    url = source.url or ""
    session.rollback()  # no read transaction held open across the network either
    try:
        parsed = _read_apart(ctx, agenda_import.fetch(url, limits=limits), limits)
    except agenda_import.ImportFailed as error:
        with unit_of_work(session):
            return agenda_import.record_fetch_error(session, ctx, source=source, error=error)
    with unit_of_work(session):
        return agenda_import.import_parsed(session, ctx, source=source, parsed=parsed)


def import_file(
    session: DbSession,
    ctx: ServiceContext,
    *,
    source: AgendaSource,
    data: bytes,
    limits: agenda_import.ImportLimits | None = None,
) -> agenda_import.ImportReport:
    """An uploaded file, read apart as a fetched one is (for the admin's upload and the command line)."""
    agenda_import.require_importer(ctx)
    limits = limits or agenda_import.ImportLimits.from_config(current_app.config)
    session.rollback()
    try:
        parsed = _read_apart(ctx, data, limits)
    except agenda_import.ImportFailed as error:
        with unit_of_work(session):
            return agenda_import.record_fetch_error(session, ctx, source=source, error=error)
    with unit_of_work(session):
        return agenda_import.import_parsed(session, ctx, source=source, parsed=parsed)


def import_agenda(app: Flask) -> dict[str, agenda_import.ImportReport]:
    """Every partner calendar that has an address, one after the other; one that fails, whatever
    the reason, is reported on its source and the others are imported all the same."""
    with job_context(app) as ctx:
        limits = agenda_import.ImportLimits.from_config(app.config)
        sources = db.session.scalars(select(AgendaSource).where(AgendaSource.url.is_not(None))).all()
        reports: dict[str, agenda_import.ImportReport] = {}
        for source in sources:
            source_id, name = source.id, source.name
            try:
                reports[name] = import_source(db.session, ctx, source=source, limits=limits)
            except Exception:  # a database error, a bug: this source only
                log.exception("Agenda import of source %s failed", source_id)
                db.session.rollback()
                reports[name] = _record_failure(db.session, ctx, source, source_id)
        return reports


def _record_failure(
    session: DbSession, ctx: ServiceContext, source: AgendaSource, source_id: int
) -> agenda_import.ImportReport:
    failure = agenda_import.ImportFailed(_("Erreur inattendue pendant l'import : rien n'a été modifié."))
    try:
        with unit_of_work(session):
            return agenda_import.record_fetch_error(session, ctx, source=source, error=failure)
    except Exception:  # the database itself is failing: the log has it
        log.exception("Agenda import of source %s: the failure could not be recorded", source_id)
        session.rollback()
        return agenda_import.ImportReport(error=str(failure))


def build_scheduler(app: Flask, *, blocking: bool) -> Any:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    # APScheduler logs every run at INFO; our jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    job_defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(job_defaults=job_defaults, timezone="UTC")
    # A scheduler (re)started by a deploy ticks and sends at once rather than one interval
    # later: what fell due while it was down goes out now. The wall clock, not entry.clock():
    # a FIXED_NOW would put the first run years away.
    at_once = datetime.now(UTC)
    scheduler.add_job(
        tick, "interval", minutes=1, args=[app], id="reminders-tick", replace_existing=True, next_run_time=at_once
    )
    scheduler.add_job(
        send, "interval", seconds=20, args=[app], id="outbox-send", replace_existing=True, next_run_time=at_once
    )
    scheduler.add_job(import_agenda, "cron", hour=4, minute=30, args=[app], id="agenda-import", replace_existing=True)
    return scheduler


# One scheduler per database ----------------------------------------------------------------------

# The PostgreSQL advisory lock's key ("LMsc"); advisory locks are per database, so that two
# installations on one server do not see each other.
SCHEDULER_LOCK_KEY = int.from_bytes(b"LMsc", "big")


class SchedulerBusy(Exception):
    """Another process already runs the scheduler on this database."""


class SchedulerLock:
    """The database's one-scheduler lock, held until release() or the end of the process.

    Both kinds die with their process (a session of its own on PostgreSQL, an open file on
    SQLite): a scheduler killed by a crash or a deploy never keeps the next one from starting.
    """

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None

    def __enter__(self) -> SchedulerLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def acquire_scheduler_lock(app: Flask) -> SchedulerLock:
    """Take the lock that lets one process only run the scheduled jobs; SchedulerBusy if taken.

    The jobs are safe to run twice at once, but some work (the agenda import, many fetches)
    should not be done twice, and two schedulers by mistake are a sign of a broken deployment.
    """
    with app.app_context():
        url = db.engine.url  # as Flask-SQLAlchemy resolved it: a relative SQLite path lands in instance/
    if url.get_backend_name() == "postgresql":
        return _postgres_lock(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_lock(url, Path(app.instance_path))
    raise RuntimeError(f"No scheduler lock for the {url.get_backend_name()} database")


_ONLY_ONE = (
    "Only one may run per database, so that scheduled work is never done twice: "
    "stop the other one first if this one is to replace it."
)


def _postgres_lock(url: URL) -> SchedulerLock:
    # A connection of its own, outside the app's pool, open as long as the lock is held: the
    # lock is the session's, not a transaction's, so it needs no open transaction.
    engine = create_engine(
        url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args={"application_name": "lamalle-scheduler"}
    )
    connection = engine.connect()

    def release() -> None:
        connection.close()  # ends the session, and with it the lock
        engine.dispose()

    try:
        if connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY}):
            return SchedulerLock(release)
        holder = connection.execute(
            text(
                "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks AS l"
                " JOIN pg_stat_activity AS a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.database = a.datid"
                " AND l.classid::bigint = 0 AND l.objid::bigint = :key AND l.objsubid = 1"
            ),
            {"key": SCHEDULER_LOCK_KEY},
        ).first()
    except BaseException:
        release()
        raise
    release()
    who = "by another session"
    if holder is not None:
        client, since = holder.client_addr or "local socket", f"{holder.backend_start:%Y-%m-%d %H:%M %Z}"
        who = f"by the session of server process {holder.pid}, from {client}, since {since}"
    raise SchedulerBusy(
        f"Another scheduler is already running on this database (PostgreSQL advisory lock "
        f"{SCHEDULER_LOCK_KEY}, held {who}). {_ONLY_ONE}"
    )


def _sqlite_lock(url: URL, instance_path: Path) -> SchedulerLock:
    database = url.database
    beside = Path(database) if database and database != ":memory:" else instance_path / "lamalle"
    path = beside.with_name(beside.name + ".scheduler.lock")
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise SchedulerBusy(
            f"Another scheduler is already running on this database (lock file {path}, held by process {holder}). "
            f"{_ONLY_ONE}"
        ) from None
    except BaseException:
        handle.close()
        raise
    # Who holds it, for the message a second scheduler prints; the lock itself is the flock.
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return SchedulerLock(handle.close)  # closing the file releases the lock; the file stays
