"""Writing the audit trail. Callers add the entry inside their own unit of work."""

from __future__ import annotations

from app.db import DbSession
from app.models import AuditEntry
from app.services.context import ServiceContext


def record(
    session: DbSession,
    ctx: ServiceContext,
    *,
    subject_type: str,
    subject_id: int,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str | None = None,
) -> AuditEntry:
    """Who (ctx.actor; none for the system's own work) did what to which subject, at ctx.now."""
    entry = AuditEntry(
        at=ctx.now,
        actor_id=ctx.actor.id if ctx.actor is not None else None,
        subject_type=subject_type,
        subject_id=subject_id,
        action=action,
        from_state=str(from_state) if from_state is not None else None,
        to_state=str(to_state) if to_state is not None else None,
        note=note,
    )
    session.add(entry)
    return entry
