"""Writing the audit trail. Callers add the entry inside their own transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry, User


def record(
    session: Session,
    *,
    actor: User | None,
    subject_type: str,
    subject_id: int,
    action: str,
    now: datetime,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        actor_id=actor.id if actor else None,
        subject_type=subject_type,
        subject_id=subject_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
    )
    session.add(entry)
    return entry


def history(session: Session, subject_type: str, subject_id: int) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )
