"""Trainings: the catalogue of sessions, sign-up and waitlist, and the trainer's pages."""

from __future__ import annotations

import csv
import io
from itertools import groupby
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import entry
from app.extensions import db
from app.i18n import format_datetime
from app.models import Category, EnrolmentStatus, TrainingSession
from app.services import feeds, history, training
from app.services.markdown import render as render_markdown
from app.web.acting import service_call
from app.web.choices import departement_choices
from app.web.feeds.ics import ics_response, link
from app.web.forms import ConfirmForm, read_local_datetime
from app.web.names import named
from app.web.pagination import current_page
from app.web.trainings.forms import CancelSessionForm, MessageForm, SessionForm, TrainingFilterForm

bp = Blueprint("trainings", __name__, url_prefix="/trainings")


@bp.context_processor
def _rules() -> dict[str, Any]:
    # Pages show the certificate link by the same rule the certificate page applies.
    return {"earns_certificate": training.earns_certificate}


def _topic_choices(blank: str | None = None) -> list[tuple[str, str]]:
    choices = [(str(t.id), named(t)) for t in training.topics(db.session)]
    return [("", blank), *choices] if blank is not None else choices


@bp.route("")
def index() -> ResponseReturnValue:
    ctx = entry.for_request()
    form = TrainingFilterForm(request.args)
    form.topic.choices = _topic_choices(blank=_("Tous"))
    form.departement.choices = departement_choices(blank=_("Tous"))
    query = training.upcoming(db.session, ctx)
    if form.validate():
        query = training.upcoming(
            db.session,
            ctx,
            topic_id=int(form.topic.data) if form.topic.data else None,
            mode=form.mode.data or None,
            departement_code=form.departement.data or None,
        )
    pagination = db.paginate(query, page=current_page(), per_page=current_app.config["PER_PAGE"], error_out=False)
    sessions = list(pagination.items)
    months = [
        ((year, month), list(items))
        for (year, month), items in groupby(
            sessions, key=lambda s: (s.starts_at.astimezone(ctx.zone).year, s.starts_at.astimezone(ctx.zone).month)
        )
    ]
    return render_template(
        "trainings/index.html",
        form=form,
        months=months,
        pagination=pagination,
        counts=training.seat_counts(db.session, [s.id for s in sessions]),
    )


@bp.route("/<int:training_id>")
def detail(training_id: int) -> ResponseReturnValue:
    ctx = entry.for_request()
    found = training.get(db.session, training_id)
    enrolment = training.enrolment_of(db.session, found.id, ctx.actor)
    seated, waiting = training.seat_counts(db.session, [found.id])[found.id]
    return render_template(
        "trainings/detail.html",
        training=found,
        description=render_markdown(found.description),
        enrolment=enrolment,
        position=training.waitlist_position(db.session, enrolment) if enrolment else None,
        seated=seated,
        waiting=waiting,
        can_manage=ctx.actor is not None and training.can_manage(ctx.actor, found),
        now=ctx.now,
        confirm=ConfirmForm(),
    )


@bp.route("/<int:training_id>/sign-up", methods=["POST"])
@login_required
def sign_up(training_id: int) -> ResponseReturnValue:
    found = training.get(db.session, training_id)
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            enrolment = training.sign_up(db.session, call.ctx, training=found)
            seated = enrolment.status == EnrolmentStatus.REGISTERED
            position = training.waitlist_position(db.session, enrolment)
        if call.ok:
            if seated:
                flash(_("Vous êtes inscrit·e."), "success")
            else:
                flash(_("Session complète : vous êtes n° %(n)d sur la liste d'attente.", n=position), "info")
    return redirect(url_for("trainings.detail", training_id=training_id))


@bp.route("/<int:training_id>/leave", methods=["POST"])
@login_required
def leave(training_id: int) -> ResponseReturnValue:
    found = training.get(db.session, training_id)
    enrolment = training.enrolment_of(db.session, found.id, current_user)
    if enrolment is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            training.cancel_enrolment(db.session, call.ctx, enrolment=enrolment)
        if call.ok:
            flash(_("Votre inscription est annulée."), "success")
    return redirect(url_for("trainings.detail", training_id=training_id))


