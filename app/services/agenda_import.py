"""Importing partners' calendars into the agenda.

A file is read whole before anything is stored: a broken, huge, non-UTF-8 or hostile file
gives a report and changes nothing. Events are keyed by the source's UID (and, for a
recurring event, the start of each occurrence), so that a second import updates instead
of duplicating, and an event gone from the source is marked cancelled, never deleted.
Each UID is expanded on its own: one unreadable rule skips that event, not the file.

Only admins add sources and import into them; the scheduled import acts as the system.
An address is fetched over http(s) only, redirects included, and reading stops at
MAX_BYTES: a partner's server cannot make us read a local file or fill the memory.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from http.client import HTTPMessage
from typing import IO, Any
from urllib.parse import urlsplit
from urllib.request import (
    HTTPDefaultErrorHandler,
    HTTPErrorProcessor,
    HTTPHandler,
    HTTPRedirectHandler,
    HTTPSHandler,
    OpenerDirector,
    ProxyHandler,
    Request,
    UnknownHandler,
)
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from flask_babel import gettext as _
from sqlalchemy import select

from app.db import DbSession, lock
from app.models import AgendaEvent, AgendaSource, EventStatus
from app.services import audit, weblinks
from app.services.calendar import local_midnight
from app.services.context import ServiceContext
from app.services.errors import NotFound, RuleViolation

MAX_BYTES = 2 * 1024 * 1024
MAX_OCCURRENCES = 2000
HORIZON = timedelta(days=365)


@dataclass(frozen=True)
class Occurrence:
    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    town: str
    link: str | None
    description: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def _instant(value: Any, zone: ZoneInfo) -> tuple[datetime, bool]:
    """(UTC instant, all day?) from a DTSTART/DTEND value: dates start at local midnight,
    floating times are read in the agenda's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC), False
    if isinstance(value, date):
        return local_midnight(value, zone).astimezone(UTC), True
    raise ValueError(f"not a date: {value!r}")


def _text(component: Any, name: str, limit: int) -> str:
    value = component.get(name)
    return str(value).strip()[:limit] if value is not None else ""


def _occurrences_between(calendar: icalendar.Calendar, start: datetime, end: datetime, limit: int) -> Iterator[Any]:
    """Occurrences in order, lazily: a rule repeating every minute costs `limit`, not a year of minutes."""
    for count, event in enumerate(recurring_ical_events.of(calendar).after(start)):
        if count >= limit:
            return
        first = event.decoded("DTSTART")
        moment = first if isinstance(first, datetime) else datetime.combine(first, time(0))
        if (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment) >= end:
            return
        yield event


