"""Every page route × every role → what must happen: one table, checked against `app.url_map`.

A route added without an entry here, or an entry left behind by a removed route, fails the test.
The JSON API (`/api/v1/...`) has its own tests under tests/api; its readable page is listed here.

Expectations per role:
- "ok": a GET answers 200; a POST is not refused (200, 302, 303, 400, 409 or 422). A POST is judged
  so for the first permitted role; after it acted, the object may be gone or moved on for the next.
- "login": the visitor is sent to the login page, and a POST changes nothing.
- "refused": 401, 403, 404 or the login page, and a POST changes nothing.
- "any": whatever the page decides (it depends on the person's own data), but never a 5xx.
No answer is ever a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import NOW
from tests.security import scene as scenes
from tests.security.scene import ROLES, Browser

# Admins' forms here write topics, themes and guide pages, which the other tests keep.
pytestmark = pytest.mark.usefixtures("kept_tables_restored")

LEFT_OUT = {"static", "bootstrap.static"}

OK, LOGIN, REFUSED, ANY = "ok", "login", "refused", "any"


def access(ok=(), anyhow=(), visitor=LOGIN) -> dict[str, str]:
    """An access class: who may, who the page decides for; every other logged-in role is refused."""
    expected = dict.fromkeys(ROLES, REFUSED)
    expected.update(dict.fromkeys(ok, OK))
    expected.update(dict.fromkeys(anyhow, ANY))
    expected["visitor"] = visitor
    return expected


LOGGED_IN = tuple(role for role in ROLES if role != "visitor")
APPROVED = tuple(role for role in LOGGED_IN if role != "pending")

PUBLIC = access(ok=ROLES, visitor=OK)
# Pages for people not logged in (login, register, reset): the others may be sent home.
GUEST = access(anyhow=LOGGED_IN, visitor=OK)
SIGNED_IN = access(ok=LOGGED_IN)
# Booking and signing up: an account an admin has not let in yet is told so by the page.
MEMBERS = access(ok=APPROVED, anyhow=("pending",))
# A seat in a training: only for accounts an admin has let in, as for bookings.
APPROVED_ONLY = access(ok=APPROVED)
# The holder's own booking: the holder, the host of its département, an admin.
OWN_BOOKING = access(ok=("member", "host", "admin"))
# What only the holder (and an admin) may read or do: credentials, their wishes, their tokens.
HOLDER = access(ok=("member", "admin"))
HOLDER_ONLY = access(ok=("member",))
# The département's host (34) and admins; the host of another département is refused.
HOST = access(ok=("host", "admin"))
ANY_HOST = access(ok=("host", "other_host", "admin"))
# The training's own trainer and admins.
TRAINER = access(ok=("trainer", "admin"))
TRAINERS = access(ok=("trainer", "other_trainer", "admin"))
# An attendance certificate: its holder, the training's trainer, admins.
CERTIFICATE = access(ok=("member", "trainer", "admin"))
ADMIN = access(ok=("admin",))
# Logged in, and the answer depends only on data (a photo that does not exist: 404 for all).
SIGNED_IN_ANY = access(anyhow=LOGGED_IN)
# A signed link in an email (here the host's "approve"): whoever opens it unsigned-in acts as the
# person it was sent to; anyone else signed in is refused.
EMAILED_LINK = access(ok=("host",), visitor=OK)
# A reset link that is not one: nobody gets a form.
BAD_RESET_LINK = access(anyhow=LOGGED_IN, visitor=REFUSED)


@dataclass(frozen=True)
class Route:
    rule: str
    methods: tuple[str, ...]
    url: str  # formatted with the scene's ids
    access: dict[str, str]
    last: bool = False  # ends the person's session or account: run after everything else
    data: tuple[tuple[str, str], ...] = ()  # a POST body that passes the form, so that the rule is what answers


def R(rule, methods, access_class, url=None, last=False, **data) -> Route:
    return Route(rule, tuple(methods.split()), url or rule, access_class, last, tuple(data.items()))


# fmt: off
ROUTES = [
    R("/", "GET", PUBLIC),
    R("/a/<token>", "GET POST", EMAILED_LINK, "/a/{answer}"),
    R("/accessibilite", "GET", PUBLIC),
    R("/account", "GET POST", SIGNED_IN),
    R("/account/delete", "GET POST", SIGNED_IN, last=True),
    R("/account/feeds/revoke", "POST", SIGNED_IN),
    R("/account/feeds/token", "POST", SIGNED_IN),
    R("/account/password", "GET POST", SIGNED_IN),
    R("/account/tokens", "POST", SIGNED_IN),
    R("/account/tokens/<int:token_id>/revoke", "POST", HOLDER, "/account/tokens/{api_token}/revoke"),
    R("/admin/", "GET", ADMIN),
    R("/admin/agenda/sources", "GET POST", ADMIN),
    R("/admin/agenda/sources/<int:source_id>/import", "POST", ADMIN, "/admin/agenda/sources/{source}/import"),
    R("/admin/categories", "GET", ADMIN),
    R("/admin/categories/<int:category_id>/edit", "GET POST", ADMIN, "/admin/categories/{category}/edit"),
    R("/admin/categories/<int:category_id>/retire", "POST", ADMIN, "/admin/categories/{category}/retire"),
    R("/admin/categories/new", "GET POST", ADMIN),
    R("/admin/organisations/<int:organisation_id>/confirm", "POST", ADMIN,
      "/admin/organisations/{organisation}/confirm"),
    R("/admin/outbox", "GET", ADMIN),
    R("/admin/outbox/<int:message_id>/retry", "POST", ADMIN, "/admin/outbox/{message}/retry"),
    R("/admin/resources", "GET", ADMIN),
    R("/admin/resources/<int:resource_id>/edit", "GET POST", ADMIN, "/admin/resources/{camera}/edit"),
    R("/admin/resources/<int:resource_id>/retire", "POST", ADMIN, "/admin/resources/{spare}/retire"),
    R("/admin/resources/new", "GET POST", ADMIN),
    R("/admin/themes", "GET POST", ADMIN),
    R("/admin/topics", "GET", ADMIN),
    R("/admin/topics/<int:topic_id>/edit", "GET POST", ADMIN, "/admin/topics/{topic}/edit"),
    R("/admin/topics/new", "GET POST", ADMIN),
    R("/admin/users", "GET", ADMIN),
    R("/admin/users/<int:user_id>", "GET POST", ADMIN, "/admin/users/{user}"),
    R("/admin/users/<int:user_id>/active", "POST", ADMIN, "/admin/users/{user}/active"),
    R("/admin/users/<int:user_id>/approve", "POST", ADMIN, "/admin/users/{user}/approve"),
    R("/agenda", "GET", PUBLIC),
    R("/agenda/<int:event_id>", "GET", PUBLIC, "/agenda/{event}"),
    R("/agenda/<int:event_id>/edit", "GET POST", HOST, "/agenda/{event}/edit"),
    R("/agenda/<int:event_id>/publish", "POST", HOST, "/agenda/{proposed}/publish"),
    R("/agenda/<int:event_id>/refuse", "POST", HOST, "/agenda/{proposed}/refuse"),
    R("/agenda/ete", "GET", PUBLIC, "/agenda/ete?month=2027-06"),
    R("/agenda/moderation", "GET", ANY_HOST),
    R("/agenda/print", "GET", PUBLIC),
    R("/agenda/propose", "GET POST", SIGNED_IN),
    R("/agenda/region", "GET", PUBLIC),
    R("/agenda/rentree", "GET", PUBLIC, "/agenda/rentree?month=2027-09"),
    R("/agenda/themes/<slug>", "GET", PUBLIC, "/agenda/themes/{theme}"),
    R("/api/docs", "GET", PUBLIC),
    R("/bookings/<int:booking_id>", "GET", OWN_BOOKING, "/bookings/{booking}"),
    R("/bookings/<int:booking_id>.ics", "GET", OWN_BOOKING, "/bookings/{booking}.ics"),
    R("/bookings/<int:booking_id>/cancel", "POST", OWN_BOOKING, "/bookings/{booking}/cancel"),
    R("/bookings/<int:booking_id>/credentials", "POST", HOLDER, "/bookings/{in_use}/credentials"),
    R("/bookings/<int:booking_id>/dates", "POST", OWN_BOOKING, "/bookings/{booking}/dates",
      starts_at="2027-01-13T10:00", ends_at="2027-01-14T10:00"),
    R("/bookings/<int:booking_id>/extend", "POST", OWN_BOOKING, "/bookings/{booking}/extend",
      ends_at="2027-01-14T18:00"),
    R("/bookings/kit", "GET POST", MEMBERS),
    R("/bookings/mine", "GET", SIGNED_IN),
    R("/bookings/new", "GET POST", MEMBERS, "/bookings/new?resource={camera}"),
    R("/confidentialite", "GET", PUBLIC),
    R("/departements/<dept:code>/week", "GET", PUBLIC, "/departements/{dept}/week"),
    R("/desk", "GET", ANY_HOST),
    R("/desk/<dept:code>", "GET", HOST, "/desk/{dept}"),
    R("/desk/<dept:code>/blackouts", "GET POST", HOST, "/desk/{dept}/blackouts"),
    R("/desk/blackouts/<int:blackout_id>/delete", "POST", HOST, "/desk/blackouts/{blackout}/delete"),
    R("/desk/bookings/<int:booking_id>/approve", "POST", HOST, "/desk/bookings/{requested}/approve"),
    R("/desk/bookings/<int:booking_id>/cancel", "POST", HOST, "/desk/bookings/{booking}/cancel", reason="Essai"),
    R("/desk/bookings/<int:booking_id>/no-show", "POST", HOST, "/desk/bookings/{booking}/no-show"),
    R("/desk/bookings/<int:booking_id>/pickup", "POST", HOST, "/desk/bookings/{booking}/pickup"),
    R("/desk/bookings/<int:booking_id>/reject", "POST", HOST, "/desk/bookings/{requested}/reject", reason="Essai"),
    R("/desk/bookings/<int:booking_id>/return", "POST", HOST, "/desk/bookings/{booking}/return"),
    R("/desk/bookings/<int:booking_id>/undo", "POST", HOST, "/desk/bookings/{booking}/undo"),
    R("/desk/photos/<name>", "GET", SIGNED_IN_ANY, "/desk/photos/nothing-here.jpg"),
    R("/feeds/agenda.ics", "GET", PUBLIC),
    R("/feeds/departements/<dept:code>.ics", "GET", PUBLIC, "/feeds/departements/{dept}.ics"),
    R("/feeds/host/<token>.ics", "GET", PUBLIC, "/feeds/host/{host_feed_token}.ics"),
    R("/feeds/me/<token>.ics", "GET", PUBLIC, "/feeds/me/{feed_token}.ics"),
    R("/feeds/resources/<int:resource_id>.ics", "GET", PUBLIC, "/feeds/resources/{camera}.ics"),
    R("/feeds/trainings.ics", "GET", PUBLIC),
    R("/guide", "GET", PUBLIC),
    R("/guide/<slug>", "GET", PUBLIC, "/guide/{guide_slug}"),
    R("/guide/<slug>/edit", "GET POST", ADMIN, "/guide/{guide_slug}/edit"),
    R("/guide/<slug>/restore/<int:revision_id>", "POST", ADMIN, "/guide/{guide_slug}/restore/{revision}"),
    R("/guide/print", "GET", PUBLIC),
    R("/guide/search", "GET", PUBLIC, "/guide/search?q=micro"),
    R("/home", "GET", SIGNED_IN),
    R("/items/<int:resource_id>", "GET POST", HOST, "/items/{camera}"),
    R("/items/<int:resource_id>/now", "GET", SIGNED_IN, "/items/{camera}/now"),
    R("/items/<int:resource_id>/out-of-service", "GET POST", HOST, "/items/{camera}/out-of-service"),
    R("/items/bookings/<int:booking_id>/alternatives", "GET", HOLDER_ONLY, "/items/bookings/{booking}/alternatives"),
    R("/items/bookings/<int:booking_id>/cancel", "POST", HOLDER_ONLY, "/items/bookings/{booking}/cancel"),
    R("/items/bookings/<int:booking_id>/swap", "POST", OWN_BOOKING, "/items/bookings/{booking}/swap",
      resource="{spare}"),
    R("/items/handovers/<int:handover_id>/out-of-service", "GET POST", HOST,
      "/items/handovers/{handover}/out-of-service"),
    R("/items/labels/<dept:code>", "GET", HOST, "/items/labels/{dept}"),
    R("/items/periods/<int:period_id>/back-in-service", "POST", HOST, "/items/periods/{period}/back-in-service"),
    R("/kits", "GET", PUBLIC),
    R("/kits/<slug>", "GET POST", MEMBERS, "/kits/{kit_slug}"),
    R("/kits/admin", "GET", ADMIN),
    R("/kits/admin/<int:kit_id>/edit", "GET POST", ADMIN, "/kits/admin/{kit}/edit"),
    R("/kits/admin/<int:kit_id>/retire", "POST", ADMIN, "/kits/admin/{kit}/retire"),
    R("/kits/admin/new", "GET POST", ADMIN),
    R("/kits/bookings/<int:kit_booking_id>", "GET", OWN_BOOKING, "/kits/bookings/{kit_booking}"),
    R("/kits/bookings/<int:kit_booking_id>/cancel", "POST", OWN_BOOKING, "/kits/bookings/{kit_booking}/cancel"),
    R("/kits/bookings/<int:kit_booking_id>/dates", "POST", OWN_BOOKING, "/kits/bookings/{kit_booking}/dates",
      starts_at="2027-01-25T10:00", ends_at="2027-01-25T18:00"),
    R("/language", "POST", PUBLIC),
    R("/loans/<int:booking_id>", "GET", OWN_BOOKING, "/loans/{returned}"),
    R("/loans/<int:booking_id>/confirm", "POST", OWN_BOOKING, "/loans/{returned}/confirm", handover="{handover}"),
    R("/loans/<int:booking_id>/form", "GET", OWN_BOOKING, "/loans/{booking}/form"),
    R("/login", "GET POST", GUEST),
    R("/logout", "POST", SIGNED_IN, last=True),
    R("/mentions-legales", "GET", PUBLIC),
    R("/password/forgot", "GET POST", GUEST),
    R("/password/reset/<token>", "GET POST", BAD_RESET_LINK, "/password/reset/not-a-real-token"),
    R("/points/<int:point_id>/closing-days/<int:closing_day_id>/delete", "POST", HOST,
      "/points/{point}/closing-days/{closing}/delete"),
    R("/points/<int:point_id>/edit", "GET POST", HOST, "/points/{point}/edit"),
    R("/points/new/<dept:code>", "GET POST", HOST, "/points/new/{dept}"),
    R("/register", "GET POST", GUEST),
    R("/resources", "GET", PUBLIC),
    R("/resources/<int:resource_id>", "GET", PUBLIC, "/resources/{camera}"),
    R("/series/<int:series_id>", "GET", OWN_BOOKING, "/series/{series}"),
    R("/series/<int:series_id>/cancel", "POST", OWN_BOOKING, "/series/{series}/cancel",
      booking="{series_booking}", scope="one"),
    R("/series/new", "GET POST", MEMBERS, "/series/new?resource={camera}"),
    R("/series/trainings/new", "GET POST", TRAINERS),
    R("/trainings", "GET", PUBLIC),
    R("/trainings/<int:training_id>", "GET", PUBLIC, "/trainings/{training}"),
    R("/trainings/<int:training_id>.ics", "GET", PUBLIC, "/trainings/{training}.ics"),
    R("/trainings/<int:training_id>/attendance", "POST", TRAINER, "/trainings/{training}/attendance"),
    R("/trainings/<int:training_id>/cancel", "POST", TRAINER, "/trainings/{training}/cancel"),
    R("/trainings/<int:training_id>/certificate/<int:user_id>", "GET", CERTIFICATE,
      "/trainings/{training}/certificate/{enrolled}"),
    R("/trainings/<int:training_id>/edit", "GET POST", TRAINER, "/trainings/{training}/edit"),
    R("/trainings/<int:training_id>/leave", "POST", HOLDER_ONLY, "/trainings/{training}/leave"),
    R("/trainings/<int:training_id>/message", "POST", TRAINER, "/trainings/{training}/message"),
    R("/trainings/<int:training_id>/participants", "GET", TRAINER, "/trainings/{training}/participants"),
    R("/trainings/<int:training_id>/participants.csv", "GET", TRAINER, "/trainings/{training}/participants.csv"),
    R("/trainings/<int:training_id>/sign-up", "POST", APPROVED_ONLY, "/trainings/{training}/sign-up"),
    R("/trainings/mine", "GET", SIGNED_IN),
    R("/trainings/new", "GET POST", TRAINERS),
    R("/waitlist/<int:wish_id>/withdraw", "POST", HOLDER_ONLY, "/waitlist/{wish}/withdraw"),
    R("/waitlist/hold/<int:booking_id>/<any(confirm, decline):answer>", "POST", HOLDER_ONLY,
      "/waitlist/hold/{booking}/decline"),
    R("/waitlist/new", "POST", MEMBERS),
]
# fmt: on

ACCEPTED_POST = {200, 302, 303, 400, 409, 422}


def page_routes(app) -> set[tuple[str, str]]:
    """(rule, method) of every route the table must cover."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in LEFT_OUT or (rule.rule.startswith("/api/") and rule.rule != "/api/docs"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((rule.rule, method))
    return found


