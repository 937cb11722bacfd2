"""What can be booked: categories with their rules, resources, and blackouts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.people import Departement, User
from app.models.types import UTCDateTime

if TYPE_CHECKING:
    from app.models.loans import PickupPoint


class Category(Model):
    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("max_duration_hours > 0", name="max_duration_positive"),
        CheckConstraint("min_lead_hours >= 0", name="min_lead_not_negative"),
        CheckConstraint("max_advance_days > 0", name="max_advance_positive"),
        CheckConstraint("buffer_hours >= 0", name="buffer_not_negative"),
        CheckConstraint("release_after_minutes IS NULL OR release_after_minutes > 0", name="release_after_positive"),
        CheckConstraint("no_show_limit IS NULL OR no_show_limit > 0", name="no_show_limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_plural: Mapped[str] = mapped_column(String(80))
    # Shown to English readers; empty = the French name.
    name_en: Mapped[str] = mapped_column(String(80), default="", server_default="")
    name_plural_en: Mapped[str] = mapped_column(String(80), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Physical items are handed over and brought back at the host's; accounts are not.
    needs_pickup: Mapped[bool] = mapped_column(Boolean, default=True)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=True)
    max_duration_hours: Mapped[int] = mapped_column(Integer, default=24 * 7)
    min_lead_hours: Mapped[int] = mapped_column(Integer, default=24)
    max_advance_days: Mapped[int] = mapped_column(Integer, default=180)
    buffer_hours: Mapped[int] = mapped_column(Integer, default=0)
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    # Online accounts: a booking whose login was never shown is released this long after its start.
    release_after_minutes: Mapped[int | None] = mapped_column(Integer)
    # After this many no-shows within the window, a member's bookings need the host's approval.
    no_show_limit: Mapped[int | None] = mapped_column(Integer)
    no_show_window_days: Mapped[int] = mapped_column(Integer, default=180, server_default="180")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    resources: Mapped[list[Resource]] = relationship(back_populates="category")

    @property
    def buffer(self) -> timedelta:
        return timedelta(hours=self.buffer_hours)

    @property
    def is_account(self) -> bool:
        return not self.needs_pickup


class Resource(Model):
    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departements.code"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Fernet token of "login\npassword" for shared accounts; see services/credentials.py.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Short and printable, on the item's label ("34-0012"); set by the service when created.
    inventory_code: Mapped[str | None] = mapped_column(String(20), unique=True, index=True)
    # What the item comes with, one line each ("2 batteries"), ticked at pickup and return.
    contents: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Where it is handed over; none for online accounts.
    pickup_point_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_points.id"), index=True)

    category: Mapped[Category] = relationship(back_populates="resources", lazy="joined")
    departement: Mapped[Departement] = relationship(lazy="joined")
    pickup_point: Mapped[PickupPoint | None] = relationship(lazy="joined")

    @property
    def contents_lines(self) -> list[str]:
        return [line.strip() for line in (self.contents or "").splitlines() if line.strip()]

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def hosts(self) -> list[User]:
        return self.departement.hosts


class Blackout(Model):
    """A period when one resource, or a whole département's store, is closed."""

    __tablename__ = "blackouts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("(resource_id IS NULL) <> (departement_code IS NULL)", name="resource_or_departement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"), index=True)
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    resource: Mapped[Resource | None] = relationship()