@bp.route("/mine")
@login_required
def mine() -> ResponseReturnValue:
    ctx = entry.for_request()
    enrolments = training.enrolments_of(db.session, ctx.user)
    positions = training.waitlist_positions(db.session, enrolments)
    return render_template(
        "trainings/mine.html", enrolments=[(e, positions.get(e.id)) for e in enrolments], now=ctx.now
    )


# Trainers ------------------------------------------------------------------------------
# The guards below only spare a non-trainer a form they could not submit; the services
# refuse the changes themselves.


def _require_trainer() -> None:
    if not (current_user.is_trainer or current_user.is_admin):
        abort(403)


def _managed(training_id: int) -> TrainingSession:
    found = training.get(db.session, training_id)
    if not training.can_manage(current_user, found):
        abort(403)
    return found


def _session_form(found: TrainingSession | None) -> SessionForm:
    form = SessionForm(obj=found)
    form.topic.choices = _topic_choices()
    form.departement.choices = departement_choices(blank=_("— (en ligne) —"))
    categories = db.session.scalars(select(Category).where(Category.retired_at.is_(None)).order_by(Category.name))
    form.advised.choices = [(str(c.id), named(c)) for c in categories]
    if request.method == "GET" and found is not None:
        zone = entry.for_request().zone
        form.topic.data = str(found.topic_id)
        form.departement.data = found.departement_code or ""
        form.advised.data = [str(c.id) for c in found.advised_categories]
        for name in ("starts_at", "ends_at", "registration_deadline", "registration_opens_at"):
            value = getattr(found, name)
            getattr(form, name).data = value.astimezone(zone).replace(tzinfo=None) if value else None
    return form


def _fields(form: SessionForm) -> training.SessionFields | None:
    times = {
        name: read_local_datetime(getattr(form, name))
        for name in ("starts_at", "ends_at", "registration_deadline", "registration_opens_at")
    }
    if any(times[n] is None for n in ("starts_at", "ends_at", "registration_deadline")) or (
        form.registration_opens_at.data and times["registration_opens_at"] is None
    ):
        return None
    if form.capacity.data is None:  # already answered by the field's own validator
        return None
    in_person = form.mode.data == "in_person"
    return training.SessionFields(
        topic_id=int(form.topic.data),
        title=form.title.data or "",
        description=form.description.data or "",
        starts_at=times["starts_at"],
        ends_at=times["ends_at"],
        mode=form.mode.data,
        video_link=form.video_link.data or None,
        place=(form.place.data or None) if in_person else None,
        departement_code=(form.departement.data or None) if in_person else None,
        capacity=form.capacity.data,
        registration_deadline=times["registration_deadline"],
        registration_opens_at=times["registration_opens_at"],
        level=form.level.data,
    )


def _advised(form: SessionForm) -> list[Category]:
    ids = [int(v) for v in form.advised.data or []]
    return list(db.session.scalars(select(Category).where(Category.id.in_(ids)))) if ids else []


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    _require_trainer()
    form = _session_form(None)
    if form.validate_on_submit() and (fields := _fields(form)):
        with service_call(form) as call:
            made = training.create_session(db.session, call.ctx, fields=fields, advised=_advised(form))
            made_id = made.id
        if call.ok:
            flash(_("Session créée."), "success")
            return redirect(url_for("trainings.participants", training_id=made_id))
    return render_template("trainings/form.html", form=form, training=None)


@bp.route("/<int:training_id>/edit", methods=["GET", "POST"])
@login_required
def edit(training_id: int) -> ResponseReturnValue:
    found = _managed(training_id)
    form = _session_form(found)
    if form.validate_on_submit() and (fields := _fields(form)):
        with service_call(form) as call:
            promoted = len(
                training.update_session(db.session, call.ctx, training=found, fields=fields, advised=_advised(form))
            )
        if call.ok:
            flash(_("Session enregistrée."), "success")
            if promoted:
                flash(_("%(n)d personne(s) de la liste d'attente inscrite(s) et prévenue(s).", n=promoted), "info")
            return redirect(url_for("trainings.participants", training_id=training_id))
    return render_template("trainings/form.html", form=form, training=found)


