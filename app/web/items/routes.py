"""An item's life beyond its bookings: out of service and back, its repair log, its label and "now" card."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import entry
from app.extensions import db
from app.models import OutOfService, Resource
from app.services import booking, catalogue, labels, loan, maintenance
from app.services.errors import Conflict, RuleViolation
from app.web.acting import refuse, service_call
from app.web.forms import ConfirmForm
from app.web.items.forms import OutOfServiceForm, RepairNoteForm, SwapForm

bp = Blueprint("items", __name__, url_prefix="/items")


# What every template may ask: the state of an item in words (macros/items.html).
@bp.app_template_global()
def out_of_service_of(resource: Resource) -> OutOfService | None:
    return maintenance.open_period(db.session, resource.id)


@bp.app_template_global()
def out_of_service_by_resource(resources: list[Resource]) -> dict[int, OutOfService]:
    """One query for a whole list (a catalogue page) rather than one per item."""
    return maintenance.open_periods(db.session, [r.id for r in resources])


def _after_out_of_service(resource: Resource) -> Response:
    if booking.can_manage(current_user, resource):
        return redirect(url_for("items.detail", resource_id=resource.id))
    return redirect(url_for("catalogue.detail", resource_id=resource.id))


def _put_out_of_service(form: OutOfServiceForm, resource: Resource, handover=None) -> bool:
    with service_call(form) as call:
        maintenance.put_out_of_service(
            db.session, call.ctx, resource=resource, reason=form.reason.data or "", handover=handover
        )
    if call.ok:
        flash(
            _("« %(name)s » est hors service ; les personnes qui l'ont réservé sont prévenues.", name=resource.name),
            "success",
        )
    return call.ok


@bp.route("/handovers/<int:handover_id>/out-of-service", methods=["GET", "POST"])
@login_required
def propose_out_of_service(handover_id: int):
    """After a return found incomplete or damaged: "Mettre hors service ?", the note as reason."""
    ctx = entry.for_request()
    handover = maintenance.get_handover(db.session, handover_id)
    try:
        proposal = maintenance.proposal(db.session, ctx, handover=handover)
    except (RuleViolation, Conflict) as error:
        refuse(error)
        return redirect(url_for("bookings.detail", booking_id=handover.booking_id))
    form = OutOfServiceForm()
    if request.method == "GET":
        form.reason.data = proposal.reason
    if form.validate_on_submit() and _put_out_of_service(form, proposal.resource, handover):
        return _after_out_of_service(proposal.resource)
    return render_template(
        "items/out_of_service.html",
        resource=proposal.resource,
        already=proposal.already,
        handover=handover,
        form=form,
        affected=proposal.affected,
    )


@bp.route("/<int:resource_id>/out-of-service", methods=["GET", "POST"])
@login_required
def out_of_service(resource_id: int):
    """Any item, at any time ("Signaler un problème" on the now card)."""
    resource = catalogue.get_resource(db.session, resource_id)
    state = maintenance.overview(db.session, entry.for_request(), resource=resource)
    form = OutOfServiceForm()
    if form.validate_on_submit() and _put_out_of_service(form, resource):
        return _after_out_of_service(resource)
    return render_template(
        "items/out_of_service.html",
        resource=resource,
        already=state.period,
        handover=None,
        form=form,
        affected=state.affected,
    )


@bp.route("/<int:resource_id>", methods=["GET", "POST"])
@login_required
def detail(resource_id: int):
    """For the item's hosts and admins: its state, the open period, the repair log, who is affected."""
    resource = catalogue.get_resource(db.session, resource_id)
    ctx = entry.for_request()
    state = maintenance.overview(db.session, ctx, resource=resource)
    form = RepairNoteForm()
    if state.period is not None and form.validate_on_submit():
        with service_call(form, ctx=ctx) as call:
            maintenance.add_repair_note(db.session, call.ctx, period=state.period, note=form.note.data or "")
        if call.ok:
            flash(_("Note ajoutée au carnet de réparation."), "success")
            return redirect(url_for("items.detail", resource_id=resource.id))
    return render_template("items/detail.html", state=state, resource=resource, form=form, confirm=ConfirmForm())


@bp.route("/periods/<int:period_id>/back-in-service", methods=["POST"])
@login_required
def back_in_service(period_id: int) -> Response:
    period = maintenance.get(db.session, period_id)
    resource_id = period.resource_id
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            maintenance.back_in_service(db.session, call.ctx, period=period)
        if call.ok:
            flash(_("Remis en service : on peut de nouveau le réserver."), "success")
    return redirect(url_for("items.detail", resource_id=resource_id))


@bp.route("/bookings/<int:booking_id>/alternatives")
@login_required
def alternatives(booking_id: int):
    """The holder's offer: another free unit for the same dates, or a cancellation; one tap each."""
    found = booking.get(db.session, booking_id)
    offer = maintenance.alternatives(db.session, entry.for_request(), booking=found)
    return render_template("items/alternatives.html", offer=offer, swap=SwapForm(), confirm=ConfirmForm())


@bp.route("/bookings/<int:booking_id>/swap", methods=["POST"])
@login_required
def swap(booking_id: int) -> Response:
    found = booking.get(db.session, booking_id)
    form = SwapForm()
    if not form.validate_on_submit():
        flash(_("Choisissez l'objet à prendre."), "danger")
        return redirect(url_for("items.alternatives", booking_id=booking_id))
    target = catalogue.get_resource(db.session, int(form.resource.data or 0))
    with service_call() as call:
        maintenance.swap_unit(db.session, call.ctx, booking=found, resource=target)
    if not call.ok:
        return redirect(url_for("items.alternatives", booking_id=booking_id))
    place = target.pickup_point.name if target.pickup_point else target.departement.label
    flash(_("C'est noté : vous prendrez « %(name)s » (%(place)s).", name=target.name, place=place), "success")
    return redirect(url_for("bookings.detail", booking_id=booking_id))


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@login_required
def cancel_booking(booking_id: int) -> Response:
    found = booking.get(db.session, booking_id)
    if ConfirmForm().validate_on_submit():
        with service_call() as call:
            maintenance.cancel_instead(db.session, call.ctx, booking=found)
        if call.ok:
            flash(_("Réservation annulée."), "success")
            return redirect(url_for("bookings.detail", booking_id=booking_id))
    return redirect(url_for("items.alternatives", booking_id=booking_id))


@bp.route("/labels/<dept:code>", endpoint="labels")
@login_required
def labels_sheet(code: str):
    """A printable A4 sheet: one label per item, with the QR code of its now card."""
    sheet = labels.sheet(
        db.session,
        entry.for_request(),
        departement_code=code,
        card_url=lambda r: url_for("items.now", resource_id=r.id, _external=True),
    )
    return render_template("items/labels.html", sheet=sheet)


@bp.route("/<int:resource_id>/now")
@login_required
def now(resource_id: int):
    """What scanning an item's label opens: the desk's actions for its hosts, the state for anyone else."""
    resource = catalogue.get_resource(db.session, resource_id)
    ctx = entry.for_request()
    card = labels.now_card(db.session, ctx, resource=resource)
    return render_template("items/now.html", card=card, resource=resource, now=ctx.now, pickup_early=loan.PICKUP_EARLY)
