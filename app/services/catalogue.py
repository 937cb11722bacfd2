"""The catalogue: finding resources, and the admins' care of categories and resources."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from app.db import DbSession
from app.models import Category, PickupPoint, Resource
from app.services import audit, credentials, pickup
from app.services.availability import free_between_clause
from app.services.context import ServiceContext
from app.services.errors import Conflict, NotFound, RuleViolation


@dataclass(frozen=True)
class ResourceFilter:
    category_id: int | None = None
    departement_code: str | None = None
    free_from: datetime | None = None
    free_until: datetime | None = None
    text: str | None = None
    include_retired: bool = False


def search(session: DbSession, criteria: ResourceFilter) -> Select[Resource]:
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


def search_page(
    session: DbSession, criteria: ResourceFilter, *, page: int, per_page: int
) -> tuple[list[Resource], int]:
    """One page of `search` and how many match in all, from one statement: the total is a
    window count over the same rows, so "free between" is worked out once, not once for the
    page and again for a count."""
    total = func.count().over().label("total")
    query = search(session, criteria).add_columns(total).limit(per_page).offset((page - 1) * per_page)
    rows = session.execute(query).unique().all()
    if rows:
        return [row[0] for row in rows], rows[0].total
    if page == 1:
        return [], 0
    # Past the last page (an old link): nothing to show, but the pager still needs the total.
    return [], session.scalar(select(func.count()).select_from(search(session, criteria).subquery())) or 0


def free_between(
    session: DbSession,
    starts_at: datetime,
    ends_at: datetime,
    *,
    category_id: int | None = None,
    departement_code: str | None = None,
) -> list[Resource]:
    """The bookable resources free over [starts_at, ends_at) — nothing holding them, their
    category's buffer included, no closure, in service — in catalogue order, in one query."""
    criteria = ResourceFilter(
        category_id=category_id, departement_code=departement_code, free_from=starts_at, free_until=ends_at
    )
    return list(session.scalars(search(session, criteria)).unique())


def get_resource(session: DbSession, resource_id: int) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound(_("Cette ressource n'existe pas."))
    return resource


def get_category(session: DbSession, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(_("Cette catégorie n'existe pas."))
    return category


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "categorie"


CATEGORY_FIELDS = (
    "name",
    "name_plural",
    "name_en",
    "name_plural_en",
    "description",
    "needs_pickup",
    "needs_approval",
    "max_duration_hours",
    "min_lead_hours",
    "max_advance_days",
    "buffer_hours",
    "per_member_limit",
    "release_after_minutes",
    "no_show_limit",
    "no_show_window_days",
)
DEFAULT_RELEASE_AFTER_MINUTES = 30
# Added after the others: a caller that does not give them (the demo data) keeps what the
# category has, or the model's defaults for a new one.
_OPTIONAL_CATEGORY_FIELDS = (
    "release_after_minutes",
    "no_show_limit",
    "no_show_window_days",
    "name_en",
    "name_plural_en",
)


def save_category(session: DbSession, ctx: ServiceContext, *, category: Category | None, **values: Any) -> Category:
    ctx.require_admin()
    fields = {name: values[name] for name in CATEGORY_FIELDS if name in values or name not in _OPTIONAL_CATEGORY_FIELDS}
    _check_release_rules(fields)
    if category is None and not fields["needs_pickup"] and "release_after_minutes" not in values:
        fields["release_after_minutes"] = DEFAULT_RELEASE_AFTER_MINUTES  # as the accounts before it (migration 0010)
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
    audit.record(session, ctx, subject_type="category", subject_id=category.id, action=action)
    return category


def _check_release_rules(fields: dict[str, Any]) -> None:
    """Positive numbers or nothing; only an online account is released (nobody reveals an item)."""
    for name, message in (
        ("release_after_minutes", _("Le délai de libération est un nombre de minutes, au moins 1.")),
        ("no_show_limit", _("Le nombre de non-retraits est au moins 1.")),
        ("no_show_window_days", _("La période des non-retraits est un nombre de jours, au moins 1.")),
    ):
        if name in fields and fields[name] is not None and fields[name] < 1:
            raise RuleViolation(message, field=name)
    if "no_show_window_days" in fields and fields["no_show_window_days"] is None:
        del fields["no_show_window_days"]  # left empty: the default (or what it was) stays
    if fields.get("needs_pickup") and "release_after_minutes" in fields:
        fields["release_after_minutes"] = None


def retire_category(session: DbSession, ctx: ServiceContext, *, category: Category) -> None:
    ctx.require_admin()
    category.retired_at = ctx.now
    audit.record(session, ctx, subject_type="category", subject_id=category.id, action="retire")


def save_resource(
    session: DbSession,
    ctx: ServiceContext,
    *,
    resource: Resource | None,
    name: str,
    category: Category,
    departement_code: str,
    description: str,
    contents: str = "",
    pickup_point_id: int | None = None,
    account_login: str | None = None,
    account_password: str | None = None,
) -> Resource:
    """Create or edit a resource; a shared account's login is encrypted here, and only accounts have one.

    A physical item is kept at the chosen pickup point of its département, else at its
    département's store unless it already has a point there; a new one gets its printable
    inventory code ("34-0012")."""
    ctx.require_admin()
    if category.retired_at is not None:
        raise RuleViolation(_("Cette catégorie est retirée."), field="category")
    values: dict[str, Any] = {
        "name": name,
        "category_id": category.id,
        "departement_code": departement_code,
        "description": description,
        "contents": "\n".join(line.strip() for line in contents.splitlines() if line.strip()),
    }
    if not category.needs_pickup:
        values["pickup_point_id"] = None
    elif pickup_point_id is not None:
        chosen = session.get(PickupPoint, pickup_point_id)
        if chosen is None or chosen.departement_code != departement_code:
            raise RuleViolation(_("Choisissez un lieu de retrait du département de l'objet."), field="pickup_point")
        values["pickup_point_id"] = chosen.id
    elif (
        resource is None or resource.pickup_point is None or resource.pickup_point.departement_code != departement_code
    ):
        store = pickup.store_of(session, departement_code)
        values["pickup_point_id"] = store.id if store is not None else None
    encrypted = credentials.set_login(
        ctx, resource, needs_pickup=category.needs_pickup, login=account_login, password=account_password
    )
    if encrypted is not None:
        values["credentials_encrypted"] = encrypted
    if resource is None:
        resource = Resource(created_at=ctx.now, **values)
        session.add(resource)
        action = "create"
    else:
        for field, value in values.items():
            setattr(resource, field, value)
        action = "update"
    session.flush()
    if resource.inventory_code is None:
        resource.inventory_code = f"{resource.departement_code}-{resource.id:04d}"
        session.flush()
    audit.record(session, ctx, subject_type="resource", subject_id=resource.id, action=action)
    return resource


def set_retired(session: DbSession, ctx: ServiceContext, *, resource: Resource, retired: bool) -> None:
    """A retired resource stays in history and calendars but can no longer be booked."""
    ctx.require_admin()
    resource.retired_at = ctx.now if retired else None
    audit.record(
        session, ctx, subject_type="resource", subject_id=resource.id, action="retire" if retired else "reinstate"
    )
