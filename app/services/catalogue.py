"""The catalogue: finding resources, and the admins' care of categories and resources."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.db import write_transaction
from app.models import Category, Resource, User
from app.services import audit
from app.services.availability import free_between_clause
from app.services.errors import Conflict, Forbidden, NotFound, RuleViolation


@dataclass(frozen=True)
class ResourceFilter:
    category_id: int | None = None
    departement_code: str | None = None
    free_from: datetime | None = None
    free_until: datetime | None = None
    text: str | None = None
    include_retired: bool = False


def search(session: Session, criteria: ResourceFilter) -> Select:
    """The resources matching the criteria, ordered for display (département, category, name)."""
    query = select(Resource).join(Resource.category)
    if not criteria.include_retired:
        query = query.where(Resource.retired_at.is_(None), Category.retired_at.is_(None))
    if criteria.category_id:
        query = query.where(Resource.category_id == criteria.category_id)
    if criteria.departement_code:
        query = query.where(Resource.departement_code == criteria.departement_code)
    if criteria.text:
        pattern = f"%{criteria.text.lower()}%"
        query = query.where(func.lower(Resource.name).like(pattern) | func.lower(Resource.description).like(pattern))
    if criteria.free_from and criteria.free_until:
        if criteria.free_until <= criteria.free_from:
            raise RuleViolation(_("La fin de la période doit suivre son début."), field="free_until")
        query = query.where(free_between_clause(session, criteria.free_from, criteria.free_until))
    return query.order_by(Resource.departement_code, Category.name, Resource.name, Resource.id)


def get_resource(session: Session, resource_id: int) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound(_("Cette ressource n'existe pas."))
    return resource


def get_category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(_("Cette catégorie n'existe pas."))
    return category


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "categorie"


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(_("Réservé aux administrateurs."))


CATEGORY_FIELDS = (
    "name",
    "name_plural",
    "description",
    "needs_pickup",
    "needs_approval",
    "max_duration_hours",
    "min_lead_hours",
    "max_advance_days",
    "buffer_hours",
    "per_member_limit",
)


def save_category(session: Session, *, actor: User, category: Category | None, now: datetime, **values) -> Category:
    _require_admin(actor)
    with write_transaction(session):
        fields = {name: values[name] for name in CATEGORY_FIELDS}
        if category is None:
            slug = slugify(values["name"])
            if session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
                raise Conflict(_("Une catégorie porte déjà ce nom."), field="name")
            category = Category(slug=slug, **fields)
            session.add(category)
            action = "create"
        else:
            for name, value in fields.items():
                setattr(category, name, value)
            action = "update"
        session.flush()
        audit.record(session, actor=actor, subject_type="category", subject_id=category.id, action=action, now=now)
    return category


def retire_category(session: Session, *, actor: User, category: Category, now: datetime) -> None:
    _require_admin(actor)
    with write_transaction(session):
        category.retired_at = now
        audit.record(session, actor=actor, subject_type="category", subject_id=category.id, action="retire", now=now)


def save_resource(
    session: Session,
    *,
    actor: User,
    resource: Resource | None,
    name: str,
    category: Category,
    departement_code: str,
    description: str,
    now: datetime,
    credentials_encrypted: str | None = None,
) -> Resource:
    _require_admin(actor)
    if category.retired_at is not None:
        raise RuleViolation(_("Cette catégorie est retirée."), field="category")
    with write_transaction(session):
        values = {
            "name": name,
            "category_id": category.id,
            "departement_code": departement_code,
            "description": description,
        }
        if credentials_encrypted is not None:
            values["credentials_encrypted"] = credentials_encrypted
        if resource is None:
            resource = Resource(created_at=now, **values)
            session.add(resource)
            action = "create"
        else:
            for field, value in values.items():
                setattr(resource, field, value)
            action = "update"
        session.flush()
        audit.record(session, actor=actor, subject_type="resource", subject_id=resource.id, action=action, now=now)
    return resource


def set_retired(session: Session, *, actor: User, resource: Resource, retired: bool, now: datetime) -> None:
    """A retired resource stays in history and calendars but can no longer be booked."""
    _require_admin(actor)
    with write_transaction(session):
        resource.retired_at = now if retired else None
        audit.record(
            session,
            actor=actor,
            subject_type="resource",
            subject_id=resource.id,
            action="retire" if retired else "reinstate",
            now=now,
        )
