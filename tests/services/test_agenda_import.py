"""Importing partners' calendars: what is valid comes in, what is not is reported, nothing is damaged."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import AgendaEvent, AgendaSource
from app.services import agenda_import

PARIS = ZoneInfo("Europe/Paris")
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "ics-corpus"
NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def ics(*events: str, extra: str = "") -> bytes:
    body = "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Partenaire//FR", extra, *events, "END:VCALENDAR", ""]
    )
    return "\r\n".join(line for line in body.split("\r\n") if line).encode("utf-8") + b"\r\n"


def vevent(uid: str, summary: str, start: str, end: str | None = None, *lines: str) -> str:
    parts = ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{summary}", f"DTSTART{start}"]
    if end:
        parts.append(f"DTEND{end}")
    return "\r\n".join([*parts, *lines, "END:VEVENT"])


PARIS_TZ = "\r\n".join(
    [
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Paris",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "TZNAME:CEST",
        "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "TZNAME:CET",
        "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
)


@pytest.fixture
def source(session):
    found = AgendaSource(name="Science Animation", trusted=False, departement_code="31")
    session.add(found)
    session.commit()
    return found


def run(session, source, data: bytes, now=NOW):
    return agenda_import.import_bytes(session, source=source, data=data, now=now, zone=PARIS)


def events(session) -> dict[str, AgendaEvent]:
    session.expire_all()
    return {e.source_uid: e for e in session.scalars(select(AgendaEvent))}


def test_each_style_of_event_comes_in_at_the_right_time(session, source):
    long_title = "Nuit des étoiles au pic du Midi : observation, conférences et ateliers pour toute la famille — " * 2
    data = ics(
        vevent("allday@p", "Fête de la science", ";VALUE=DATE:20270312", ";VALUE=DATE:20270314"),
        vevent("tzid@p", "Conférence", ";TZID=Europe/Paris:20270315T183000", ";TZID=Europe/Paris:20270315T200000"),
        vevent("utc@p", "Atelier", ":20270316T090000Z", ":20270316T110000Z"),
        vevent("floating@p", "Visite", ":20270317T140000", ":20270317T160000"),
        vevent(
            "weekly@p",
            "Club sciences",
            ";TZID=Europe/Paris:20270301T170000",
            ";TZID=Europe/Paris:20270301T180000",
            "RRULE:FREQ=WEEKLY;COUNT=4",
            "EXDATE;TZID=Europe/Paris:20270308T170000",
        ),
        vevent("long@p", long_title.strip(), ":20270320T200000Z", ":20270320T230000Z"),
        extra=PARIS_TZ,
    )
    report = run(session, source, data)
    assert report.error is None and report.skipped == []
    stored = events(session)
    assert report.created == len(stored) == 5 + 3
    assert stored["allday@p"].all_day and stored["allday@p"].starts_at == datetime(2027, 3, 11, 23, tzinfo=UTC)
    assert stored["tzid@p"].starts_at == datetime(2027, 3, 15, 17, 30, tzinfo=UTC)
    assert stored["utc@p"].starts_at == datetime(2027, 3, 16, 9, tzinfo=UTC)
    assert stored["floating@p"].starts_at == datetime(2027, 3, 17, 13, tzinfo=UTC)  # read as Paris time
    weekly = sorted(e.starts_at for uid, e in stored.items() if uid.startswith("weekly@p#"))
    assert weekly == [datetime(2027, 3, d, 16, tzinfo=UTC) for d in (1, 15, 22)]  # the 8th is excluded
    assert stored["long@p"].title.startswith("Nuit des étoiles au pic du Midi")
    assert {e.status for e in stored.values()} == {"proposed"}  # an untrusted source waits for moderation


def test_a_second_import_updates_by_uid_and_marks_what_disappeared_cancelled(session, source):
    first = ics(
        vevent("a@p", "Café des sciences", ":20270310T180000Z", ":20270310T200000Z"),
        vevent("b@p", "Balade nature", ":20270311T090000Z", ":20270311T120000Z"),
    )
    run(session, source, first)
    before = events(session)
    second = ics(vevent("a@p", "Café des sciences (nouvelle salle)", ":20270310T183000Z", ":20270310T203000Z"))
    report = run(session, source, second, now=NOW + timedelta(days=1))
    assert (report.created, report.updated, report.cancelled) == (0, 1, 1)
    after = events(session)
    assert after["a@p"].id == before["a@p"].id and after["a@p"].title == "Café des sciences (nouvelle salle)"
    assert after["a@p"].sequence == 1
    assert after["b@p"].status == "cancelled"  # kept, never silently deleted
    again = run(session, source, second, now=NOW + timedelta(days=2))
    assert (again.created, again.updated, again.cancelled, again.unchanged) == (0, 0, 0, 1)


def test_a_trusted_source_publishes_at_once(session, source):
    source.trusted = True
    session.commit()
    run(session, source, ics(vevent("t@p", "Conférence", ":20270310T180000Z", ":20270310T200000Z")))
    assert events(session)["t@p"].status == "published"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe" + "BEGIN:VCALENDAR".encode("utf-16-le"), "UTF-8"),
        ("BEGIN:VCALENDAR\r\nSUMMARY:Fête\r\n".encode("latin-1"), "UTF-8"),
        (b"this is not a calendar at all", "illisible"),
        (b"BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:y\r\nDTSTART:20270101T000000Z\r\nEND:VEVENT\r\n", "pas un calendrier"),
        (b"BEGIN:VCALENDAR\r\n" + b"X-FILL:" + b"a" * (3 * 1024 * 1024) + b"\r\nEND:VCALENDAR\r\n", "trop volumineux"),
    ],
)
def test_a_bad_file_gives_a_clear_report_and_changes_nothing(session, source, data, message):
    run(session, source, ics(vevent("keep@p", "À garder", ":20270310T180000Z", ":20270310T200000Z")))
    kept = events(session)["keep@p"]
    report = run(session, source, data, now=NOW + timedelta(hours=1))
    assert message in report.error
    after = events(session)
    assert list(after) == ["keep@p"] and after["keep@p"].status == kept.status and after["keep@p"].sequence == 0
    session.expire_all()
    assert message in session.get(AgendaSource, source.id).last_report


def test_a_hostile_rule_is_capped(session, source):
    data = ics(vevent("storm@p", "Chaque minute", ":20270101T000000Z", ":20270101T000100Z", "RRULE:FREQ=MINUTELY"))
    report = run(session, source, data)
    assert len(events(session)) == agenda_import.MAX_OCCURRENCES
    assert any("occurrences" in problem for problem in report.skipped)


def test_one_unreadable_event_is_skipped_alone(session, source):
    data = ics(
        vevent("ok@p", "Atelier", ":20270316T090000Z", ":20270316T110000Z"),
        vevent("bad@p", "Règle cassée", ";TZID=Europe/Paris:20270301T170000", None, "RRULE:FREQ=WEEKLY;UNTL=2027"),
        vevent("nodate@p", "Sans date", ":INVALID-DATE"),
        "BEGIN:VEVENT\r\nUID:notitle@p\r\nDTSTART:20270316T090000Z\r\nEND:VEVENT",
    )
    report = run(session, source, data)
    assert set(events(session)) == {"ok@p"}
    assert len(report.skipped) == 3


@pytest.mark.skipif(not CORPUS.exists(), reason="shared/ics-corpus is not beside the project")
@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.ics")) if CORPUS.exists() else [], ids=lambda p: p.name)
def test_every_file_of_the_corpus_imports_or_is_reported_without_damage(session, source, path):
    run(session, source, ics(vevent("keep@p", "À garder", ":20270310T180000Z", ":20270310T200000Z")))
    other = AgendaSource(name="Autre", trusted=True)
    session.add(other)
    session.commit()
    # A wide window, so that the corpus's old events are expanded too.
    occurrences, problems, error = agenda_import.parse(
        path.read_bytes(),
        window_start=datetime(2005, 1, 1, tzinfo=UTC),
        window_end=datetime(2030, 1, 1, tzinfo=UTC),
        zone=PARIS,
    )
    report = agenda_import.import_bytes(session, source=other, data=path.read_bytes(), now=NOW, zone=PARIS)
    if path.name.startswith("broken-") or path.name.startswith("bare-"):
        assert error or problems, "a broken file must be reported"
    if path.name in {"google-export-german-public-feed-crlf.ics", "thunderbird-radicale-europe-paris-exdates.ics"}:
        assert error is None and occurrences
    assert report.error == error
    kept = events(session)["keep@p"]
    assert kept.title == "À garder" and kept.status == "proposed" and kept.sequence == 0
