"""Importing partners' calendars: what is valid comes in, what is not is reported, nothing is damaged.

Only admins (or the scheduled import, acting as nobody) add sources and import; an address
is fetched over http(s) only and reading stops at the size cap.
"""

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import jobs
from app.db import unit_of_work
from app.models import AgendaEvent, AgendaSource, AuditEntry, EventStatus
from app.services import agenda_import
from app.services.errors import Forbidden, RuleViolation
from tests.factories import NOW

PARIS = ZoneInfo("Europe/Paris")
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "ics-corpus"
ON_CI = os.environ.get("CI") == "true"


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


@pytest.fixture
def run(session, ctx):
    """Import a file into a source as the scheduled import does (nobody acting), at `now`."""

    def import_file(source, data: bytes, now=NOW, actor=None):
        with unit_of_work(session):
            return agenda_import.import_bytes(session, ctx(actor, now=now), source=source, data=data)

    return import_file


def events(session) -> dict[str, AgendaEvent]:
    session.expire_all()
    return {e.source_uid: e for e in session.scalars(select(AgendaEvent))}


def test_each_style_of_event_comes_in_at_the_right_time(session, source, run):
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
    report = run(source, data)
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
    assert {e.status for e in stored.values()} == {EventStatus.PROPOSED}  # an untrusted source waits for moderation


def test_a_second_import_updates_by_uid_and_marks_what_disappeared_cancelled(session, source, run):
    first = ics(
        vevent("a@p", "Café des sciences", ":20270310T180000Z", ":20270310T200000Z"),
        vevent("b@p", "Balade nature", ":20270311T090000Z", ":20270311T120000Z"),
    )
    run(source, first)
    before = events(session)
    second = ics(vevent("a@p", "Café des sciences (nouvelle salle)", ":20270310T183000Z", ":20270310T203000Z"))
    report = run(source, second, now=NOW + timedelta(days=1))
    assert (report.created, report.updated, report.cancelled) == (0, 1, 1)
    after = events(session)
    assert after["a@p"].id == before["a@p"].id and after["a@p"].title == "Café des sciences (nouvelle salle)"
    assert after["a@p"].sequence == 1
    assert after["b@p"].status == EventStatus.CANCELLED  # kept, never silently deleted
    assert after["b@p"].updated_at == NOW + timedelta(days=1)
    cancelled = session.scalar(select(AuditEntry).where(AuditEntry.subject_id == after["b@p"].id))
    assert (cancelled.from_state, cancelled.to_state, cancelled.actor_id) == ("proposed", "cancelled", None)
    again = run(source, second, now=NOW + timedelta(days=2))
    assert (again.created, again.updated, again.cancelled, again.unchanged) == (0, 0, 0, 1)


def test_an_event_back_in_the_partners_calendar_comes_back_and_a_refused_one_stays_refused(session, source, run):
    first = ics(
        vevent("a@p", "Café des sciences", ":20270310T180000Z", ":20270310T200000Z"),
        vevent("r@p", "Hors sujet", ":20270311T180000Z", ":20270311T200000Z"),
    )
    run(source, first)
    refused = events(session)["r@p"]
    refused.status = EventStatus.REFUSED
    session.commit()
    run(source, ics(), now=NOW + timedelta(days=1))
    gone = events(session)
    # Cancelling a refused event would show it to the public as "cancelled".
    assert (gone["a@p"].status, gone["r@p"].status) == (EventStatus.CANCELLED, EventStatus.REFUSED)
    report = run(source, first, now=NOW + timedelta(days=2))
    back = events(session)
    assert report.updated == 1 and back["a@p"].status == EventStatus.PROPOSED and back["a@p"].sequence == 2
    assert back["r@p"].status == EventStatus.REFUSED