def table_routes() -> set[tuple[str, str]]:
    return {(route.rule, method) for route in ROUTES for method in route.methods}


def test_every_page_route_has_exactly_one_entry_in_the_table(app):
    rules = [route.rule for route in ROUTES]
    assert len(rules) == len(set(rules)), "a route is listed twice"
    missing = sorted(page_routes(app) - table_routes())
    stale = sorted(table_routes() - page_routes(app))
    assert not missing, f"routes without an entry in the authorization table: {missing}"
    assert not stale, f"entries for routes that no longer exist: {stale}"


def test_every_role_is_expected_in_every_entry():
    assert all(set(route.access) == set(ROLES) for route in ROUTES)


def _to_login(response) -> bool:
    return response.status_code in (302, 303) and "/login" in response.headers.get("Location", "")


def _refused(response) -> bool:
    return response.status_code in (401, 403, 404) or _to_login(response)


def _verdict(expected: str, method: str, response) -> str | None:
    """What went wrong, or None."""
    status = response.status_code
    if status >= 500:
        return f"answered {status}"
    if expected == LOGIN and not _to_login(response):
        return f"answered {status}, not the login page"
    if expected == REFUSED and not _refused(response):
        return f"answered {status}, not a refusal"
    if expected == OK:
        if method == "GET" and status != 200:
            return f"answered {status}, not 200"
        if method == "POST" and status not in ACCEPTED_POST:
            return f"answered {status}, a refusal"
        if _to_login(response):
            return "was sent to the login page"
    return None


