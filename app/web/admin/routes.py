"""Administration: people and their roles, categories and their rules, resources."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select

from app import entry, jobs
from app.extensions import db
from app.models import (
    AgendaSource,
    Category,
    Departement,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    PickupPoint,
    Resource,
    TrainingTopic,
    User,
)
from app.services import accounts, agenda, agenda_import, catalogue, durations, outbox, training
from app.services import history as history_svc
from app.services.errors import Conflict, RuleViolation
from app.web.access import admin_required
from app.web.acting import Call, refuse, service_call
from app.web.admin.forms import (
    CategoryForm,
    ResourceForm,
    RolesForm,
    ThemeNamesForm,
    TopicNamesForm,
    english_name_field,
)
from app.web.agenda.forms import SourceForm, UploadForm
from app.web.choices import category_choices, departement_choices
from app.web.forms import ConfirmForm
from app.web.pagination import current_page

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@admin_required
def dashboard():
    pending = db.session.scalar(select(func.count()).select_from(User).where(User.approved_at.is_(None)))
    return render_template(
        "admin/dashboard.html",
        pending=pending,
        users=db.session.scalar(select(func.count()).select_from(User)),
        resources=db.session.scalar(select(func.count()).select_from(Resource).where(Resource.retired_at.is_(None))),
    )


# People ---------------------------------------------------------------------------------


class ListPagination(Pagination):
    """A page of a list already in memory (ids sorted in Python), for the same pager macro."""

    def __init__(self, everything: list[Any], *, page: int, per_page: int) -> None:
        self._everything = everything
        super().__init__(page=page, per_page=per_page, error_out=False)

    def _query_items(self) -> list[Any]:
        return self._everything[self._query_offset : self._query_offset + self.per_page]

    def _query_count(self) -> int:
        return len(self._everything)


def _per_page() -> int:
    return current_app.config["PER_PAGE"]


@bp.route("/users")
@admin_required
def users():
    show = request.args.get("show")
    text = request.args.get("q", "").strip()[:80]
    ids = accounts.sorted_user_ids(db.session, pending_only=show == "pending", text=text)
    pagination = ListPagination(ids, page=current_page(), per_page=_per_page())
    found = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(pagination.items)))}
    pagination.items = [found[user_id] for user_id in pagination.items if user_id in found]
    return render_template("admin/users.html", pagination=pagination, show=show, q=text)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_detail(user_id: int):
    user = accounts.get_user(db.session, user_id)
    form = RolesForm()
    form.host_departements.choices = departement_choices()
    if request.method == "GET":
        form.roles.data = sorted(user.roles - {"member"})
        form.host_departements.data = [d.code for d in user.hosted_departements]
    if form.validate_on_submit():
        with service_call(form) as call:
            codes = form.host_departements.data or []
            chosen = db.session.scalars(select(Departement).where(Departement.code.in_(codes)))
            accounts.set_roles(
                db.session, call.ctx, user=user, roles=form.roles.data or [], host_departements=list(chosen)
            )
        if call.ok:
            flash(_("Rôles enregistrés."), "success")
            return redirect(url_for("admin.user_detail", user_id=user_id))
    history = history_svc.sentences(db.session, entry.for_request(), subject_type="user", subject_id=user_id)
    return render_template("admin/user_detail.html", user=user, form=form, confirm=ConfirmForm(), history=history)


@bp.route("/users/<int:user_id>/approve", methods=["POST"])
@admin_required
def approve_user(user_id: int):
    user = accounts.get_user(db.session, user_id)
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            accounts.approve(db.session, call.ctx, user=user)
        if call.ok:
            flash(_("%(name)s peut maintenant réserver.", name=user.display_name), "success")
    if request.form.get("back") == "list":
        return redirect(url_for("admin.users", show="pending"))
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.route("/organisations/<int:organisation_id>/confirm", methods=["POST"])
@admin_required
def confirm_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            accounts.confirm_organisation(db.session, call.ctx, organisation=organisation)
        if call.ok:
            flash(_("Structure confirmée : elle est proposée à l'inscription."), "success")
    return redirect(url_for("admin.users", show=request.form.get("show") or None))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def set_user_active(user_id: int):
    user = accounts.get_user(db.session, user_id)
    if ConfirmForm().validate_on_submit():
        active = request.form.get("active") == "1"
        with service_call() as call:
            accounts.set_active(db.session, call.ctx, user=user, active=active)
        if call.ok:
            flash(_("Compte réactivé.") if active else _("Compte désactivé."), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


# Categories ------------------------------------------------------------------------------


@bp.route("/categories")
@admin_required
def categories():
    rows = db.session.scalars(select(Category).order_by(Category.retired_at.is_not(None), Category.name))
    return render_template("admin/categories.html", categories=list(rows), confirm=ConfirmForm())


def _category_values(form: CategoryForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "name_plural": form.name_plural.data,
        "name_en": form.name_en.data or "",
        "name_plural_en": form.name_plural_en.data or "",
        "description": form.description.data or "",
        "needs_pickup": form.needs_pickup.data,
        "needs_approval": form.needs_approval.data,
        "max_duration_hours": durations.to_hours(form.max_duration.data or 0, form.max_duration_unit.data),
        "min_lead_hours": durations.to_hours(form.min_lead.data or 0, form.min_lead_unit.data),
        "max_advance_days": form.max_advance_days.data,
        "buffer_hours": form.buffer_hours.data or 0,
        "per_member_limit": form.per_member_limit.data,
        "release_after_minutes": form.release_after_minutes.data,
        "no_show_limit": form.no_show_limit.data,
        "no_show_window_days": form.no_show_window_days.data,
    }


# The longest rules a category may have, whatever unit they are written in.
LONGEST_BOOKING_HOURS = 24 * 90
LONGEST_LEAD_HOURS = 24 * 60


def _durations_fit(form: CategoryForm) -> bool:
    fits = True
    checks = (
        (form.max_duration, form.max_duration_unit, LONGEST_BOOKING_HOURS),
        (form.min_lead, form.min_lead_unit, LONGEST_LEAD_HOURS),
    )
    for amount, unit, longest in checks:
        if durations.to_hours(amount.data or 0, unit.data) > longest:
            amount.errors = [*amount.errors, _("Au plus %(longest)s.", longest=durations.words(longest))]
            fits = False
    return fits


@bp.route("/categories/new", methods=["GET", "POST"], defaults={"category_id": None})
@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@admin_required
def category_form(category_id: int | None):
    category = catalogue.get_category(db.session, category_id) if category_id else None
    form = CategoryForm(obj=category)
    if category is not None and request.method == "GET":
        form.max_duration.data, form.max_duration_unit.data = durations.in_unit(category.max_duration_hours)
        form.min_lead.data, form.min_lead_unit.data = durations.in_unit(category.min_lead_hours)
    if form.validate_on_submit() and _durations_fit(form):
        with service_call(form) as call:
            catalogue.save_category(db.session, call.ctx, category=category, **_category_values(form))
        if call.ok:
            flash(_("Catégorie enregistrée."), "success")
            return redirect(url_for("admin.categories"))
    return render_template("admin/category_form.html", form=form, category=category)


@bp.route("/categories/<int:category_id>/retire", methods=["POST"])
@admin_required
def retire_category(category_id: int):
    category = catalogue.get_category(db.session, category_id)
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            catalogue.retire_category(db.session, call.ctx, category=category)
        if call.ok:
            flash(_("Catégorie retirée : ses ressources ne sont plus réservables."), "success")
    return redirect(url_for("admin.categories"))


# Resources -------------------------------------------------------------------------------


@bp.route("/resources")
@admin_required
def resources():
    query = catalogue.search(
        db.session,
        catalogue.ResourceFilter(
            departement_code=request.args.get("departement") or None,
            text=request.args.get("q", "").strip()[:80] or None,
            include_retired=True,
        ),
    )
    pagination = db.paginate(query, page=current_page(), per_page=_per_page(), error_out=False)
    return render_template("admin/resources.html", pagination=pagination, confirm=ConfirmForm())


@bp.route("/resources/new", methods=["GET", "POST"], defaults={"resource_id": None})
@bp.route("/resources/<int:resource_id>/edit", methods=["GET", "POST"])
@admin_required
def resource_form(resource_id: int | None):
    resource = catalogue.get_resource(db.session, resource_id) if resource_id else None
    form = ResourceForm(obj=resource)
    form.category.choices = category_choices()
    form.departement.choices = departement_choices()
    form.pickup_point.choices = [("", _("Le stock du département"))] + [
        (str(point.id), f"{point.departement_code} – {point.name}")
        for point in db.session.scalars(select(PickupPoint).order_by(PickupPoint.departement_code, PickupPoint.id))
    ]
    if request.method == "GET" and resource is not None:
        form.category.data = str(resource.category_id)
        form.departement.data = resource.departement_code
        form.pickup_point.data = str(resource.pickup_point_id or "")
    if form.validate_on_submit():
        with service_call(form) as call:
            saved = catalogue.save_resource(
                db.session,
                call.ctx,
                resource=resource,
                name=form.name.data or "",
                category=catalogue.get_category(db.session, int(form.category.data)),
                departement_code=form.departement.data,
                description=form.description.data or "",
                contents=form.contents.data or "",
                pickup_point_id=int(form.pickup_point.data) if form.pickup_point.data else None,
                # Encrypted by the service, which also refuses a login on anything but an account.
                account_login=form.account_login.data or None,
                account_password=form.account_password.data or None,
            )
            saved_id = saved.id
        if call.ok:
            flash(_("Ressource enregistrée."), "success")
            return redirect(url_for("catalogue.detail", resource_id=saved_id))
    return render_template("admin/resource_form.html", form=form, resource=resource)


@bp.route("/resources/<int:resource_id>/retire", methods=["POST"])
@admin_required
def retire_resource(resource_id: int):
    resource = catalogue.get_resource(db.session, resource_id)
    if ConfirmForm().validate_on_submit():
        retired = request.form.get("retired", "1") == "1"
        with service_call() as call:
            catalogue.set_retired(db.session, call.ctx, resource=resource, retired=retired)
        if call.ok:
            flash(_("Ressource retirée du catalogue.") if retired else _("Ressource remise au catalogue."), "success")
    return redirect(url_for("admin.resources"))


# Training topics ----------------------------------------------------------------------------


@bp.route("/topics")
@admin_required
def topics():
    return render_template("admin/topics.html", topics=training.topics(db.session, active_only=False))


@bp.route("/topics/new", methods=["GET", "POST"], defaults={"topic_id": None})
@bp.route("/topics/<int:topic_id>/edit", methods=["GET", "POST"])
@admin_required
def topic_form(topic_id: int | None):
    topic = db.session.get(TrainingTopic, topic_id) if topic_id else None
    if topic_id and topic is None:
        abort(404)
    form = TopicNamesForm(obj=topic)
    if form.validate_on_submit():
        with service_call(form) as call:
            training.save_topic(
                db.session,
                call.ctx,
                topic=topic,
                name=form.name.data or "",
                description=form.description.data or "",
                name_en=form.name_en.data or "",
            )
        if call.ok:
            flash(_("Thème enregistré."), "success")
            return redirect(url_for("admin.topics"))
    return render_template("admin/topic_form.html", form=form, topic=topic)


# Agenda themes ---------------------------------------------------------------------------------


def _theme_field(theme_id: int) -> str:
    return f"theme_{theme_id}"


@bp.route("/themes", methods=["GET", "POST"])
@admin_required
def themes():
    """The agenda's themes come with the site; an admin gives each its English name."""
    found = agenda.themes(db.session)

    class Form(ThemeNamesForm):
        pass

    for theme in found:
        setattr(Form, _theme_field(theme.id), english_name_field(theme.name))
    form = Form(data={_theme_field(theme.id): theme.name_en for theme in found})
    if form.validate_on_submit():
        names = {theme.id: form[_theme_field(theme.id)].data or "" for theme in found}
        with service_call(form) as call:
            agenda.name_themes_in_english(db.session, call.ctx, names=names)
        if call.ok:
            flash(_("Noms anglais enregistrés."), "success")
            return redirect(url_for("admin.themes"))
    return render_template("admin/themes.html", form=form)


