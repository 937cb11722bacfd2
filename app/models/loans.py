"""Where and when items are handed over, what a handover recorded, and items out of service."""

from __future__ import annotations

import json
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.bookings import Booking, Condition
from app.models.people import Departement, User
from app.models.types import StateEnum, UTCDateTime, state_column


class PickupPoint(Model):
    """A place where a host keeps items: each département's store, or another place of theirs.

    Items are handed over and brought back there, within its opening hours (none recorded:
    by appointment with the host)."""

    __tablename__ = "pickup_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departements.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(Text, default="")
    access_notes: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")

    departement: Mapped[Departement] = relationship(lazy="joined")
    # Loaded when asked for: lists and feeds name the point without its hours.
    hours: Mapped[list[OpeningHours]] = relationship(
        cascade="all, delete-orphan", order_by="(OpeningHours.weekday, OpeningHours.opens_at)"
    )
    closing_days: Mapped[list[ClosingDay]] = relationship(cascade="all, delete-orphan", order_by="ClosingDay.day")


class OpeningHours(Model):
    """One opening span of a weekday (Monday is 0), in the site's time zone."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_in_week"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_point_id: Mapped[int] = mapped_column(ForeignKey("pickup_points.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[time] = mapped_column(Time())
    closes_at: Mapped[time] = mapped_column(Time())


class ClosingDay(Model):
    """A day the pickup point is closed although its weekday has hours (a holiday)."""

    __tablename__ = "closing_days"
    __table_args__ = (UniqueConstraint("pickup_point_id", "day", name="uq_closing_days_point_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_point_id: Mapped[int] = mapped_column(ForeignKey("pickup_points.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date())
    reason: Mapped[str] = mapped_column(String(200), default="")


class HandoverKind(StateEnum):
    PICKUP = "pickup", _l("Remise")
    RETURN = "return", _l("Retour")


class Handover(Model):
    """What the host recorded when an item left or came back, and the borrower's confirmation.

    One live record per booking and kind; an undone one stays, marked, for the history.
    """

    __tablename__ = "handovers"
    __table_args__ = (
        Index(
            "uq_handovers_live",
            "booking_id",
            "kind",
            unique=True,
            sqlite_where=text("undone_at IS NULL"),
            postgresql_where=text("undone_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    kind: Mapped[HandoverKind] = mapped_column(state_column(HandoverKind, name="kind", length=10))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The contents lines the host ticked, as a JSON list of strings.
    checked_json: Mapped[str] = mapped_column(Text, default="[]")
    condition: Mapped[Condition] = mapped_column(state_column(Condition, name="condition", length=16))
    note: Mapped[str] = mapped_column(Text, default="")
    # A generated file name under instance/uploads/, never the name the browser sent.
    photo: Mapped[str | None] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    booking: Mapped[Booking] = relationship(lazy="joined")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id], lazy="joined")
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def checked(self) -> list[str]:
        value = json.loads(self.checked_json or "[]")
        return [str(line) for line in value] if isinstance(value, list) else []

    @checked.setter
    def checked(self, lines: list[str]) -> None:
        self.checked_json = json.dumps(list(lines), ensure_ascii=False)


class OutOfService(Model):
    """A period an item cannot be booked (broken, incomplete, in repair); open until it is back.

    The database refuses a holding booking over it on both databases (migration 0008), as it
    refuses overlapping bookings."""

    __tablename__ = "out_of_service"
    __table_args__ = (CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The return that revealed the problem, when there was one.
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"))

    repairs: Mapped[list[RepairNote]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RepairNote.at"
    )

    def covers(self, starts_at: datetime, held_until: datetime) -> bool:
        return self.starts_at < held_until and (self.ends_at is None or starts_at < self.ends_at)


class RepairNote(Model):
    """One line of an item's repair log."""

    __tablename__ = "repair_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    out_of_service_id: Mapped[int] = mapped_column(ForeignKey("out_of_service.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text)

    author: Mapped[User | None] = relationship(lazy="joined")
