"""The import reads what the best calendar clients read, and the report says what it made of each odd case.

Each case is a small calendar of its own, written as the software that makes it writes it.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.db import unit_of_work
from app.models import AgendaEvent, AgendaSource, AuditEntry, EventStatus
from app.services import agenda_import
from tests.factories import NOW

# NOW is Monday 11 January 2027, 09:00 UTC: everything below happens in the next twelve months.


def calendar(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture
def source(session):
    found = AgendaSource(name="Science Animation", trusted=False, departement_code="31")
    session.add(found)
    session.commit()
    return found


@pytest.fixture
def run(session, ctx):
    """Import a file into a source as the scheduled import does (nobody acting), at `now`."""

    def import_file(source, data: bytes, now=NOW):
        with unit_of_work(session):
            return agenda_import.import_bytes(session, ctx(now=now), source=source, data=data)

    return import_file


def stored(session) -> dict[str, AgendaEvent]:
    session.expire_all()
    return {e.source_uid: e for e in session.scalars(select(AgendaEvent))}


def trust(session, source) -> None:
    source.trusted = True
    session.commit()


# STATUS:CANCELLED --------------------------------------------------------------------------------

CONFIRMED = calendar(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Nextcloud calendar//EN",
    "BEGIN:VEVENT",
    "UID:cafe@partner",
    "SUMMARY:Café des sciences",
    "DTSTART:20270310T180000Z",
    "DTEND:20270310T200000Z",
    "STATUS:CONFIRMED",
    "END:VEVENT",
    "END:VCALENDAR",
)
CANCELLED = CONFIRMED.replace(b"STATUS:CONFIRMED", b"STATUS:CANCELLED")


def test_an_event_the_partner_cancels_is_stored_as_cancelled_and_stays_public_as_cancelled(session, source, run):
    trust(session, source)
    run(source, CONFIRMED)
    report = run(source, CANCELLED, now=NOW + timedelta(days=1))
    event = stored(session)["cafe@partner"]
    assert (report.cancelled, report.created, report.updated) == (1, 0, 0)
    assert event.status == EventStatus.CANCELLED and event.is_public  # the feeds show it as cancelled
    assert event.sequence == 1 and event.updated_at == NOW + timedelta(days=1)  # clients see the change
    entry = session.scalar(select(AuditEntry).where(AuditEntry.subject_id == event.id))
    assert (entry.from_state, entry.to_state, entry.actor_id) == ("published", "cancelled", None)
    again = run(source, CANCELLED, now=NOW + timedelta(days=2))
    assert (again.cancelled, again.updated, again.unchanged) == (0, 0, 1)
    back = run(source, CONFIRMED, now=NOW + timedelta(days=3))  # the partner changes its mind
    assert back.updated == 1 and stored(session)["cafe@partner"].status == EventStatus.PUBLISHED


def test_a_refused_event_stays_refused_when_the_partner_cancels_it(session, source, run):
    run(source, CONFIRMED)
    event = stored(session)["cafe@partner"]
    event.status = EventStatus.REFUSED
    session.commit()
    run(source, CANCELLED, now=NOW + timedelta(days=1))
    assert stored(session)["cafe@partner"].status == EventStatus.REFUSED  # cancelling would make it public


WEEKLY_WITH_ONE_CANCELLED = calendar(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
    "BEGIN:VEVENT",
    "UID:club@partner",
    "SUMMARY:Club sciences",
    "DTSTART;TZID=Europe/Paris:20270301T170000",
    "DTEND;TZID=Europe/Paris:20270301T180000",
    "RRULE:FREQ=WEEKLY;COUNT=4",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:club@partner",
    "RECURRENCE-ID;TZID=Europe/Paris:20270315T170000",
    "SUMMARY:Club sciences",
    "DTSTART;TZID=Europe/Paris:20270315T170000",
    "DTEND;TZID=Europe/Paris:20270315T180000",
    "STATUS:CANCELLED",
    "SEQUENCE:1",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_one_cancelled_occurrence_of_a_series_is_cancelled_alone(session, source, run):
    trust(session, source)
    report = run(source, WEEKLY_WITH_ONE_CANCELLED)
    statuses = {uid.split("#")[1][:10]: e.status for uid, e in stored(session).items()}
    assert statuses == {
        "2027-03-01": EventStatus.PUBLISHED,
        "2027-03-08": EventStatus.PUBLISHED,
        "2027-03-15": EventStatus.CANCELLED,
        "2027-03-22": EventStatus.PUBLISHED,
    }
    assert report.created == 4 and report.skipped == []


def test_an_occurrence_cancelled_before_moderation_is_not_created_and_the_report_says_so(session, source, run):
    report = run(source, WEEKLY_WITH_ONE_CANCELLED)  # an untrusted source: its events wait for moderation
    dates = sorted(uid.split("#")[1][:10] for uid in stored(session))
    assert dates == ["2027-03-01", "2027-03-08", "2027-03-22"]  # a cancelled event would be public
    assert [line for line in report.skipped if "Club sciences" in line and "annulée" in line]


def test_an_occurrence_cancelled_after_it_came_in_is_marked_cancelled(session, source, run):
    first = WEEKLY_WITH_ONE_CANCELLED.replace(b"STATUS:CANCELLED", b"STATUS:CONFIRMED")
    run(source, first)
    report = run(source, WEEKLY_WITH_ONE_CANCELLED, now=NOW + timedelta(days=1))
    by_day = {uid.split("#")[1][:10]: e.status for uid, e in stored(session).items()}
    assert report.cancelled == 1 and by_day["2027-03-15"] == EventStatus.CANCELLED
    assert {by_day[d] for d in ("2027-03-01", "2027-03-08", "2027-03-22")} == {EventStatus.PROPOSED}


def test_a_cancel_message_cancels_what_it_names(session, source, run):
    trust(session, source)
    run(source, CONFIRMED)
    cancel = CANCELLED.replace(b"STATUS:CANCELLED\r\n", b"").replace(b"PRODID:", b"METHOD:CANCEL\r\nPRODID:")
    run(source, cancel, now=NOW + timedelta(days=1))
    assert stored(session)["cafe@partner"].status == EventStatus.CANCELLED


# Floating times and X-WR-TIMEZONE ----------------------------------------------------------------

NEW_YORK = calendar(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
    "X-WR-CALNAME:Science Museum NYC",
    "X-WR-TIMEZONE:America/New_York",
    "BEGIN:VEVENT",
    "UID:floating@nyc",
    "SUMMARY:Conférence en duplex",
    "DTSTART:20270317T140000",
    "DTEND:20270317T150000",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:weekly@nyc",
    "SUMMARY:Atelier du lundi",
    "DTSTART:20270301T150000Z",
    "DTEND:20270301T160000Z",
    "RRULE:FREQ=WEEKLY;COUNT=3",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_floating_times_are_read_in_the_calendars_x_wr_timezone(session, source, run):
    report = run(source, NEW_YORK)
    events = stored(session)
    assert report.skipped == []
    # 14:00 in New York on 17 March 2027 (daylight time since the 14th) is 18:00 UTC, not 13:00.
    assert events["floating@nyc"].starts_at == datetime(2027, 3, 17, 18, 0, tzinfo=UTC)
    # Google writes UTC and means the calendar's zone: the workshop stays at 10:00 in New York.
    weekly = sorted(e.starts_at for uid, e in events.items() if uid.startswith("weekly@nyc#"))
    assert weekly == [
        datetime(2027, 3, 1, 15, 0, tzinfo=UTC),
        datetime(2027, 3, 8, 15, 0, tzinfo=UTC),
        datetime(2027, 3, 15, 14, 0, tzinfo=UTC),
    ]


def test_an_unknown_x_wr_timezone_is_reported_and_floating_times_read_in_the_agendas_zone(session, source, run):
    data = NEW_YORK.replace(b"America/New_York", b"Mars/Olympus_Mons")
    report = run(source, data)
    assert stored(session)["floating@nyc"].starts_at == datetime(2027, 3, 17, 13, 0, tzinfo=UTC)  # Paris
    assert [line for line in report.skipped if "Mars/Olympus_Mons" in line]


# UID, SUMMARY --------------------------------------------------------------------------------------

WITHOUT_UID = calendar(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//khal//NONSGML v1.0//EN",
    "BEGIN:VEVENT",
    "DTSTAMP:20270105T101500Z",
    "SUMMARY:Nuit des étoiles",
    "DTSTART:20270806T200000Z",
    "DTEND:20270806T230000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "DTSTAMP:20270105T101500Z",
    "SUMMARY:Fête de la science",
    "DTSTART:20271008T080000Z",
    "DTEND:20271008T170000Z",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_an_event_without_uid_gets_a_stable_one_so_that_importing_twice_creates_nothing_new(session, source, run):
    first = run(source, WITHOUT_UID)
    before = stored(session)
    assert first.created == 2 and first.skipped == []
    assert all(uid.startswith("sans-uid-") for uid in before)
    exported_again = WITHOUT_UID.replace(b"DTSTAMP:20270105T101500Z", b"DTSTAMP:20270110T080000Z")
    second = run(source, exported_again, now=NOW + timedelta(days=1))
    assert (second.created, second.cancelled, second.unchanged) == (0, 0, 2)
    assert {e.id for e in stored(session).values()} == {e.id for e in before.values()}


WITHOUT_SUMMARY = calendar(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
    "BEGIN:VEVENT",
    "UID:nosummary@partner",
    "DTSTART:20270310T180000Z",
    "DTEND:20270310T200000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:nosummary-placed@partner",
    "LOCATION:Muséum de Toulouse",
    "DTSTART:20270311T180000Z",
    "DTEND:20270311T200000Z",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_an_event_without_summary_comes_in_with_a_title_in_words(session, source, run):
    report = run(source, WITHOUT_SUMMARY)
    events = stored(session)
    assert report.created == 2 and report.skipped == []
    assert events["nosummary@partner"].title == "Événement sans titre"
    assert events["nosummary-placed@partner"].title == "Événement sans titre, Muséum de Toulouse"


# A stream of calendars -----------------------------------------------------------------------------

TWO_CALENDARS = calendar(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
    "BEGIN:VEVENT",
    "UID:first@stream",
    "SUMMARY:Atelier robotique",
    "DTSTART:20270310T140000",
    "DTEND:20270310T160000",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
    "X-WR-TIMEZONE:Europe/London",
    "BEGIN:VEVENT",
    "UID:second@stream",
    "SUMMARY:Soirée astronomie",
    "DTSTART:20270311T200000",
    "DTEND:20270311T220000",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_every_vcalendar_of_a_stream_is_read_each_in_its_own_zone(session, source, run):
    report = run(source, TWO_CALENDARS)
    events = stored(session)
    assert report.error is None and report.created == 2
    assert events["first@stream"].starts_at == datetime(2027, 3, 10, 13, 0, tzinfo=UTC)  # Paris
    assert events["second@stream"].starts_at == datetime(2027, 3, 11, 20, 0, tzinfo=UTC)  # London


# RDATE, EXDATE, RRULE, DTEND, DURATION ---------------------------------------------------------

BAD_VALUES = calendar(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Zimbra//EN",
    "BEGIN:VEVENT",
    "UID:visits@partner",
    "SUMMARY:Visite du labo",
    "DTSTART:20270301T090000Z",
    "DTEND:20270301T100000Z",
    "RRULE:FREQ=WEEKLY;COUNT=3",
    "RDATE:20270401T090000Z,not-a-date,20270402T090000Z",
    "EXDATE:20270308T090000Z,20279999T999999Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:birthday@partner",
    "SUMMARY:Anniversaire du club",
    "DTSTART;VALUE=DATE:20270610",
    "DTEND;VALUE=DATE:20270611",
    "RRULE:FREQ=DAILY;COUNT=1",
    "RDATE:20270710Z",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_one_bad_rdate_or_exdate_value_is_skipped_with_a_warning_and_the_series_kept(session, source, run):
    report = run(source, BAD_VALUES)
    days = sorted(e.starts_at.date().isoformat() for uid, e in stored(session).items() if uid.startswith("visits@"))
    assert days == ["2027-03-01", "2027-03-15", "2027-04-01", "2027-04-02"]  # the 8th stays excluded
    assert len(report.skipped) == 2
    assert any("Visite du labo" in line and "RDATE" in line and "not-a-date" in line for line in report.skipped)
    assert any("Visite du labo" in line and "EXDATE" in line and "20279999T999999Z" in line for line in report.skipped)
    # Google writes birthdays' extra dates as 20270710Z: read as the day it means, not dropped.
    birthdays = sorted(e.starts_at for uid, e in stored(session).items() if uid.startswith("birthday@"))
    assert birthdays == [datetime(2027, 6, 9, 22, tzinfo=UTC), datetime(2027, 7, 9, 22, tzinfo=UTC)]


ODD_RULES = calendar(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Calendar Labs//Calendar 1.0//EN",
    "BEGIN:VEVENT",
    "UID:empty-rule@partner",
    "SUMMARY:Journée portes ouvertes",
    "DTSTART;VALUE=DATE:20270320",
    "DTEND;VALUE=DATE:20270321",
    "RRULE:",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:spaced-rule@partner",
    "SUMMARY:Permanence",
    "DTSTART:20270301T090000Z",
    "DTEND:20270301T100000Z",
    "RRULE:FREQ=DAILY;COUNT=5;BYDAY=MO, TU, WE, TH, FR",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:bad-duration@partner",
    "SUMMARY:Durée impossible",
    "DTSTART:20270302T090000Z",
    "DURATION:P999999999999999999W",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_an_empty_rule_a_rule_with_spaces_and_an_unreadable_duration_do_not_lose_the_event(session, source, run):
    report = run(source, ODD_RULES)
    events = stored(session)
    assert [uid for uid in events if uid.startswith("empty-rule@")] == ["empty-rule@partner"]
    assert len([uid for uid in events if uid.startswith("spaced-rule@")]) == 5  # Exchange's "MO, TU"
    kept = events["bad-duration@partner"]
    assert kept.ends_at == kept.starts_at
    assert report.skipped == ["« Durée impossible » : DURATION illisible, ignorée."]


def test_a_rule_that_never_falls_keeps_its_first_date_and_says_so(session, source, run):
    never = calendar(
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Partenaire//FR",
        "BEGIN:VEVENT",
        "UID:feb30@partner",
        "SUMMARY:Le 30 février",
        "DTSTART:20270301T090000Z",
        "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "END:VEVENT",
        "END:VCALENDAR",
    )
    report = run(source, never)
    assert [e.starts_at for e in stored(session).values()] == [datetime(2027, 3, 1, 9, tzinfo=UTC)]
    assert len(report.skipped) == 1 and "Le 30 février" in report.skipped[0] and "jamais" in report.skipped[0]


# All-day events ----------------------------------------------------------------------------------

ALL_DAY = calendar(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Partenaire//FR",
    "BEGIN:VEVENT",
    "UID:holidays@partner",
    "SUMMARY:Vacances du labo",
    "DTSTART;VALUE=DATE:20270724",
    "DTEND:20270817T000000Z",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:fair@partner",
    "SUMMARY:Salon des sciences",
    "DTSTART;VALUE=DATE:20270312",
    "DTEND;TZID=Europe/Paris:20270313T180000",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:weekly-day@partner",
    "SUMMARY:Marché des sciences",
    "DTSTART;VALUE=DATE:20270306",
    "DURATION:PT10H",
    "RRULE:FREQ=WEEKLY;COUNT=2",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_all_day_events_stay_all_day_even_with_a_date_time_end(session, source, run):
    report = run(source, ALL_DAY)
    events = stored(session)
    assert report.skipped == []
    holidays, fair = events["holidays@partner"], events["fair@partner"]
    assert holidays.all_day and fair.all_day
    # Days start at midnight in Paris; a date-time end is read as the day it names (exclusive end).
    assert (holidays.starts_at, holidays.ends_at) == (
        datetime(2027, 7, 23, 22, tzinfo=UTC),
        datetime(2027, 8, 16, 22, tzinfo=UTC),
    )
    assert (fair.starts_at, fair.ends_at) == (
        datetime(2027, 3, 11, 23, tzinfo=UTC),
        datetime(2027, 3, 13, 23, tzinfo=UTC),
    )
    weekly = sorted((e.starts_at, e.ends_at, e.all_day) for uid, e in events.items() if uid.startswith("weekly-day@"))
    assert weekly == [
        (datetime(2027, 3, 5, 23, tzinfo=UTC), datetime(2027, 3, 6, 23, tzinfo=UTC), True),
        (datetime(2027, 3, 12, 23, tzinfo=UTC), datetime(2027, 3, 13, 23, tzinfo=UTC), True),
    ]