def test_a_trusted_source_publishes_at_once(session, source, run):
    source.trusted = True
    session.commit()
    run(source, ics(vevent("t@p", "Conférence", ":20270310T180000Z", ":20270310T200000Z")))
    assert events(session)["t@p"].status == EventStatus.PUBLISHED


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
def test_a_bad_file_gives_a_clear_report_and_changes_nothing(session, source, run, data, message):
    run(source, ics(vevent("keep@p", "À garder", ":20270310T180000Z", ":20270310T200000Z")))
    kept = events(session)["keep@p"]
    report = run(source, data, now=NOW + timedelta(hours=1))
    assert message in report.error
    after = events(session)
    assert list(after) == ["keep@p"] and after["keep@p"].status == kept.status and after["keep@p"].sequence == 0
    session.expire_all()
    assert message in session.get(AgendaSource, source.id).last_report


def test_a_hostile_rule_is_capped(session, source, run):
    data = ics(vevent("storm@p", "Chaque minute", ":20270101T000000Z", ":20270101T000100Z", "RRULE:FREQ=MINUTELY"))
    report = run(source, data)
    assert len(events(session)) == agenda_import.MAX_OCCURRENCES
    assert any("occurrences" in problem for problem in report.skipped)


def test_one_unreadable_event_is_skipped_alone(session, source, run):
    data = ics(
        vevent("ok@p", "Atelier", ":20270316T090000Z", ":20270316T110000Z"),
        vevent("bad@p", "Règle cassée", ";TZID=Europe/Paris:20270301T170000", None, "RRULE:FREQ=WEEKLY;UNTL=2027"),
        vevent("nodate@p", "Sans date", ":INVALID-DATE"),
        "BEGIN:VEVENT\r\nUID:notitle@p\r\nDTSTART:20270316T090000Z\r\nEND:VEVENT",
    )
    report = run(source, data)
    assert set(events(session)) == {"ok@p", "notitle@p"}
    assert len(report.skipped) == 2


def _corpus_files() -> list[Path | None]:
    # None stands for "no corpus": the test then fails under CI and skips outside it,
    # rather than vanishing as an empty parametrisation would.
    files = sorted(CORPUS.glob("*.ics")) if CORPUS.is_dir() else []
    return [*files] or [None]


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name if p else "no-corpus")
def test_every_file_of_the_corpus_imports_or_is_reported_without_damage(session, source, run, path):
    if path is None:
        if ON_CI:
            pytest.fail(f"CI=true but the real-world calendar corpus is missing or empty: expected *.ics in {CORPUS}")
        if CORPUS.is_dir():
            pytest.fail(f"The calendar corpus folder {CORPUS} holds no .ics file")
        pytest.skip(f"Outside CI, and the calendar corpus {CORPUS} is not beside the project (CI=true requires it)")
    run(source, ics(vevent("keep@p", "À garder", ":20270310T180000Z", ":20270310T200000Z")))
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
    report = run(other, path.read_bytes())
    if path.name.startswith("broken-") or path.name.startswith("bare-"):
        assert error or problems, "a broken file must be reported"
    if path.name in {"google-export-german-public-feed-crlf.ics", "thunderbird-radicale-europe-paris-exdates.ics"}:
        assert error is None and occurrences
    assert report.error == error
    kept = events(session)["keep@p"]
    assert kept.title == "À garder" and kept.status == EventStatus.PROPOSED and kept.sequence == 0


# Who adds sources and imports --------------------------------------------------------------------


def source_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AgendaSource))


