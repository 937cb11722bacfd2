"""The regional agenda of science events, and the partners' calendars it imports."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.people import Departement, Organisation
from app.models.types import ICalTouched, StateEnum, UTCDateTime, state_column


class EventStatus(StateEnum):
    PROPOSED = "proposed", _l("À relire")
    PUBLISHED = "published", _l("Publié")
    REFUSED = "refused", _l("Refusé")
    CANCELLED = "cancelled", _l("Annulé")


V = EventStatus


class AgendaTheme(Model):
    __tablename__ = "agenda_themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    # Shown to English readers; empty = the French name.
    name_en: Mapped[str] = mapped_column(String(80), default="", server_default="")


event_themes = Table(
    "agenda_event_themes",
    db.metadata,
    Column("event_id", ForeignKey("agenda_events.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("agenda_themes.id"), primary_key=True),
)


class AgendaSource(Model):
    """A partner's public calendar (an address fetched daily, or files uploaded by an admin)."""

    __tablename__ = "agenda_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    url: Mapped[str | None] = mapped_column(String(1000))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"))
    # Events from a trusted source are published at once; others wait for moderation.
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_report: Mapped[str | None] = mapped_column(Text)  # JSON, see services/agenda_import.py

    organisation: Mapped[Organisation | None] = relationship()


class AgendaEvent(ICalTouched, Model):
    __tablename__ = "agenda_events"
    __table_args__ = (
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        UniqueConstraint("source_id", "source_uid", name="uq_agenda_events_source_uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    organiser_name: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"), index=True)
    town: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str | None] = mapped_column(String(1000))
    # Space-separated: scolaires, grand_public, neophytes, amateurs.
    audiences: Mapped[str] = mapped_column(String(100), default="")
    region_supported: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign: Mapped[str | None] = mapped_column(String(10))  # "rentree" or "ete"
    status: Mapped[EventStatus] = mapped_column(state_column(EventStatus, name="status", length=10), index=True)
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_sources.id"), index=True)
    source_uid: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    departement: Mapped[Departement | None] = relationship(lazy="joined")
    themes: Mapped[list[AgendaTheme]] = relationship(secondary=event_themes, lazy="selectin")

    # Which states each moderation action may start from.
    TRANSITIONS: ClassVar[dict[str, tuple[EventStatus, ...]]] = {
        "publish": (V.PROPOSED, V.REFUSED),
        "refuse": (V.PROPOSED,),
        "cancel": (V.PROPOSED, V.PUBLISHED),
        # Back in a partner's calendar after the import marked it gone: only the import reopens.
        "reopen": (V.CANCELLED,),
    }

    def can(self, action: str) -> bool:
        return self.status in self.TRANSITIONS[action]

    @hybrid_property
    def is_public(self) -> bool:
        return self.status in (V.PUBLISHED, V.CANCELLED)

    @is_public.inplace.expression
    @classmethod
    def _is_public_sql(cls) -> ColumnElement[bool]:
        return cls.status.in_((V.PUBLISHED, V.CANCELLED))
