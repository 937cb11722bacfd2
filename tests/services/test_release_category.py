"""The category's release delay and no-show rule, as an admin saves them."""

import pytest

from app.db import unit_of_work
from app.models import Category
from app.services import catalogue
from app.services.errors import Forbidden, RuleViolation
from tests.factories import ctx

BASE = {
    "name_plural": "Comptes",
    "description": "",
    "needs_approval": False,
    "max_duration_hours": 4,
    "min_lead_hours": 0,
    "max_advance_days": 60,
    "buffer_hours": 0,
    "per_member_limit": None,
}


@pytest.fixture
def admin(make_user):
    return make_user(roles={"admin"})


def save(session, actor, category=None, **values):
    with unit_of_work(session):
        return catalogue.save_category(session, ctx(actor), category=category, **{**BASE, **values})


def test_an_admin_saves_the_release_delay_and_the_no_show_rule(session, admin):
    saved = save(
        session,
        admin,
        name="Compte Twitch",
        needs_pickup=False,
        release_after_minutes=45,
        no_show_limit=3,
        no_show_window_days=90,
    )
    session.expire_all()
    category = session.get(Category, saved.id)
    assert (category.release_after_minutes, category.no_show_limit, category.no_show_window_days) == (45, 3, 90)


def test_left_empty_an_account_is_never_released_and_there_is_no_rule(session, admin):
    saved = save(
        session,
        admin,
        name="Compte OBS",
        needs_pickup=False,
        release_after_minutes=None,
        no_show_limit=None,
        no_show_window_days=None,
    )
    assert (saved.release_after_minutes, saved.no_show_limit, saved.no_show_window_days) == (None, None, 180)


def test_a_caller_that_does_not_name_the_new_fields_gets_thirty_minutes_for_an_account_and_keeps_them_on_update(
    session, admin
):
    account = save(session, admin, name="Compte Zoom", needs_pickup=False)
    assert (account.release_after_minutes, account.no_show_limit, account.no_show_window_days) == (30, None, 180)
    account.release_after_minutes, account.no_show_limit = 50, 2
    session.commit()
    save(session, admin, category=account, name="Compte Zoom", needs_pickup=False)
    assert (account.release_after_minutes, account.no_show_limit) == (50, 2)


def test_a_physical_item_has_no_release_delay(session, admin):
    camera = save(session, admin, name="Caméra", needs_pickup=True, release_after_minutes=30, no_show_limit=3)
    assert (camera.release_after_minutes, camera.no_show_limit) == (None, 3)


@pytest.mark.parametrize("field", ["release_after_minutes", "no_show_limit", "no_show_window_days"])
def test_zero_or_less_is_refused_with_its_field(session, admin, field):
    with pytest.raises(RuleViolation) as refused:
        save(session, admin, name="Compte Meet", needs_pickup=False, **{field: 0})
    assert refused.value.field == field
    assert session.query(Category).count() == 0


def test_only_an_admin_sets_the_rules(session, make_user):
    with pytest.raises(Forbidden):
        save(session, make_user(hosts=("31",)), name="Compte Meet", needs_pickup=False, release_after_minutes=5)
