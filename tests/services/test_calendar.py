from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.i18n import NonexistentLocalTime, format_period, from_local
from app.services import calendar as cal
from app.services.availability import BusyPeriod

PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    """A Paris wall-clock time as the instant the database gives back (UTC)."""
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def period(start: datetime, end: datetime, held_until: datetime | None = None, owner_id: int = 1) -> BusyPeriod:
    return BusyPeriod(start, end, held_until or end, "booking", booking_id=1, owner_id=owner_id)


def day_of(weeks, wanted: date):
    return next(day for week in weeks for day in week if day.date == wanted)


def test_a_month_grid_runs_monday_to_sunday_in_whole_weeks():
    weeks = cal.month_grid(2027, 2, PARIS, [], today=date(2027, 2, 3))
    assert all(len(week) == 7 for week in weeks)
    assert weeks[0][0].date == date(2027, 2, 1)  # 1 February 2027 is a Monday
    assert weeks[-1][-1].date == date(2027, 2, 28)
    assert [d.date.weekday() for d in weeks[1]] == list(range(7))
    assert day_of(weeks, date(2027, 2, 3)).is_today


def test_days_outside_the_month_are_marked():
    weeks = cal.month_grid(2026, 10, PARIS, [], today=date(2026, 10, 1))
    assert weeks[0][0].date == date(2026, 9, 28) and not weeks[0][0].in_month
    assert weeks[-1][-1].date == date(2026, 11, 1) and not weeks[-1][-1].in_month


def test_a_loan_across_the_autumn_clock_change_stays_ten_to_ten():
    # Saturday 24 October 2026, 10:00 → Monday 26 October, 10:00; clocks go back on the 25th.
    loan = period(paris(2026, 10, 24, 10), paris(2026, 10, 26, 10))
    assert (loan.ends_at - loan.starts_at).total_seconds() == 49 * 3600  # the Sunday has 25 hours
    weeks = cal.month_grid(2026, 10, PARIS, [loan], today=date(2026, 10, 1))

    [saturday] = day_of(weeks, date(2026, 10, 24)).segments
    [sunday] = day_of(weeks, date(2026, 10, 25)).segments
    [monday] = day_of(weeks, date(2026, 10, 26)).segments
    assert (saturday.starts_at.hour, saturday.starts_at.minute) == (10, 0)
    assert saturday.to_day_end and not saturday.from_day_start  # shown as « dès 10 h 00 »
    assert monday.from_day_start and not monday.to_day_end  # shown as « jusqu'à 10 h 00 »
    assert sunday.whole_day
    assert (monday.ends_at.hour, monday.ends_at.minute) == (10, 0)
    assert monday.starts_at == datetime(2026, 10, 26, 0, tzinfo=PARIS)


def test_a_loan_across_the_spring_clock_change_stays_ten_to_ten():
    loan = period(paris(2027, 3, 27, 10), paris(2027, 3, 29, 10))
    assert (loan.ends_at - loan.starts_at).total_seconds() == 47 * 3600  # the Sunday has 23 hours
    weeks = cal.month_grid(2027, 3, PARIS, [loan], today=date(2027, 3, 1))
    [monday] = day_of(weeks, date(2027, 3, 29)).segments
    assert (monday.ends_at.hour, monday.ends_at.minute) == (10, 0)
    assert day_of(weeks, date(2027, 3, 28)).segments[0].whole_day


def test_the_grid_bounds_are_local_midnights_in_utc():
    start, end = cal.grid_bounds(2026, 10, PARIS)
    assert start == datetime(2026, 9, 27, 22, 0, tzinfo=UTC)  # CEST, UTC+2
    assert end == datetime(2026, 11, 1, 23, 0, tzinfo=UTC)  # 2 Nov 00:00 CET, UTC+1


def test_the_buffer_is_drawn_after_the_booking_as_its_own_segment():
    booking = period(paris(2027, 2, 10, 9), paris(2027, 2, 10, 12), held_until=paris(2027, 2, 11, 12))
    weeks = cal.month_grid(2027, 2, PARIS, [booking], today=date(2027, 2, 1))
    kinds = [s.kind for s in day_of(weeks, date(2027, 2, 10)).segments]
    assert kinds == ["booking", "buffer"]
    assert [s.kind for s in day_of(weeks, date(2027, 2, 11)).segments] == ["buffer"]


def test_the_viewers_own_bookings_are_marked_as_theirs():
    mine = period(paris(2027, 2, 10, 9), paris(2027, 2, 10, 12), owner_id=7)
    theirs = period(paris(2027, 2, 11, 9), paris(2027, 2, 11, 12), owner_id=8)
    weeks = cal.month_grid(2027, 2, PARIS, [mine, theirs], today=date(2027, 2, 1), viewer_id=7)
    assert day_of(weeks, date(2027, 2, 10)).segments[0].mine
    assert not day_of(weeks, date(2027, 2, 11)).segments[0].mine


def test_months_are_parsed_strictly():
    today = date(2027, 1, 15)
    assert cal.parse_month(None, today) == (2027, 1)
    assert cal.parse_month("2027-03", today) == (2027, 3)
    for bad in ("2027-3", "2027-13", "27-03", "abcd-ef", "2027-03-01", "1999-01", "-2027-01"):
        assert cal.parse_month(bad, today) is None, bad
    assert cal.shift_month(2027, 1, -1) == (2026, 12)
    assert cal.shift_month(2026, 12, 1) == (2027, 1)


def test_periods_read_as_a_french_reader_expects(app):
    with app.test_request_context("/"):
        text = format_period(paris(2027, 1, 12, 10), paris(2027, 1, 12, 12))
    assert text == "mardi 12 janvier 2027, 10\u00a0h\u00a000 – 12\u00a0h\u00a000"


def test_wall_clock_times_become_utc_instants_and_skipped_times_are_refused():
    assert from_local(datetime(2027, 1, 12, 10), PARIS) == datetime(2027, 1, 12, 9, tzinfo=UTC)
    assert from_local(datetime(2027, 7, 12, 10), PARIS) == datetime(2027, 7, 12, 8, tzinfo=UTC)
    # 02:30 on 28 March 2027 does not exist in Paris.
    try:
        from_local(datetime(2027, 3, 28, 2, 30), PARIS)
    except NonexistentLocalTime:
        pass
    else:
        raise AssertionError("a skipped time was accepted")
