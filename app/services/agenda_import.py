"""Importing partners' calendars into the agenda.

A file is read whole before anything is stored: a broken, huge, non-UTF-8 or hostile file
gives a report and changes nothing. Events are keyed by the source's UID (and, for a
recurring event, the start of each occurrence), so that a second import updates instead
of duplicating, and an event gone from the source is marked cancelled, never deleted.
Each UID is expanded on its own: one unreadable rule skips that event, not the file.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from urllib.request import Request, urlopen
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import write_transaction
from app.models import AgendaEvent, AgendaSource, EventStatus
from app.services.calendar import local_midnight

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


def _instant(value, zone: ZoneInfo) -> tuple[datetime, bool]:
    """(UTC instant, all day?) from a DTSTART/DTEND value: dates start at local midnight,
    floating times are read in the agenda's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC), False
    if isinstance(value, date):
        return local_midnight(value, zone).astimezone(UTC), True
    raise ValueError(f"not a date: {value!r}")


def _text(component, name: str, limit: int) -> str:
    value = component.get(name)
    return str(value).strip()[:limit] if value is not None else ""


def _occurrences_between(calendar: icalendar.Calendar, start: datetime, end: datetime, limit: int):
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
    by_uid: dict[str, list] = defaultdict(list)
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
                        link=_text(event, "URL", 1000) or None,
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


def store(session: Session, *, source: AgendaSource, occurrences: list[Occurrence], now: datetime) -> ImportReport:
    """Create, update and cancel the source's events to match the occurrences, in one transaction."""
    report = ImportReport()
    source_id = source.id
    with write_transaction(session):
        source = session.get(AgendaSource, source_id)
        existing = {
            e.source_uid: e for e in session.scalars(select(AgendaEvent).where(AgendaEvent.source_id == source.id))
        }
        seen = set()
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
                        status=(EventStatus.PUBLISHED if source.trusted else EventStatus.PROPOSED).value,
                        created_at=now,
                        updated_at=now,
                        sequence=0,
                    )
                )
                report.created += 1
            elif any(getattr(event, name) != value for name, value in values.items()) or (
                event.status == EventStatus.CANCELLED
            ):
                for name, value in values.items():
                    setattr(event, name, value)
                if event.status == EventStatus.CANCELLED:
                    event.status = (EventStatus.PUBLISHED if source.trusted else EventStatus.PROPOSED).value
                event.sequence += 1
                event.updated_at = now
                report.updated += 1
            else:
                report.unchanged += 1
        for uid, event in existing.items():
            if uid not in seen and event.ends_at > now and event.status != EventStatus.CANCELLED:
                event.status = EventStatus.CANCELLED.value
                event.sequence += 1
                event.updated_at = now
                report.cancelled += 1
    return report


def import_bytes(session: Session, *, source: AgendaSource, data: bytes, now: datetime, zone: ZoneInfo) -> ImportReport:
    """Parse, then store only if the file could be read; the report is kept on the source."""
    occurrences, problems, error = parse(data, window_start=now, zone=zone)
    report = ImportReport(error=error) if error else store(session, source=source, occurrences=occurrences, now=now)
    report.skipped = problems
    source_id = source.id
    with write_transaction(session):
        source = session.get(AgendaSource, source_id)
        source.last_run_at = now
        source.last_report = report.to_json()
    return report


def add_source(
    session: Session, *, name: str, url: str | None, departement_code: str | None, trusted: bool
) -> AgendaSource:
    with write_transaction(session):
        source = AgendaSource(name=name, url=url, departement_code=departement_code, trusted=trusted)
        session.add(source)
    return source


class FetchError(Exception):
    pass


def fetch(url: str, *, timeout: float = 15, limit: int = MAX_BYTES) -> bytes:
    """GET a partner's public calendar: http(s) only, a timeout, and at most `limit` bytes read."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(_("Seules les adresses http(s) sont acceptées."))
    request = Request(url, headers={"User-Agent": "La Malle (Science(s) en Occitanie)"})
    try:
        with urlopen(request, timeout=timeout) as response:  # the scheme is checked above
            data = response.read(limit + 1)
    except OSError as exc:
        raise FetchError(_("Adresse injoignable : %(why)s", why=str(exc)[:200])) from exc
    if len(data) > limit:
        raise FetchError(_("Fichier trop volumineux (%(n)d Mo au plus).", n=limit // (1024 * 1024)))
    return data


def import_source(session: Session, *, source: AgendaSource, now: datetime, zone: ZoneInfo) -> ImportReport:
    """Fetch a source's address and import it; an unreachable address is reported like a broken file."""
    try:
        data = fetch(source.url)
    except FetchError as error:
        report = ImportReport(error=str(error))
        source_id = source.id
        with write_transaction(session):
            stored = session.get(AgendaSource, source_id)
            stored.last_run_at, stored.last_report = now, report.to_json()
        return report
    return import_bytes(session, source=source, data=data, now=now, zone=zone)


def load_report(source: AgendaSource) -> ImportReport | None:
    if not source.last_report:
        return None
    return ImportReport(**json.loads(source.last_report))
