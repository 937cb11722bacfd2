"""Languages, and dates and times as a French reader expects them.

« mardi 12 janvier 2027, 10 h 00 – 12 h 00 »: weekday and month in words, 24-hour
clock with « h », Europe/Paris whatever the server's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import support
from babel.dates import format_date as babel_format_date
from flask import current_app, has_app_context, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from wtforms.i18n import messages_path


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI, the scheduler (emails force the person's own)
        return current_app.config["DEFAULT_LOCALE"]
    if request.path.startswith("/api/") and request.path != "/api/docs":  # the docs are a page
        return _api_locale(languages)
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    chosen = session.get("lang")
    if chosen in languages:
        return str(chosen)
    asked = request.args.get("lang")
    if asked in languages:
        return str(asked)
    return str(current_app.config["DEFAULT_LOCALE"])


def _api_locale(languages: tuple[str, ...]) -> str:
    """An API caller's language: Accept-Language, else its token owner's (put in the request's
    environ by app/web/api/auth.py), else the default. Neither the session nor its cookie is read:
    they belong to the pages, and reading them here would tie an API answer to a browser's login."""
    asked = request.accept_languages.best_match(languages)
    if asked:
        return str(asked)
    owner = request.environ.get("lamalle.api_user")
    if owner is not None and owner.locale in languages:
        return str(owner.locale)
    return str(current_app.config["DEFAULT_LOCALE"])


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def app_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _lang() -> str:
    try:
        return str(get_locale() or "fr")
    except RuntimeError:
        return "fr"


NBSP = "\u00a0"


def to_local(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    return value.astimezone(zone or app_zone())


def format_day(value: date | datetime, zone: ZoneInfo | None = None) -> str:
    """« mardi 12 janvier 2027 »."""
    if isinstance(value, datetime):
        value = to_local(value, zone).date()
    return babel_format_date(value, "EEEE d MMMM y", locale=_lang())


def format_time(value: datetime, zone: ZoneInfo | None = None) -> str:
    """« 10 h 00 » in French (non-breaking spaces: never « 10 h » on one line and « 00 » on the next),
    « 10:00 » in English."""
    local = to_local(value, zone)
    if _lang() == "fr":
        return f"{local.hour}{NBSP}h{NBSP}{local.minute:02d}"
    return f"{local.hour:02d}:{local.minute:02d}"


def format_datetime(value: datetime, zone: ZoneInfo | None = None) -> str:
    return f"{format_day(value, zone)}, {format_time(value, zone)}"


def format_period(start: datetime, end: datetime, zone: ZoneInfo | None = None) -> str:
    """One day: « mardi 12 janvier 2027, 10 h 00 – 12 h 00 »; several: both ends in full."""
    zone = zone or app_zone()
    if to_local(start, zone).date() == to_local(end, zone).date():
        return f"{format_datetime(start, zone)} – {format_time(end, zone)}"
    return f"{format_datetime(start, zone)} – {format_datetime(end, zone)}"


def format_month(year: int, month: int) -> str:
    """« janvier 2027 »."""
    return babel_format_date(date(year, month, 1), "LLLL y", locale=_lang())


def weekday_name(weekday: int) -> str:
    """« lundi » for 0 … « dimanche » for 6."""
    return babel_format_date(date(2024, 1, 1 + weekday), "EEEE", locale=_lang())


def weekday_names() -> list[str]:
    """Monday first, short: « lun. », « mar. »…"""
    monday = date(2024, 1, 1)  # a Monday
    return [babel_format_date(monday.replace(day=1 + i), "EEE", locale=_lang()) for i in range(7)]


def utcnow() -> datetime:
    """Now, for views and templates (the test clock when one is set); services are given `ctx.now`."""
    if not has_app_context():
        return datetime.now(UTC)
    from app.entry import clock

    return clock()


@cache
def _form_catalogue(locale: str) -> support.NullTranslations:
    """WTForms' own messages (« Ce champ est obligatoire. ») in one language, parsed once."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _FormTranslations:
    """What Flask-WTF asks for WTForms' messages: the request's language, from the cache above."""

    def ugettext(self, string: str) -> str:
        return _form_catalogue(_lang()).ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return _form_catalogue(_lang()).ungettext(singular, plural, n)


FORM_TRANSLATIONS = _FormTranslations()


def _share_form_translations() -> None:
    # Flask-WTF would otherwise load and parse WTForms' catalogue again for every request that
    # builds a form; it takes the one the request already carries (flask_wtf/i18n.py).
    request.wtforms_translations = FORM_TRANSLATIONS  # type: ignore[attr-defined]


def register_filters(app) -> None:
    """What pages and forms read in the reader's language: the date filters of the templates,
    and WTForms' messages, shared by every request of one language."""
    app.jinja_env.filters.update(
        day=format_day,
        time=format_time,
        datetime=format_datetime,
        period=lambda start, end: format_period(start, end),
    )
    app.before_request(_share_form_translations)


class UnusableLocalTime(ValueError):
    """A wall-clock time that names no instant the app can use."""


class NonexistentLocalTime(UnusableLocalTime):
    """A wall-clock time skipped by the spring change (e.g. 02:30 on the last Sunday of March)."""


class OutOfRangeTime(UnusableLocalTime):
    """A year no booking, training or event can have (0001, 9999): refused before any arithmetic
    or database comparison overflows on it."""


# Wide enough for any past record worth showing and any plan worth making.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100


def from_local(naive: datetime, zone: ZoneInfo | None = None) -> datetime:
    """A wall-clock time entered in a form → the aware UTC instant it names.

    An ambiguous autumn time (02:30 happens twice) is read as its first occurrence; a time
    that does not exist is refused rather than silently moved.
    """
    if not EARLIEST_YEAR <= naive.year <= LATEST_YEAR:
        raise OutOfRangeTime(naive.isoformat())
    zone = zone or app_zone()
    aware = naive.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentLocalTime(naive.isoformat())
    return aware.astimezone(UTC)
