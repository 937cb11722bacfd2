"""An import that cannot be made to swell or spin: expansion is bounded before it starts, one
runaway series stops alone, and the reading of a fetched file runs apart within a budget.

The cost of expanding is counted as the occurrences dateutil computes (before the window
included), not timed: the same on every machine.
"""

import tracemalloc
from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil import rrule as dateutil_rrule
from sqlalchemy import select

from app import jobs
from app.db import unit_of_work
from app.models import AgendaEvent, AgendaSource
from app.services import agenda_import
from app.services.errors import Forbidden
from tests.factories import NOW

PARIS = NOW.astimezone(agenda_import.ZoneInfo("Europe/Paris")).tzinfo


def calendar(*events: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Partenaire//FR", *events, "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode("utf-8")


def event(uid: str, start: str, *lines: str, summary: str | None = None) -> str:
    return "\r\n".join(
        ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{summary or uid}", f"DTSTART{start}", *lines, "END:VEVENT"]
    )


# 226 bytes that once made the import's memory grow by 15 MB a second until the worker was killed.
STORM = event("storm@p", ":20200101T000000Z", "DTEND:20200101T000001Z", "RRULE:FREQ=SECONDLY", summary="Chaque seconde")
AFTER_THE_STORM = [
    event("cafe@p", ":20270310T180000Z", "DTEND:20270310T200000Z", summary="Café des sciences"),
    event("club@p", ";TZID=Europe/Paris:20270301T170000", "RRULE:FREQ=WEEKLY;COUNT=4", summary="Club sciences"),
]


@pytest.fixture
def source(session):
    found = AgendaSource(name="Partenaire", trusted=True, departement_code="31")
    session.add(found)
    session.commit()
    return found


@pytest.fixture
def run(session, ctx):
    def import_file(source, data: bytes, now=NOW):
        with unit_of_work(session):
            return agenda_import.import_bytes(session, ctx(now=now), source=source, data=data)

    return import_file


@pytest.fixture
def computed(monkeypatch):
    """How many occurrences dateutil computes, whatever the import keeps of them."""
    count = {"n": 0}
    original = dateutil_rrule.rrule._iter

    def counting(self):
        for found in original(self):
            count["n"] += 1
            yield found

    monkeypatch.setattr(dateutil_rrule.rrule, "_iter", counting)
    return count


def stored(session) -> dict[str, AgendaEvent]:
    session.expire_all()
    return {e.source_uid: e for e in session.scalars(select(AgendaEvent))}


def test_a_rule_repeating_every_second_since_2020_costs_next_to_nothing_and_the_rest_of_the_file_comes_in(
    session, source, run, computed
):
    tracemalloc.start()
    try:
        report = run(source, calendar(STORM, *AFTER_THE_STORM))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    events = stored(session)
    # Expanded from 2020 it would compute some 220 million occurrences before the window even starts.
    assert computed["n"] < 20_000
    assert peak < 64 * 1024 * 1024
    storm = sorted(e.starts_at for uid, e in events.items() if uid.startswith("storm@p#"))
    assert len(storm) == agenda_import.MAX_OCCURRENCES
    assert storm[0] >= NOW and storm[1] - storm[0] == timedelta(seconds=1)  # its first seconds from now on
    assert "cafe@p" in events and len([uid for uid in events if uid.startswith("club@p#")]) == 4
    [warning] = report.skipped
    assert "Chaque seconde" in warning and str(agenda_import.MAX_OCCURRENCES) in warning


def test_a_dense_rule_that_cannot_be_moved_forward_is_refused_alone_without_being_expanded(
    session, source, run, computed
):
    dense = event("dense@p", ":20200101T000000Z", "RRULE:FREQ=SECONDLY;BYMONTH=1,2,3", summary="Trop serré")
    report = run(source, calendar(dense, *AFTER_THE_STORM))
    events = stored(session)
    assert computed["n"] < 20_000
    assert not [uid for uid in events if uid.startswith("dense@p")]
    assert "cafe@p" in events and len([uid for uid in events if uid.startswith("club@p#")]) == 4
    [warning] = report.skipped
    assert "Trop serré" in warning and "FREQ=SECONDLY" in warning and "2020-01-01" in warning


def test_old_rules_are_moved_forward_to_the_window_and_give_exactly_the_same_occurrences(
    session, source, run, computed
):
    data = calendar(
        # Floating, since the year 1: at 10:00 in Paris every day, summer and winter.
        event("daily@p", ":00010101T100000", "DTEND:00010101T110000", "RRULE:FREQ=DAILY"),
        # Weekdays in Paris since 1970, across every change of clocks since.
        event(
            "weekdays@p",
            ";TZID=Europe/Paris:19700105T083000",
            "DTEND;TZID=Europe/Paris:19700105T090000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
        ),
        # Ten thousand days from 2000: the COUNT still ends it on the right day.
        event("counted@p", ";VALUE=DATE:20000101", "RRULE:FREQ=DAILY;COUNT=10000"),
    )
    report = run(source, data)
    events = stored(session)
    assert report.skipped == [] and computed["n"] < 20_000
    daily = sorted(e.starts_at for uid, e in events.items() if uid.startswith("daily@p#"))
    assert len(daily) == 365
    assert {d.astimezone(PARIS).time().isoformat() for d in daily} == {"10:00:00"}
    weekdays = sorted(e.starts_at.astimezone(PARIS) for uid, e in events.items() if uid.startswith("weekdays@p#"))
    assert {d.strftime("%a %H:%M") for d in weekdays} == {"Mon 08:30", "Wed 08:30"}
    assert len(weekdays) in (104, 105)
    counted = sorted(e.starts_at.astimezone(PARIS).date() for uid, e in events.items() if uid.startswith("counted@p#"))
    assert counted[-1] == date(2000, 1, 1) + timedelta(days=9999)
    assert counted[0] == NOW.date()


def test_one_runaway_series_stops_alone_and_the_file_has_a_cap_of_its_own(session, source, run, monkeypatch):
    monkeypatch.setattr(agenda_import, "MAX_OCCURRENCES", 3)
    monkeypatch.setattr(agenda_import, "MAX_TOTAL_OCCURRENCES", 5)
    data = calendar(
        event("a@p", ":20270201T090000Z", "RRULE:FREQ=DAILY;COUNT=10", summary="Série A"),
        event("b@p", ":20270301T090000Z", "RRULE:FREQ=DAILY;COUNT=10", summary="Série B"),
        event("c@p", ":20270401T090000Z", summary="Événement C"),
    )
    report = run(source, data)
    by_series = {}
    for uid in stored(session):
        by_series[uid.split("#")[0]] = by_series.get(uid.split("#")[0], 0) + 1
    assert by_series == {"a@p": 3, "b@p": 2}
    assert any("Série A" in line and "3 occurrences au plus" in line for line in report.skipped)
    assert any(
        "Plus de 5 occurrences" in line and "Série B" in line and "Événement C" in line for line in report.skipped
    )


def test_thousands_of_extra_dates_are_kept_to_the_cap_without_being_expanded(session, source, run, computed):
    extra = ",".join(f"2027{m:02d}{d:02d}T{h:02d}0000Z" for m in (3, 4, 5) for d in range(1, 29) for h in range(24))
    report = run(source, calendar(event("rdates@p", ":20270301T000000Z", f"RDATE:{extra}", summary="Dates en masse")))
    kept = sorted(e.starts_at for e in stored(session).values())
    assert len(kept) == agenda_import.MAX_OCCURRENCES and kept[0] == datetime(2027, 3, 1, tzinfo=UTC)
    assert computed["n"] <= 2 * agenda_import.MAX_OCCURRENCES
    assert any("Dates en masse" in line for line in report.skipped)


# Reading apart, within a budget ------------------------------------------------------------------


def read_apart(data: bytes, **limits) -> agenda_import.Parsed:
    return agenda_import.parse_isolated(
        data,
        window_start=NOW,
        zone=agenda_import.ZoneInfo("Europe/Paris"),
        locale="fr",
        limits=agenda_import.ImportLimits(**limits),
    )


def test_a_file_read_apart_gives_what_it_gives_when_read_here():
    data = calendar(STORM, *AFTER_THE_STORM)
    apart = read_apart(data)
    here = agenda_import.parse(data, window_start=NOW, zone=agenda_import.ZoneInfo("Europe/Paris"))
    assert apart == here
    assert len(apart[0]) == agenda_import.MAX_OCCURRENCES + 5


def test_a_reading_over_its_memory_budget_is_stopped_and_reported():
    # A budget below what the interpreter already holds: reading a large file needs more memory,
    # which the operating system refuses.
    large = calendar(*(event(f"e{n}@p", ":20270310T180000Z", summary="Atelier " * 20) for n in range(4000)))
    with pytest.raises(agenda_import.ImportFailed, match="Mo de mémoire"):
        read_apart(large, parse_memory=32 * 1024 * 1024)


def test_a_reading_over_its_time_budget_is_killed_and_reported():
    with pytest.raises(agenda_import.ImportFailed, match="dépassé"):
        read_apart(calendar(*AFTER_THE_STORM), parse_seconds=0.01)


def test_an_uploaded_file_is_read_apart_for_an_admin_only_and_a_reading_over_budget_changes_nothing(
    session, source, ctx, make_user
):
    data = calendar(STORM, *AFTER_THE_STORM)
    with pytest.raises(Forbidden):
        jobs.import_file(session, ctx(make_user(hosts=("31",))), source=source, data=data)
    admin = make_user(roles={"admin"})
    late = agenda_import.ImportLimits(parse_seconds=0.01)
    refused = jobs.import_file(session, ctx(admin), source=source, data=data, limits=late)
    assert "dépassé" in refused.error and stored(session) == {}
    report = jobs.import_file(session, ctx(admin), source=source, data=data)
    assert report.error is None and report.created == agenda_import.MAX_OCCURRENCES + 5
    session.expire_all()
    assert agenda_import.load_report(session.get(AgendaSource, source.id)) == report