def test_only_an_admin_adds_a_partner_calendar(session, ctx, make_user):
    details = {"name": "Fermat Science", "url": "https://fermat.example.org/agenda.ics", "departement_code": "82"}
    for someone in (None, make_user(), make_user(hosts=("82",))):
        with pytest.raises(Forbidden), unit_of_work(session):
            agenda_import.add_source(session, ctx(someone), trusted=True, **details)
    assert source_count(session) == 0
    admin = make_user(roles={"admin"})
    with unit_of_work(session):
        added = agenda_import.add_source(session, ctx(admin), trusted=True, **details)
    assert source_count(session) == 1 and added.trusted and added.url == details["url"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/agenda.ics", "javascript:alert(1)"])
def test_a_source_address_must_be_http(session, ctx, make_user, url):
    admin = make_user(roles={"admin"})
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        agenda_import.add_source(session, ctx(admin), name="Partenaire", url=url, departement_code=None, trusted=False)
    assert refused.value.field == "url" and source_count(session) == 0


def test_only_an_admin_or_the_scheduled_import_imports_into_a_source(session, source, run, make_user):
    data = ics(vevent("a@p", "Café des sciences", ":20270310T180000Z", ":20270310T200000Z"))
    with pytest.raises(Forbidden):
        run(source, data, actor=make_user(hosts=("31",)))
    assert events(session) == {}
    assert run(source, data, actor=make_user(roles={"admin"})).created == 1


# Fetching an address -----------------------------------------------------------------------------


@dataclass
class Served:
    """What the partner's server under test managed to send."""

    sent: int = 0
    complete: bool = False
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class PartnerServer:
    base: str
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]]

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def partner(monkeypatch, app) -> Iterator[PartnerServer]:
    """A real HTTP server on 127.0.0.1, in a thread, answering the routes a test gives it."""
    monkeypatch.setitem(app.config, "AGENDA_IMPORT_ALLOW_LOOPBACK", True)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            routes[self.path](self)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield PartnerServer(base=f"http://127.0.0.1:{server.server_address[1]}", routes=routes)
    server.shutdown()
    server.server_close()
    thread.join(5)


def source_at(session, url: str) -> AgendaSource:
    # Written directly: add_source would refuse the addresses these tests need.
    found = AgendaSource(name="Partenaire", url=url, trusted=True, departement_code="31")
    session.add(found)
    session.commit()
    return found


def import_address(session, ctx, source: AgendaSource) -> agenda_import.ImportReport:
    """As the daily job and the admin's button do it: fetch first, then a short unit of work."""
    return jobs.import_source(session, ctx(), source=source)


GOOD = ics(vevent("a@p", "Café des sciences", ":20270310T180000Z", ":20270310T200000Z"))


def test_a_partner_address_over_http_is_fetched_and_imported(session, ctx, partner):
    def calendar(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/calendar")
        handler.send_header("Content-Length", str(len(GOOD)))
        handler.end_headers()
        handler.wfile.write(GOOD)

    partner.routes["/agenda.ics"] = calendar
    source = source_at(session, partner.url("/agenda.ics"))
    report = import_address(session, ctx, source)
    assert report.error is None and report.created == 1 and list(events(session)) == ["a@p"]


@pytest.mark.parametrize("scheme", ["file", "ftp"])
def test_an_address_that_is_not_http_is_never_fetched(session, ctx, tmp_path, scheme):
    calendar = tmp_path / "agenda.ics"
    calendar.write_bytes(GOOD)
    url = calendar.as_uri() if scheme == "file" else "ftp://127.0.0.1/agenda.ics"
    source = source_at(session, url)
    report = import_address(session, ctx, source)
    assert "http(s)" in report.error
    assert events(session) == {}
    session.expire_all()
    assert "http(s)" in session.get(AgendaSource, source.id).last_report


def test_a_redirect_to_another_scheme_is_not_followed(session, ctx, partner):
    def elsewhere(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", "ftp://127.0.0.1/agenda.ics")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    partner.routes["/agenda.ics"] = elsewhere
    report = import_address(session, ctx, source_at(session, partner.url("/agenda.ics")))
    assert "http(s)" in report.error and events(session) == {}


def test_reading_an_address_stops_at_the_size_cap(session, ctx, partner):
    served = Served()
    total = 16 * agenda_import.MAX_BYTES  # far more than the sockets' buffers hold

    def flood(handler: BaseHTTPRequestHandler) -> None:
        # No Content-Length: only the reader's own limit can stop it.
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/calendar")
            handler.end_headers()
            chunk = b"BEGIN:VCALENDAR\r\n" + b"X" * 65_000 + b"\r\n"
            while served.sent < total:
                handler.wfile.write(chunk)
                served.sent += len(chunk)
            served.complete = True
        except OSError:
            pass  # the reader hung up: what we want
        finally:
            served.done.set()

    partner.routes["/agenda.ics"] = flood
    source = source_at(session, partner.url("/agenda.ics"))
    report = import_address(session, ctx, source)
    assert "trop volumineux" in report.error and events(session) == {}
    assert served.done.wait(10)
    assert not served.complete and served.sent < total