# Outbox ----------------------------------------------------------------------------------------


@bp.route("/outbox")
@admin_required
def outbox_list():
    counts: dict[OutboxStatus, int] = dict(
        db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    )
    order = (OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.SENT)
    try:
        status = OutboxStatus(request.args["status"])
    except (KeyError, ValueError):
        # The first tab with something in it: failures first, but not an empty table under
        # « Envoyés (13) » when nothing failed.
        status = next((each for each in order if counts.get(each)), OutboxStatus.FAILED)
    query = select(OutboxMessage).where(OutboxMessage.status == status).order_by(OutboxMessage.id.desc())
    pagination = db.paginate(query, page=current_page(), per_page=_per_page(), error_out=False)
    return render_template(
        "admin/outbox.html",
        pagination=pagination,
        status=status,
        statuses=order,
        failed=OutboxStatus.FAILED,
        counts=counts,
        confirm=ConfirmForm(),
    )


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@admin_required
def outbox_retry(message_id: int):
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            outbox.retry(db.session, call.ctx, message_id)
        if call.ok:
            flash(_("Le message repart dans la file d'envoi."), "success")
    return redirect(url_for("admin.outbox_list"))


# Partners' calendars ----------------------------------------------------------------------------


@bp.route("/agenda/sources", methods=["GET", "POST"])
@admin_required
def agenda_sources():
    form = SourceForm()
    form.departement.choices = departement_choices(blank=_("— (indiqué par événement) —"))
    if form.validate_on_submit():
        with service_call(form) as call:
            agenda_import.add_source(
                db.session,
                call.ctx,
                name=form.name.data or "",
                url=form.url.data or None,
                departement_code=form.departement.data or None,
                trusted=form.trusted.data,
            )
        if call.ok:
            flash(_("Source enregistrée."), "success")
            return redirect(url_for("admin.agenda_sources"))
    sources = db.session.scalars(select(AgendaSource).order_by(AgendaSource.name)).all()
    reports = {s.id: agenda_import.load_report(s) for s in sources}
    return render_template(
        "admin/agenda_sources.html",
        form=form,
        sources=sources,
        reports=reports,
        upload=UploadForm(),
        confirm=ConfirmForm(),
    )


