"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, always aware and in UTC on the Python side.

    PostgreSQL stores it as timestamptz; SQLite has no time zones, so the value is stored
    as naive UTC and given its zone back on load. A naive datetime is refused on the way
    in: a wall-clock time without its zone is the bug that shifts bookings by an hour.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware instant is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StateEnum(enum.StrEnum):
    """A state (or kind) stored as its string value, with the one label every page reads.

    Members are declared as `NAME = "value", _l("Libellé")`: badges, CSV exports, error
    messages and the history all say `member.label`, never a label table of their own.
    """

    label: Any

    def __new__(cls, value: str, label: Any = None) -> StateEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else value
        return member

    def __str__(self) -> str:
        return str(self.value)


def state_column(enum_class: type[StateEnum], *, name: str, length: int) -> SAEnum:
    """A string column (VARCHAR(length), room for new states) holding one of the enum's values,
    refused otherwise by a CHECK constraint named ck_<table>_<name>."""
    return SAEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class ICalTouched:
    """What iCal clients read to take an edit: SEQUENCE grows and LAST-MODIFIED moves with each change."""

    # Grows with every change, for iCal SEQUENCE.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def touch(self, now: datetime) -> None:
        self.sequence = (self.sequence or 0) + 1
        self.updated_at = now
