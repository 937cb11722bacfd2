"""Durations in the words a rule was written in: « 7 jours », never « 168 heures ».

Categories keep their durations in hours; an admin enters them in hours or in days, and a
whole number of days is what they wrote as days (a rule of 48 hours reads « 2 jours », which
says the same)."""

from __future__ import annotations

from flask_babel import ngettext

HOURS_PER_DAY = 24


def in_unit(hours: int) -> tuple[int, str]:
    """(amount, "days") for a whole number of days, else (hours, "hours")."""
    if hours >= HOURS_PER_DAY and hours % HOURS_PER_DAY == 0:
        return hours // HOURS_PER_DAY, "days"
    return hours, "hours"


def to_hours(amount: int, unit: str) -> int:
    return amount * HOURS_PER_DAY if unit == "days" else amount


def words(hours: int) -> str:
    """« 7 jours », « 36 heures », « 1 heure »."""
    amount, unit = in_unit(hours)
    if unit == "days":
        return ngettext("%(num)d jour", "%(num)d jours", amount)
    return ngettext("%(num)d heure", "%(num)d heures", amount)