@bp.route("/agenda/sources/<int:source_id>/import", methods=["POST"])
@admin_required
def agenda_source_import(source_id: int):
    """Import an uploaded .ics file, or (without a file) fetch the source's address now."""
    source = db.session.get(AgendaSource, source_id)
    if source is None:
        abort(404)
    upload = UploadForm()
    if upload.validate_on_submit():
        data = upload.file.data.read()
        # Read apart, in a process with its own memory and time budget, as the daily job does.
        call = Call(ctx=entry.for_request())
        try:
            report = jobs.import_file(db.session, call.ctx, source=source, data=data)
        except (RuleViolation, Conflict) as error:
            call.error = error
            refuse(error)
    elif ConfirmForm().validate_on_submit() and source.url:
        # As the daily job does it: the download (up to its timeout) before a short unit of work.
        call = Call(ctx=entry.for_request())
        try:
            report = jobs.import_source(db.session, call.ctx, source=source)
        except (RuleViolation, Conflict) as error:
            call.error = error
            refuse(error)
    else:
        flash(_("Choisissez un fichier .ics, ou enregistrez une adresse pour cette source."), "danger")
        return redirect(url_for("admin.agenda_sources"))
    if not call.ok:
        return redirect(url_for("admin.agenda_sources"))
    if report.error:
        flash(_("Import refusé : %(why)s Rien n'a été modifié.", why=report.error), "danger")
    else:
        flash(
            _(
                "Import : %(c)d créé(s), %(u)d mis à jour, %(x)d annulé(s), %(s)d ignoré(s).",
                c=report.created,
                u=report.updated,
                x=report.cancelled,
                s=len(report.skipped),
            ),
            "success",
        )
    return redirect(url_for("admin.agenda_sources"))