@bp.route("/<int:training_id>/cancel", methods=["POST"])
@login_required
def cancel(training_id: int) -> ResponseReturnValue:
    found = _managed(training_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        with service_call(form) as call:
            told = training.cancel_session(db.session, call.ctx, training=found, reason=form.reason.data or "")
        if call.ok:
            flash(_("Session annulée ; %(n)d personne(s) prévenue(s).", n=told), "success")
    else:
        flash(_("Indiquez le motif de l'annulation."), "danger")
    return redirect(url_for("trainings.participants", training_id=training_id))


@bp.route("/<int:training_id>/participants")
@login_required
def participants(training_id: int) -> ResponseReturnValue:
    ctx = entry.for_request()
    found = _managed(training_id)
    return render_template(
        "trainings/participants.html",
        training=found,
        rows=training.participants(db.session, found.id),
        waitlist=training.waitlist(db.session, found.id),
        message_form=MessageForm(),
        cancel_form=CancelSessionForm(),
        confirm=ConfirmForm(),
        history=history.sentences(db.session, ctx, subject_type="training", subject_id=found.id),
        now=ctx.now,
    )


@bp.route("/<int:training_id>/attendance", methods=["POST"])
@login_required
def attendance(training_id: int) -> ResponseReturnValue:
    found = _managed(training_id)
    if ConfirmForm().validate_on_submit():
        raw = request.form.getlist("attended")
        if not all(value.isdigit() for value in raw):
            abort(400)
        with service_call() as call:
            training.mark_attendance(db.session, call.ctx, training=found, attended_user_ids={int(v) for v in raw})
        if call.ok:
            flash(_("Présences enregistrées."), "success")
    return redirect(url_for("trainings.participants", training_id=training_id))


@bp.route("/<int:training_id>/message", methods=["POST"])
@login_required
def message(training_id: int) -> ResponseReturnValue:
    found = _managed(training_id)
    form = MessageForm()
    if form.validate_on_submit():
        with service_call(form) as call:
            sent = training.message_participants(
                db.session, call.ctx, training=found, subject=form.subject.data or "", body=form.body.data or ""
            )
        if call.ok:
            flash(_("Message envoyé à %(n)d personne(s).", n=sent), "success")
    else:
        flash(_("Le message a besoin d'un objet et d'un texte."), "danger")
    return redirect(url_for("trainings.participants", training_id=training_id))


def _spreadsheet_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: neutralise it.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


@bp.route("/<int:training_id>/participants.csv")
@login_required
def participants_csv(training_id: int) -> ResponseReturnValue:
    found = _managed(training_id)
    zone = entry.for_request().zone
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")  # what a French spreadsheet expects
    writer.writerow([_("Nom"), _("Adresse"), _("Structure"), _("Département"), _("État"), _("Inscription")])
    for enrolment in training.participants(db.session, found.id):
        user = enrolment.user
        writer.writerow(
            [
                _spreadsheet_safe(user.display_name),
                _spreadsheet_safe(user.email),
                _spreadsheet_safe(user.organisation.name if user.organisation else ""),
                user.departement_code or "",
                str(enrolment.status.label),
                format_datetime(enrolment.created_at, zone),
            ]
        )
    filename = f"participants-{found.id}.csv"
    # The BOM tells a French spreadsheet the file is UTF-8, so accents survive.
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/<int:training_id>/certificate/<int:user_id>")
@login_required
def certificate(training_id: int, user_id: int) -> ResponseReturnValue:
    # A page that cannot be shown has nothing to fall back on: the service's Forbidden or
    # NotFound becomes the 403 or 404 page, with its message.
    ctx = entry.for_request()
    found = training.get(db.session, training_id)
    enrolment = training.certificate_for(db.session, ctx, training=found, user_id=user_id)
    return render_template("trainings/certificate.html", training=found, enrolment=enrolment, issued=ctx.now)


@bp.route("/<int:training_id>.ics")
def ics(training_id: int) -> ResponseReturnValue:
    """ "Add to my calendar" for one session."""
    ctx = entry.for_request()
    found = training.get(db.session, training_id)
    enrolment = training.enrolment_of(db.session, found.id, ctx.actor)
    url = link("trainings.detail", training_id=found.id)
    item = (
        feeds.enrolment_item(enrolment, ctx.site_domain, url)
        if enrolment is not None
        else feeds.training_item(found, ctx.site_domain, url)
    )
    return ics_response(found.title, [item], private=enrolment is not None, filename=f"formation-{found.id}.ics")
