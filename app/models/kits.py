"""Kits: what a live needs, booked as one (a camera, a microphone, a light, a tripod)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.people import Departement, User
from app.models.resources import Category, Resource
from app.models.types import UTCDateTime


class Kit(Model):
    """Defined by an admin: lines that are a given item, or N units of a category."""

    __tablename__ = "kits"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # When set, every unit is taken in this département (a kit kept together).
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    departement: Mapped[Departement | None] = relationship()
    lines: Mapped[list[KitLine]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="KitLine.position"
    )


class KitLine(Model):
    __tablename__ = "kit_lines"
    __table_args__ = (
        CheckConstraint("(resource_id IS NULL) <> (category_id IS NULL)", name="item_or_category"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kit_id: Mapped[int] = mapped_column(ForeignKey("kits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)

    resource: Mapped[Resource | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")


class KitBooking(Model):
    """One booking of a kit: its items' bookings point here and move together."""

    __tablename__ = "kit_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kit_id: Mapped[int] = mapped_column(ForeignKey("kits.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    kit: Mapped[Kit] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")