def _state():
    return scenes.row_counts(), scenes.statuses()


def run_matrix(app, session, clock, method: str) -> list[str]:
    clock(NOW)
    built = scenes.build(session)
    browsers = {role: Browser(app, built.people.get(role)) for role in ROLES}
    failures = []
    routes = sorted((r for r in ROUTES if method in r.methods), key=lambda r: r.last)
    for route in routes:
        url = route.url.format(**built.ids)
        data = {name: value.format(**built.ids) for name, value in route.data}
        # Those who must be refused first, so that a permitted action does not change what they meet.
        order = sorted(ROLES, key=lambda role: route.access[role] in (OK, ANY))
        acted = False
        for role in order:
            expected = route.access[role]
            if expected == OK and method == "POST":
                # Once one permitted person has acted, the object may be gone or moved on (a
                # cancelled booking, a deleted blackout): the others must just not break it.
                expected, acted = (ANY if acted else OK), True
            before = _state() if method == "POST" and expected in (LOGIN, REFUSED) else None
            response = browsers[role].open(method, url, data)
            session.expire_all()
            wrong = _verdict(expected, method, response)
            if wrong:
                failures.append(f"{method} {url} as {role} (expected {expected}): {wrong}")
            elif before is not None and _state() != before:
                failures.append(f"{method} {url} as {role}: refused ({response.status_code}) but changed stored rows")
    return failures


def test_every_page_answers_each_role_as_the_table_says(app, session, clock):
    failures = run_matrix(app, session, clock, "GET")
    assert not failures, "\n".join(["", *failures])


def test_every_action_is_refused_to_the_roles_that_may_not_and_changes_nothing_then(app, session, clock):
    failures = run_matrix(app, session, clock, "POST")
    assert not failures, "\n".join(["", *failures])
