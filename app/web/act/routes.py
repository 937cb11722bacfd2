"""One-tap answers from an email: signed, single-use, expiring links for one person and one booking.

Opening a link (GET) only shows what it would do, with one button: mail scanners and link
previews open every address in a message, and must not answer a request by doing so. The
button (POST, with its CSRF token) acts as the person the link was sent to, who need not be
logged in; someone else logged in is refused.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user
from flask_wtf import FlaskForm

from app import entry
from app.extensions import db
from app.models import Booking, User
from app.services import booking, links, waitlist
from app.services.errors import DomainError
from app.web.act.forms import ApproveForm, ConfirmHoldForm, DeclineHoldForm, RejectForm
from app.web.acting import service_call

bp = Blueprint("act", __name__, url_prefix="/a")


@bp.record_once
def _link_globals(state: BlueprintSetupState) -> None:
    state.app.jinja_env.globals["answer_link_days"] = links.VALID_FOR.days


@bp.app_template_global("answer_url")
def answer_url(booking: Booking, user: User, action: str) -> str:
    """The address of a link by which `user` answers `booking` (emails: absolute, on SITE_URL)."""
    ctx = entry.build(_app(), None)
    return url_for("act.answer", token=links.sign(ctx, booking=booking, user=user, action=action), _external=True)


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the proxy


def _page(template: str, status: int = 200, **values) -> tuple[str, int, dict[str, str]]:
    # The address is a key to the request: kept out of caches; the pages say nothing to crawlers.
    return render_template(template, **values), status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _refused(error: DomainError) -> tuple[str, int, dict[str, str]]:
    return _page("act/refused.html", error.status_code, message=error.message)


@bp.route("/<token>", methods=["GET", "POST"])
def answer(token: str) -> tuple[str, int, dict[str, str]]:
    try:
        found = links.read(db.session, entry.for_request(), token=token)
    except DomainError as error:
        return _refused(error)
    form = _FORMS[found.action]()
    if form.validate_on_submit():
        # Nobody logged in: act as the person the link was sent to (read() refused anyone else).
        ctx = entry.for_request() if current_user.is_authenticated else entry.build(_app(), found.user)
        try:
            with service_call(form, ctx=ctx) as call:
                # Read again inside the unit of work, on the locked row: of two uses at once,
                # the second sees the first one's change.
                again = links.read(db.session, call.ctx, token=token)
                _DO[again.action](call.ctx, again.booking, form)
        except DomainError as error:  # link refusals (Forbidden, NotFound) are not form errors
            return _refused(error)
        if call.ok:
            return _page(_TEMPLATES[again.action][1], booking=again.booking, action=again.action)
    hold = waitlist.hold_of(db.session, found.booking) if found.action in _HOLD_ACTIONS else None
    return _page(
        _TEMPLATES[found.action][0],
        booking=found.booking,
        action=found.action,
        form=form,
        expires_at=min(found.expires_at, hold.offer_expires_at) if hold and hold.offer_expires_at else found.expires_at,
    )


_HOLD_ACTIONS = {"confirm-hold", "decline-hold"}
_FORMS: dict[str, type[FlaskForm]] = {
    "approve": ApproveForm,
    "reject": RejectForm,
    "confirm-hold": ConfirmHoldForm,
    "decline-hold": DeclineHoldForm,
}
# (the page that asks, the page that says it is done)
_TEMPLATES = {
    "approve": ("act/answer.html", "act/done.html"),
    "reject": ("act/answer.html", "act/done.html"),
    "confirm-hold": ("act/hold.html", "act/hold_done.html"),
    "decline-hold": ("act/hold.html", "act/hold_done.html"),
}
_DO = {
    "approve": lambda ctx, found, form: booking.approve(db.session, ctx, booking=found),
    "reject": lambda ctx, found, form: booking.reject(db.session, ctx, booking=found, reason=form.reason.data or ""),
    "confirm-hold": lambda ctx, found, form: waitlist.confirm(db.session, ctx, booking=found),
    "decline-hold": lambda ctx, found, form: waitlist.decline(db.session, ctx, booking=found),
}