def parse(
    data: bytes, *, window_start: datetime, zone: ZoneInfo, window_end: datetime | None = None
) -> tuple[list[Occurrence], list[str], str | None]:
    """(occurrences, per-event problems, fatal error) for one .ics file; events from
    `window_start` to `window_end` (a year later by default), recurring ones expanded."""
    if len(data) > MAX_BYTES:
        return [], [], _("Fichier trop volumineux (%(n)d Mo au plus).", n=MAX_BYTES // (1024 * 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [], _("Le fichier n'est pas en UTF-8 : enregistrez-le en UTF-8 et recommencez.")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except Exception as exc:  # the library raises ValueError and others on malformed input
        return [], [], _("Fichier iCalendar illisible : %(why)s", why=str(exc)[:200])
    if not isinstance(calendar, icalendar.Calendar):
        return [], [], _("Ce fichier n'est pas un calendrier (il lui manque BEGIN:VCALENDAR).")

    timezones = list(calendar.walk("VTIMEZONE"))
    by_uid: dict[str, list[Any]] = defaultdict(list)
    problems: list[str] = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        uid = _text(event, "UID", 400)
        if not uid:
            problems.append(_("Événement n° %(n)d sans UID : ignoré.", n=number))
            continue
        by_uid[uid].append(event)

    occurrences: list[Occurrence] = []
    window_end = window_end or window_start + HORIZON
    for uid, components in by_uid.items():
        title = next((_text(c, "SUMMARY", 300) for c in components if _text(c, "SUMMARY", 300)), "")
        if not title:
            problems.append(_("Événement %(uid)s sans titre : ignoré.", uid=uid[:80]))
            continue
        single = icalendar.Calendar()
        for component in (*timezones, *components):
            single.add_component(component)
        try:
            found = list(_occurrences_between(single, window_start, window_end, MAX_OCCURRENCES + 1))
            recurring = len(found) > 1 or any("RRULE" in c or "RDATE" in c or "RECURRENCE-ID" in c for c in components)
            for event in found:
                starts_at, all_day = _instant(event.decoded("DTSTART"), zone)
                ends_at = _instant(event.decoded("DTEND"), zone)[0] if "DTEND" in event else starts_at
                if all_day and ends_at <= starts_at:
                    ends_at = starts_at + timedelta(days=1)
                occurrences.append(
                    Occurrence(
                        uid=f"{uid}#{starts_at.isoformat()}" if recurring else uid,
                        title=_text(event, "SUMMARY", 300) or title,
                        starts_at=starts_at,
                        ends_at=max(ends_at, starts_at),
                        all_day=all_day,
                        town=_text(event, "LOCATION", 200),
                        # A `javascript:` URL would become a link on a public page: web addresses only.
                        link=weblinks.kept_or_dropped(_text(event, "URL", 1000)),
                        description=_text(event, "DESCRIPTION", 5000),
                    )
                )
        except Exception as exc:  # one unreadable event (bad RRULE, broken DTSTART…) is skipped alone
            problems.append(_("« %(title)s » ignoré : %(why)s", title=title[:80], why=str(exc)[:160]))
        if len(occurrences) > MAX_OCCURRENCES:
            problems.append(_("Plus de %(n)d occurrences : la suite est ignorée.", n=MAX_OCCURRENCES))
            occurrences = occurrences[:MAX_OCCURRENCES]
            break
    return occurrences, problems, None


_COPIED = ("title", "starts_at", "ends_at", "all_day", "town", "link", "description")


def _require_importer(ctx: ServiceContext) -> None:
    # The scheduled import and the command line act as nobody in particular (ctx.actor is None).
    if ctx.actor is not None:
        ctx.require_admin()


def _locked(session: DbSession, source: AgendaSource) -> AgendaSource:
    # Locked so that the daily import and an admin's upload of one source never interleave.
    found = lock(session, AgendaSource, source.id)
    if found is None:
        raise NotFound(_("Cette source n'existe pas."))
    return found


def _set_state(ctx: ServiceContext, session: DbSession, event: AgendaEvent, status: EventStatus, action: str) -> None:
    before = event.status
    event.status = status
    audit.record(
        session, ctx, subject_type="agenda", subject_id=event.id, action=action, from_state=before, to_state=status
    )


def store(
    session: DbSession, ctx: ServiceContext, *, source: AgendaSource, occurrences: list[Occurrence]
) -> ImportReport:
    """Create, update and cancel the source's events to match the occurrences."""
    _require_importer(ctx)
    source = _locked(session, source)
    now = ctx.now
    arriving = EventStatus.PUBLISHED if source.trusted else EventStatus.PROPOSED
    report = ImportReport()
    existing = {e.source_uid: e for e in session.scalars(select(AgendaEvent).where(AgendaEvent.source_id == source.id))}
    seen: set[str] = set()
    for item in occurrences:
        if item.uid in seen:
            continue
        seen.add(item.uid)
        event = existing.get(item.uid)
        values = {name: getattr(item, name) for name in _COPIED}
        if event is None:
            session.add(
                AgendaEvent(
                    **values,
                    source_id=source.id,
                    source_uid=item.uid,
                    organisation_id=source.organisation_id,
                    organiser_name=source.name,
                    departement_code=source.departement_code,
                    status=arriving,
                    created_at=now,
                    updated_at=now,
                    sequence=0,
                )
            )
            report.created += 1
            continue
        back = event.can("reopen")
        if not back and all(getattr(event, name) == value for name, value in values.items()):
            report.unchanged += 1
            continue
        for name, value in values.items():
            setattr(event, name, value)
        if back:
            # Back in the partner's calendar after we marked it cancelled: it comes back as
            # a new arrival would.
            _set_state(ctx, session, event, arriving, "reopen")
        event.touch(now)
        report.updated += 1
    for uid, event in existing.items():
        # A refused event stays refused: cancelling it would show it to the public.
        if uid not in seen and event.ends_at > now and event.can("cancel"):
            _set_state(ctx, session, event, EventStatus.CANCELLED, str(EventStatus.CANCELLED))
            event.touch(now)
            report.cancelled += 1
    session.flush()
    return report


def _record(source: AgendaSource, report: ImportReport, now: datetime) -> None:
    source.last_run_at = now
    source.last_report = report.to_json()


def import_bytes(session: DbSession, ctx: ServiceContext, *, source: AgendaSource, data: bytes) -> ImportReport:
    """Parse, then store only if the file could be read; the report is kept on the source."""
    _require_importer(ctx)
    occurrences, problems, error = parse(data, window_start=ctx.now, zone=ctx.zone)
    source = _locked(session, source)
    if error:
        report = ImportReport(error=error)
    else:
        report = store(session, ctx, source=source, occurrences=occurrences)
    report.skipped = problems
    _record(source, report, ctx.now)
    return report


def _check_address(url: str | None) -> str | None:
    if url is None:
        return None
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise RuleViolation(_("Seules les adresses http(s) sont acceptées."), field="url")
    return url


def add_source(
    session: DbSession,
    ctx: ServiceContext,
    *,
    name: str,
    url: str | None,
    departement_code: str | None,
    trusted: bool,
) -> AgendaSource:
    """A partner's calendar; only an admin adds one, since a trusted source publishes without moderation."""
    ctx.require_admin()
    if not name.strip():
        raise RuleViolation(_("Donnez un nom à la source."), field="name")
    source = AgendaSource(
        name=name.strip(), url=_check_address(url), departement_code=departement_code, trusted=trusted
    )
    session.add(source)
    session.flush()
    return source


class FetchError(Exception):
    pass


class _HttpOnlyRedirects(HTTPRedirectHandler):
    """Follows a redirect only to another http(s) address (urllib would also follow one to ftp)."""

    def redirect_request(
        self, req: Request, fp: IO[bytes], code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> Request | None:
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise FetchError(_("Seules les adresses http(s) sont acceptées."))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> OpenerDirector:
    # Only the http(s) handlers: no file:, ftp: or data: handler exists to be reached.
    opener = OpenerDirector()
    for handler in (
        ProxyHandler(),
        UnknownHandler(),
        HTTPHandler(),
        HTTPSHandler(),
        HTTPDefaultErrorHandler(),
        _HttpOnlyRedirects(),
        HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def fetch(url: str, *, timeout: float = 15, limit: int | None = None) -> bytes:
    """GET a partner's public calendar: http(s) only, a timeout, and at most `limit` bytes
    (MAX_BYTES by default) read, whatever the server says or sends."""
    limit = MAX_BYTES if limit is None else limit
    too_big = FetchError(_("Fichier trop volumineux (%(n)d Mo au plus).", n=max(limit // (1024 * 1024), 1)))
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise FetchError(_("Seules les adresses http(s) sont acceptées."))
    request = Request(url, headers={"User-Agent": "La Malle (Science(s) en Occitanie)"})
    try:
        with _opener().open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise too_big
            data: bytes = response.read(limit + 1)
    except OSError as exc:
        raise FetchError(_("Adresse injoignable : %(why)s", why=str(exc)[:200])) from exc
    if len(data) > limit:
        raise too_big
    return data


def record_fetch_error(
    session: DbSession, ctx: ServiceContext, *, source: AgendaSource, error: FetchError
) -> ImportReport:
    """An unreachable or refused address is reported on the source like a broken file.

    Fetching is the caller's step, outside any unit of work (it may wait for the whole
    timeout): `fetch`, then `import_bytes` or this, each in a short unit of work.
    """
    _require_importer(ctx)
    report = ImportReport(error=str(error))
    _record(_locked(session, source), report, ctx.now)
    return report


def load_report(source: AgendaSource) -> ImportReport | None:
    if not source.last_report:
        return None
    return ImportReport(**json.loads(source.last_report))
