"""Bookings of resources, with their states, their transitions and the no-overlap guarantee."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    column,
    event,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.people import User
from app.models.resources import Resource
from app.models.types import ICalTouched, StateEnum, UTCDateTime, state_column


class BookingStatus(StateEnum):
    REQUESTED = "requested", _l("En attente")
    APPROVED = "approved", _l("Validée")
    PICKED_UP = "picked_up", _l("Remise")
    RETURNED = "returned", _l("Rendue")
    REJECTED = "rejected", _l("Refusée")
    CANCELLED = "cancelled", _l("Annulée")
    NO_SHOW = "no_show", _l("Non retirée")
    # Offered to someone on the waitlist: holds the slot for them until they answer or the hold lapses.
    PROPOSED = "proposed", _l("Proposée")
    LAPSED = "lapsed", _l("Expirée")


class Condition(StateEnum):
    OK = "ok", _l("Bon état")
    INCOMPLETE = "incomplete", _l("Incomplet")
    DAMAGED = "damaged", _l("Abîmé")


S = BookingStatus
# A booking in one of these states keeps the resource (buffer included) from anyone else.
HOLDING_STATUSES = (S.PROPOSED, S.REQUESTED, S.APPROVED, S.PICKED_UP)
_HOLDING_LIST = "(" + ", ".join(f"'{state.value}'" for state in HOLDING_STATUSES) + ")"
_HOLDING_SQL = f"status IN {_HOLDING_LIST}"

# The SQLite twin of the exclusion constraint below: an insert or update that would make two
# holding bookings of one resource overlap (buffers included) is aborted, whatever wrote it.
# Instants are stored as ISO text of one fixed width, so text order is time order. The
# migration 0007 creates the same triggers; a batch migration that rebuilds the table must
# create them again. (The SQL is built from constants of this module only, never from input.)
SQLITE_NO_OVERLAP_TRIGGERS = tuple(  # nosec B608
    f"""
    CREATE TRIGGER IF NOT EXISTS bookings_no_overlap_{when}
    BEFORE {what} ON bookings
    WHEN NEW.status IN {_HOLDING_LIST}
    BEGIN
        SELECT RAISE(ABORT, 'ex_bookings_no_overlap: overlapping holding bookings')
        WHERE EXISTS (
            SELECT 1 FROM bookings AS other
            WHERE other.resource_id = NEW.resource_id
              AND other.id IS NOT NEW.id
              AND other.status IN {_HOLDING_LIST}
              AND other.starts_at < NEW.held_until
              AND NEW.starts_at < other.held_until
        );
    END
    """
    for when, what in (("insert", "INSERT"), ("update", "UPDATE OF resource_id, starts_at, held_until, status"))
)


# The SQL side of Booking's phase hybrids (below): functions of the class, for queries.
def _is_late_at_sql(cls: type[Booking], now: datetime) -> ColumnElement[bool]:
    return and_(cls.status == S.PICKED_UP, cls.ends_at <= now)


def _is_current_at_sql(cls: type[Booking], now: datetime) -> ColumnElement[bool]:
    return and_(cls.status.in_(HOLDING_STATUSES), cls.starts_at <= now, cls.ends_at > now)


def _is_upcoming_at_sql(cls: type[Booking], now: datetime) -> ColumnElement[bool]:
    return and_(cls.status.in_(HOLDING_STATUSES), cls.starts_at > now)


def _is_past_at_sql(cls: type[Booking], now: datetime) -> ColumnElement[bool]:
    return and_(~and_(cls.status.in_(HOLDING_STATUSES), cls.ends_at > now), ~_is_late_at_sql(cls, now))


class Booking(ICalTouched, Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("held_until >= ends_at", name="held_until_after_end"),
        # No two holding bookings of one resource overlap, buffers included: the guarantee
        # that holds whatever the code does (created by migration 0002; SQLite: the triggers above).
        ExcludeConstraint(
            (column("resource_id"), "="),
            (func.tstzrange(column("starts_at"), column("held_until"), text("'[)'")), "&&"),
            name="ex_bookings_no_overlap",
            using="gist",
            where=text(_HOLDING_SQL),
        ).ddl_if(dialect="postgresql"),
        # Window reads (a resource's week, month, "free between") scan one resource's range.
        Index("ix_bookings_resource_window", "resource_id", "starts_at", "held_until"),
        # A feed lists what a resource holds from a month ago on: (resource, held until).
        Index("ix_bookings_resource_held_until", "resource_id", "held_until"),
    )

    # Which states each action may start from; the services ask `can(action)` before acting.
    TRANSITIONS: ClassVar[dict[str, tuple[BookingStatus, ...]]] = {
        "approve": (S.REQUESTED,),
        "reject": (S.REQUESTED,),
        "cancel": (S.REQUESTED, S.APPROVED),
        "change": (S.REQUESTED, S.APPROVED),
        "pickup": (S.APPROVED,),
        "return": (S.PICKED_UP,),
        "no_show": (S.APPROVED,),
        "extend": (S.APPROVED, S.PICKED_UP),
        # A waitlist hold: taken by its holder (then requested or approved as any booking),
        # turned down, or let lapse.
        "confirm": (S.PROPOSED,),
        "decline": (S.PROPOSED,),
        "lapse": (S.PROPOSED,),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # End plus the category's turnaround buffer, fixed when the booking is made so that a
    # later rule change never makes two stored bookings overlap.
    held_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[BookingStatus] = mapped_column(
        state_column(BookingStatus, name="status", length=16), default=BookingStatus.REQUESTED, index=True
    )
    purpose: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    condition: Mapped[Condition | None] = mapped_column(state_column(Condition, name="condition", length=16))
    condition_note: Mapped[str | None] = mapped_column(Text)
    # A host let this booking start or end outside the pickup point's opening hours.
    hours_override: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The series this booking is an occurrence of, if it repeats.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("booking_series.id"), index=True)
    # The kit booking this item's booking is part of: they are made, changed and cancelled together.
    kit_booking_id: Mapped[int | None] = mapped_column(ForeignKey("kit_bookings.id"), index=True)

    resource: Mapped[Resource] = relationship(lazy="joined")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    def can(self, action: str) -> bool:
        return self.status in self.TRANSITIONS[action]

    @hybrid_property
    def is_holding(self) -> bool:
        return self.status in HOLDING_STATUSES

    @is_holding.inplace.expression
    @classmethod
    def _is_holding_sql(cls) -> ColumnElement[bool]:
        return cls.status.in_(HOLDING_STATUSES)

    # The phases of a booking at an instant, one definition for "my bookings", the desk and
    # the reminders: late (out past its end), current (running), upcoming, or past. Each reads
    # the same in Python (`booking.is_late_at(now)`) and in SQL (`where(Booking.is_late_at(now))`).
    def _is_late_at(self, now: datetime) -> bool:
        return self.status == S.PICKED_UP and self.ends_at <= now

    is_late_at = hybrid_method(_is_late_at, _is_late_at_sql)

    def _is_current_at(self, now: datetime) -> bool:
        return self.is_holding and self.starts_at <= now < self.ends_at

    is_current_at = hybrid_method(_is_current_at, _is_current_at_sql)

    def _is_upcoming_at(self, now: datetime) -> bool:
        return self.is_holding and self.starts_at > now

    is_upcoming_at = hybrid_method(_is_upcoming_at, _is_upcoming_at_sql)

    def _is_past_at(self, now: datetime) -> bool:
        return not (self.is_holding and self.ends_at > now) and not self._is_late_at(now)

    is_past_at = hybrid_method(_is_past_at, _is_past_at_sql)

    def overlaps(self, starts_at: datetime, held_until: datetime) -> bool:
        return self.starts_at < held_until and starts_at < self.held_until


def _install_sqlite_triggers(target: Any, connection: Any, **_kw: Any) -> None:
    for statement in SQLITE_NO_OVERLAP_TRIGGERS:
        DDL(statement).execute_if(dialect="sqlite")(target, connection)


# For a schema built by create_all (the migrations create them for the real database).
event.listen(Booking.__table__, "after_create", _install_sqlite_triggers)


class Recurrence(StateEnum):
    WEEKLY = "weekly", _l("Chaque semaine")
    MONTHLY_DATE = "monthly_date", _l("Chaque mois, à la même date")
    MONTHLY_WEEKDAY = "monthly_weekday", _l("Chaque mois, le même jour de la semaine (ex. 2e mercredi)")


class BookingSeries(Model):
    """A booking that repeats: each occurrence is a Booking of its own, linked here."""

    __tablename__ = "booking_series"
    __table_args__ = (
        CheckConstraint("interval >= 1", name="interval_positive"),
        CheckConstraint("until_date IS NOT NULL OR occurrences IS NOT NULL", name="bounded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"), index=True)
    recurrence: Mapped[Recurrence] = mapped_column(state_column(Recurrence, name="recurrence", length=20))
    interval: Mapped[int] = mapped_column(Integer, default=1)
    until_date: Mapped[date | None] = mapped_column(Date())
    occurrences: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
