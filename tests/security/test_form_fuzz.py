"""Random and hostile values posted into every HTML form: never a 5xx, and a refusal stores nothing.

Every WTForms class under app/web is found by import and must have an entry in FORMS: the page
that posts it, as whom, with which field prefix. Each field gets control characters, NUL, very long
strings, numbers as text, dates far in the past or future, and HTML/JS snippets.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms import FieldList, FormField

import app.web
from tests.factories import NOW
from tests.security import scene as scenes
from tests.security.scene import Browser

# Admins' forms here write topics, themes and guide pages, which the other tests keep.
pytestmark = pytest.mark.usefixtures("kept_tables_restored")


@dataclass(frozen=True)
class Post:
    role: str
    url: str
    prefix: str = ""
    method: str = "POST"
    extra: tuple[str, ...] = ()  # fields the view adds to the class at run time
    succeeds_with_200: bool = False  # a success renders a page (a preview, a secret shown once)


NOT_POSTED = None  # a form class no view uses

# fmt: off
FORMS: dict[str, Post | None] = {
    "app.web.account.forms.ApiTokenForm": Post("member", "/account/tokens", succeeds_with_200=True),
    "app.web.account.forms.PasswordChangeForm": Post("member", "/account/password"),
    "app.web.account.forms.ProfileForm": Post("member", "/account"),
    "app.web.act.forms.ApproveForm": Post("visitor", "/a/{answer}", succeeds_with_200=True),
    "app.web.act.forms.ConfirmHoldForm": Post("visitor", "/a/{answer}", succeeds_with_200=True),
    "app.web.act.forms.DeclineHoldForm": Post("visitor", "/a/{answer}", succeeds_with_200=True),
    "app.web.act.forms.RejectForm": Post("visitor", "/a/{answer}", succeeds_with_200=True),
    "app.web.admin.forms.CategoryForm": Post("admin", "/admin/categories/new"),
    "app.web.admin.forms.ResourceForm": Post("admin", "/admin/resources/new"),
    "app.web.admin.forms.RolesForm": Post("admin", "/admin/users/{user}"),
    "app.web.admin.forms.ThemeNamesForm": Post("admin", "/admin/themes", extra=("theme_1", "theme_2")),
    "app.web.admin.forms.TopicNamesForm": Post("admin", "/admin/topics/new"),
    "app.web.agenda.forms.AgendaFilterForm": Post("visitor", "/agenda", method="GET"),
    "app.web.agenda.forms.EventForm": Post("member", "/agenda/propose"),
    "app.web.agenda.forms.RefuseForm": Post("host", "/agenda/{proposed}/refuse"),
    "app.web.agenda.forms.SourceForm": Post("admin", "/admin/agenda/sources"),
    "app.web.agenda.forms.UploadForm": Post("admin", "/admin/agenda/sources/{source}/import"),
    "app.web.auth.forms.ForgotPasswordForm": Post("visitor", "/password/forgot"),
    "app.web.auth.forms.LoginForm": Post("visitor", "/login"),
    "app.web.auth.forms.RegisterForm": Post("visitor", "/register"),
    "app.web.auth.forms.ResetPasswordForm": Post("visitor", "/password/reset/{reset_token}"),
    "app.web.bookings.forms.BookingForm": Post("member", "/bookings/new?resource={camera}"),
    "app.web.bookings.forms.ExtendForm": Post("member", "/bookings/{booking}/extend"),
    "app.web.bookings.forms.KitForm": Post("member", "/bookings/kit"),
    "app.web.bookings.forms.PeriodForm": Post("member", "/bookings/{booking}/dates"),
    "app.web.catalogue.forms.ResourceFilterForm": Post("visitor", "/resources", method="GET"),
    "app.web.desk.forms.BlackoutForm": Post("host", "/desk/{dept}/blackouts"),
    "app.web.desk.forms.HandoverForm": Post("host", "/desk/bookings/{booking}/pickup"),
    "app.web.desk.forms.PickupForm": Post("host", "/desk/bookings/{booking}/pickup"),
    "app.web.desk.forms.RejectForm": Post("host", "/desk/bookings/{requested}/reject"),
    "app.web.desk.forms.ReturnForm": Post("host", "/desk/bookings/{booking}/return"),
    "app.web.forms.ConfirmForm": Post("member", "/bookings/{booking}/cancel"),
    "app.web.guide.routes.PageForm": Post("admin", "/guide/{guide_slug}/edit", succeeds_with_200=True),
    "app.web.items.forms.OutOfServiceForm": Post("host", "/items/{camera}/out-of-service"),
    "app.web.items.forms.RepairNoteForm": Post("host", "/items/{camera}"),
    "app.web.items.forms.SwapForm": Post("member", "/items/bookings/{booking}/swap"),
    "app.web.kits.forms.KitBookingForm": Post("member", "/kits/{kit_slug}"),
    "app.web.kits.forms.KitDatesForm": Post("member", "/kits/bookings/{kit_booking}/dates"),
    "app.web.kits.forms.KitForm": Post("admin", "/kits/admin/new"),
    "app.web.legal.routes.DeleteAccountForm": Post("member", "/account/delete"),
    "app.web.loans.forms.ReceiptForm": Post("member", "/loans/{returned}/confirm"),
    "app.web.points.forms.ClosingDayForm": Post("host", "/points/{point}/edit", prefix="closing"),
    "app.web.points.forms.DayHoursForm": Post("host", "/points/{point}/edit", prefix="days-0"),
    "app.web.points.forms.HoursForm": Post("host", "/points/{point}/edit"),
    "app.web.points.forms.NewPointForm": Post("host", "/points/new/{dept}"),
    "app.web.points.forms.PointForm": Post("host", "/points/{point}/edit", prefix="point"),
    "app.web.series.forms.CancelInSeriesForm": Post("member", "/series/{series}/cancel"),
    "app.web.series.forms.SeriesForm": Post("member", "/series/new?resource={camera}", succeeds_with_200=True),
    "app.web.series.forms.TrainingSeriesForm": Post("trainer", "/series/trainings/new", succeeds_with_200=True),
    "app.web.trainings.forms.CancelSessionForm": Post("trainer", "/trainings/{training}/cancel"),
    "app.web.trainings.forms.MessageForm": Post("trainer", "/trainings/{training}/message"),
    "app.web.trainings.forms.SessionForm": Post("trainer", "/trainings/new"),
    "app.web.trainings.forms.TrainingFilterForm": Post("visitor", "/trainings", method="GET"),
    "app.web.waitlist.forms.WishForm": Post("member", "/waitlist/new"),
}
# fmt: on


def form_classes() -> dict[str, type[FlaskForm]]:
    found: dict[str, type[FlaskForm]] = {}
    for module_info in pkgutil.walk_packages(app.web.__path__, "app.web."):
        if module_info.name.rsplit(".", 1)[-1] not in ("forms", "routes"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, FlaskForm)
                and value is not FlaskForm
                and value.__module__ == module.__name__
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def field_names(form) -> list[str]:
    """The names a browser sends, subforms and lists included (`days-0-opens_1`)."""
    names = []
    for field in form:
        if isinstance(field, FieldList):
            for entry in field.entries:
                names.extend(field_names(entry.form) if isinstance(entry, FormField) else [entry.name])
        elif isinstance(field, FormField):
            names.extend(field_names(field.form))
        elif field.name != "csrf_token":
            names.append(field.name)
    return names


def test_every_form_class_has_a_page_that_posts_it():
    found = set(form_classes())
    assert found, "no form class found under app/web"
    assert not sorted(found - set(FORMS)), f"forms without an entry: {sorted(found - set(FORMS))}"
    assert not sorted(set(FORMS) - found), f"entries for forms that no longer exist: {sorted(set(FORMS) - found)}"


def test_a_form_no_view_uses_is_named_nowhere_in_the_views():
    sources = "".join(
        inspect.getsource(importlib.import_module(m.name))
        for m in pkgutil.walk_packages(app.web.__path__, "app.web.")
        if m.name.endswith(".routes")
    )
    for name, post in FORMS.items():
        if post is NOT_POSTED:
            assert f"{name.rsplit('.', 1)[-1]}(" not in sources, f"{name} is used: give it an entry"


HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\x1b[31m\x07\x08",
        "\r\n\r\n",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(1)",
        "{{ 7*7 }}",
        "' OR 1=1 --",
        "0",
        "-1",
        "2147483648",
        "99999999999999999999",
        "1e309",
        "NaN",
        "3.5",
        "0001-01-01",
        "9999-12-31",
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "2027-02-30",
        "25:61",
        "x" * 5000,
        "é" * 300,
        "../../etc/passwd",
    ]
)
VALUE = st.one_of(
    HOSTILE,
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cs", "Zs", "So", "Lo"]), max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
)
REJECTED = {200, 400, 413, 422, 429}


def _fields(app_, cls: type[FlaskForm], post: Post) -> list[str]:
    with app_.test_request_context("/", method="POST"):
        names = field_names(cls(prefix=post.prefix, formdata=None))
    return names + list(post.extra)


def _said_no(browser: Browser) -> bool:
    """A redirect that carries only a warning: the page refused, and says so after the redirect."""
    with browser.client.session_transaction() as cookie:
        categories = {category for category, _message in cookie.get("_flashes", [])}
    return bool(categories & {"danger", "warning"}) and "success" not in categories


POSTED = sorted(name for name, post in FORMS.items() if post is not None)


@pytest.mark.parametrize("name", POSTED)
def test_hostile_values_never_break_a_form_and_a_refusal_stores_nothing(app, session, clock, name):
    clock(NOW)
    post = FORMS[name]
    assert post is not None
    cls = form_classes()[name]
    built = scenes.build(session)
    browser = Browser(app, built.people.get(post.role))
    url = post.url.format(**built.ids)
    names = _fields(app, cls, post)
    failures: list[str] = []

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.fixed_dictionaries(dict.fromkeys(names, VALUE)))
    def posting(values):
        before = scenes.row_counts(), scenes.statuses()
        browser.forget_messages()
        response = browser.open(post.method, url, values)
        session.expire_all()
        if response.status_code >= 500:
            failures.append(f"{post.method} {url} as {post.role} answered {response.status_code} to {values!r}")
            return
        refused = response.status_code in REJECTED and not (post.succeeds_with_200 and response.status_code == 200)
        refused = refused or (response.status_code in (302, 303) and _said_no(browser))
        if post.method == "POST" and refused and (scenes.row_counts(), scenes.statuses()) != before:
            failures.append(f"{url} refused ({response.status_code}) but changed stored rows, for {values!r}")

    posting()
    assert not failures, "\n".join(["", *sorted(set(failures))[:20]])
