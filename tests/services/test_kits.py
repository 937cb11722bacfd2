"""Kits: who defines them, lines that could never be filled, booking every line or none,
nearest units first, a kit kept to one département, cancelling and moving as one."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import unit_of_work
from app.models import AuditEntry, Booking, BookingStatus, Kit, KitBooking
from app.services import booking, kits
from app.services.errors import Conflict, Forbidden, RuleViolation
from app.services.kits import LineSpec
from tests.factories import NOW, ctx

START = NOW + timedelta(days=2)
END = NOW + timedelta(days=3)


@pytest.fixture
def admin(make_user):
    return make_user(roles={"admin"})


@pytest.fixture
def member(make_user):
    return make_user(departement_code="82")


@pytest.fixture
def gear(make_category, make_resource):
    """A camera (one item), microphones in 82, 31 and 09, a light in 31."""
    camera_category = make_category(name="Caméra", needs_approval=False)
    micro = make_category(name="Micro", needs_approval=False)
    light = make_category(name="Lumière", needs_approval=True)
    return {
        "camera": make_resource(name="Caméra Sony", category=camera_category, departement_code="82"),
        "micro": micro,
        "light": light,
        "micro_09": make_resource(name="Micro Ariège", category=micro, departement_code="09"),
        "micro_31": make_resource(name="Micro Toulouse", category=micro, departement_code="31"),
        "micro_82": make_resource(name="Micro Montauban", category=micro, departement_code="82"),
        "light_31": make_resource(name="Lumière Toulouse", category=light, departement_code="31"),
    }


def define(session, admin, gear, *, micros=1, departement_code=None, name="Kit live") -> Kit:
    with unit_of_work(session):
        return kits.save(
            session,
            ctx(admin),
            kit=None,
            name=name,
            description="Tout pour un live",
            departement_code=departement_code,
            lines=[
                LineSpec(resource_id=gear["camera"].id),
                LineSpec(category_id=gear["micro"].id, quantity=micros),
            ],
        )


def book(session, member, kit, **more):
    with unit_of_work(session):
        return kits.book(
            session,
            ctx(member),
            kit=kit,
            starts_at=more.get("starts_at", START),
            ends_at=more.get("ends_at", END),
            purpose="Live",
        )


def holding(session) -> list[Booking]:
    session.expire_all()
    return list(session.scalars(select(Booking).where(Booking.is_holding).order_by(Booking.id)).unique())


# Defining ------------------------------------------------------------------------------------


def test_an_admin_defines_a_kit_with_a_slug_from_its_name_and_ordered_lines(session, admin, gear):
    kit = define(session, admin, gear, micros=2, name="Kit Live Été")
    assert kit.slug == "kit-live-ete"
    assert [(line.resource_id, line.category_id, line.quantity) for line in kit.lines] == [
        (gear["camera"].id, None, 1),
        (None, gear["micro"].id, 2),
    ]
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.subject_type == "kit")) == "create"


def test_a_member_or_a_host_may_not_define_a_kit(session, member, make_user, gear):
    for someone in (member, make_user(hosts=("82",))):
        with pytest.raises(Forbidden), unit_of_work(session):
            kits.save(
                session,
                ctx(someone),
                kit=None,
                name="Kit",
                description="",
                departement_code=None,
                lines=[LineSpec(resource_id=gear["camera"].id)],
            )
    assert session.scalar(select(func.count()).select_from(Kit)) == 0


def test_a_line_for_a_category_without_any_unit_is_refused(session, admin, make_category):
    empty = make_category(name="Prompteur")
    with pytest.raises(RuleViolation, match="Prompteur.*aucun exemplaire"), unit_of_work(session):
        kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Kit",
            description="",
            departement_code=None,
            lines=[LineSpec(category_id=empty.id)],
        )
    assert session.scalar(select(func.count()).select_from(Kit)) == 0


def test_a_line_asking_more_units_than_exist_is_refused(session, admin, gear):
    with pytest.raises(RuleViolation, match="4 demandés, mais seulement 3"):
        define(session, admin, gear, micros=4)


def test_a_restricted_kit_counts_only_the_units_of_its_departement(session, admin, gear):
    with pytest.raises(RuleViolation, match="seulement 1 exemplaire.*Tarn-et-Garonne"):
        define(session, admin, gear, micros=2, departement_code="82")


def test_a_restricted_kit_refuses_an_item_kept_elsewhere(session, admin, gear):
    with pytest.raises(RuleViolation, match="hors du département du kit"), unit_of_work(session):
        kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Kit",
            description="",
            departement_code="31",
            lines=[LineSpec(resource_id=gear["camera"].id)],
        )


def test_an_empty_kit_or_a_line_without_item_or_category_is_refused(session, admin):
    for lines in ([], [LineSpec()]):
        with pytest.raises(RuleViolation), unit_of_work(session):
            kits.save(session, ctx(admin), kit=None, name="Kit", description="", departement_code=None, lines=lines)


def test_redefining_a_kit_replaces_its_lines_and_keeps_its_slug(session, admin, gear):
    kit = define(session, admin, gear)
    with unit_of_work(session):
        kits.save(
            session,
            ctx(admin),
            kit=kit,
            name="Autre nom",
            description="",
            departement_code=None,
            lines=[LineSpec(category_id=gear["light"].id)],
        )
    session.expire_all()
    kit = session.get(Kit, kit.id)
    assert kit.slug == "kit-live" and kit.name == "Autre nom"
    assert [(line.category_id, line.position) for line in kit.lines] == [(gear["light"].id, 0)]


# Booking -------------------------------------------------------------------------------------


def test_booking_a_kit_books_every_line_nearest_first_and_links_them(session, admin, member, gear):
    kit = define(session, admin, gear, micros=2)
    made = book(session, member, kit)
    items = holding(session)
    # The member lives in 82: the micro of 82, then the one next door (31), not Ariège.
    assert {b.resource_id for b in items} == {gear["camera"].id, gear["micro_82"].id, gear["micro_31"].id}
    assert {b.kit_booking_id for b in items} == {made.id}
    assert all(b.sequence == 0 for b in items)  # the emailed answer links stay valid


def test_a_restricted_kit_takes_units_only_in_its_departement(session, admin, member, gear, make_resource):
    make_resource(name="Caméra 31", category=gear["camera"].category, departement_code="31")
    with unit_of_work(session):
        kit = kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Kit Toulouse",
            description="",
            departement_code="31",
            lines=[LineSpec(category_id=gear["micro"].id)],
        )
    book(session, member, kit)
    assert [b.resource_id for b in holding(session)] == [gear["micro_31"].id]
    # Its only micro in 31 is taken: a second kit is refused, not made of micros kept elsewhere.
    with pytest.raises(Conflict, match="Micro"):
        book(session, member, kit)
    assert [b.resource_id for b in holding(session)] == [gear["micro_31"].id]


def test_when_one_line_is_taken_nothing_is_booked_and_the_line_is_named(
    session, admin, member, gear, make_user, make_booking
):
    kit = define(session, admin, gear)
    make_booking(resource=gear["camera"], user=make_user(), starts_at=START, ends_at=END)
    with pytest.raises(Conflict, match="Caméra Sony.*Rien n'a été réservé") as refused:
        book(session, member, kit)
    assert [b.resource_id for b in holding(session)] == [gear["camera"].id]  # only the other person's
    assert session.scalar(select(func.count()).select_from(KitBooking)) == 0
    # The next time the whole kit is free: when the camera comes back.
    assert refused.value.suggestion is not None and refused.value.suggestion[0] >= END


def test_when_a_category_runs_short_the_units_already_taken_are_released(
    session, admin, member, gear, make_user, make_booking
):
    kit = define(session, admin, gear, micros=3)
    make_booking(resource=gear["micro_09"], user=make_user(), starts_at=START, ends_at=END)
    with pytest.raises(Conflict, match="3 × Micro"):
        book(session, member, kit)
    assert [b.resource_id for b in holding(session)] == [gear["micro_09"].id]


def test_the_proposed_slot_is_one_where_every_line_is_free(session, admin, member, gear, make_user, make_booking):
    kit = define(session, admin, gear, micros=3)
    other = make_user()
    make_booking(resource=gear["camera"], user=other, starts_at=START, ends_at=END)
    make_booking(resource=gear["micro_09"], user=other, starts_at=END, ends_at=END + timedelta(days=1))
    with pytest.raises(Conflict) as refused:
        book(session, member, kit)
    suggestion = refused.value.suggestion
    assert suggestion is not None and suggestion[0] >= END + timedelta(days=1)
    with unit_of_work(session):
        kits.book(session, ctx(member), kit=kit, starts_at=suggestion[0], ends_at=suggestion[1], purpose="")
    assert len(holding(session)) == 2 + 4


def test_a_pending_kit_keeps_each_item_requested_when_its_category_needs_approval(session, admin, member, gear):
    with unit_of_work(session):
        kit = kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Kit lumière",
            description="",
            departement_code=None,
            lines=[LineSpec(resource_id=gear["camera"].id), LineSpec(category_id=gear["light"].id)],
        )
    book(session, member, kit)
    assert {b.resource_id: b.status for b in holding(session)} == {
        gear["camera"].id: BookingStatus.APPROVED,
        gear["light_31"].id: BookingStatus.REQUESTED,
    }


def test_a_retired_kit_cannot_be_booked(session, admin, member, gear):
    kit = define(session, admin, gear)
    with unit_of_work(session):
        kits.set_retired(session, ctx(admin), kit=kit, retired=True)
    with pytest.raises(RuleViolation):
        book(session, member, kit)


def test_free_count_gives_whole_kits_only(session, admin, member, gear, make_user, make_booking):
    kit = define(session, admin, gear, micros=1)
    assert kits.free_count(session, kit=kit, starts_at=START, ends_at=END) == 1  # one camera
    with unit_of_work(session):
        two_micros = kits.save(
            session,
            ctx(admin),
            kit=None,
            name="Deux micros",
            description="",
            departement_code=None,
            lines=[LineSpec(category_id=gear["micro"].id, quantity=2)],
        )
    assert kits.free_count(session, kit=two_micros, starts_at=START, ends_at=END) == 1  # 3 micros // 2
    make_booking(resource=gear["camera"], user=make_user(), starts_at=START, ends_at=END)
    assert kits.free_count(session, kit=kit, starts_at=START, ends_at=END) == 0


# Cancelling and moving -----------------------------------------------------------------------


def test_cancelling_a_kit_cancels_every_item(session, admin, member, gear):
    kit = define(session, admin, gear, micros=2)
    made = book(session, member, kit)
    with unit_of_work(session):
        cancelled = kits.cancel(session, ctx(member), kit_booking=made)
    assert len(cancelled) == 3 and holding(session) == []


def test_someone_else_may_not_cancel_a_kit_nor_a_host_of_some_of_its_items_only(
    session, admin, member, gear, make_user
):
    kit = define(session, admin, gear, micros=2)
    made = book(session, member, kit)  # the camera and a micro in 82, a micro in 31
    for someone in (make_user(), make_user(hosts=("82",))):
        with pytest.raises(Forbidden), unit_of_work(session):
            kits.cancel(session, ctx(someone), kit_booking=made)
    assert len(holding(session)) == 3
    with unit_of_work(session):
        kits.cancel(session, ctx(make_user(hosts=("82", "31"))), kit_booking=made)
    assert holding(session) == []  # the hosts of every item's département manage the whole kit


def test_a_kit_with_one_item_picked_up_is_not_cancelled_at_all(session, admin, member, gear):
    kit = define(session, admin, gear)
    made = book(session, member, kit)
    item = holding(session)[0]
    with unit_of_work(session):
        item.status = BookingStatus.PICKED_UP
    with pytest.raises(Conflict, match="Impossible d'annuler le kit"), unit_of_work(session):
        kits.cancel(session, ctx(member, now=START + timedelta(hours=1)), kit_booking=made)
    assert len(holding(session)) == 2


def test_moving_a_kit_moves_every_item_or_none(session, admin, member, gear, make_user, make_booking):
    kit = define(session, admin, gear)
    made = book(session, member, kit)
    later = (START + timedelta(days=7), END + timedelta(days=7))
    with unit_of_work(session):
        kits.change_dates(session, ctx(member), kit_booking=made, starts_at=later[0], ends_at=later[1])
    assert {(b.starts_at, b.ends_at) for b in holding(session)} == {later}
    micro = next(b for b in holding(session) if b.resource_id != gear["camera"].id)
    make_booking(resource=micro.resource, user=make_user(), starts_at=START, ends_at=END)
    with pytest.raises(Conflict, match="Rien n'a été changé"), unit_of_work(session):
        kits.change_dates(session, ctx(member), kit_booking=made, starts_at=START, ends_at=END)
    assert {(b.starts_at, b.ends_at) for b in holding(session) if b.kit_booking_id == made.id} == {later}


def test_someone_else_may_not_move_a_kit(session, admin, member, gear, make_user):
    kit = define(session, admin, gear)
    made = book(session, member, kit)
    with pytest.raises(Forbidden), unit_of_work(session):
        kits.change_dates(session, ctx(make_user()), kit_booking=made, starts_at=START + timedelta(days=1), ends_at=END)


def test_an_item_of_a_kit_booked_alone_meanwhile_is_still_refused_by_the_booking_rules(
    session, admin, member, gear, make_user
):
    kit = define(session, admin, gear)
    book(session, member, kit)
    with pytest.raises(Conflict), unit_of_work(session):
        booking.create(session, ctx(make_user()), resource=gear["camera"], starts_at=START, ends_at=END, purpose="")


# The guide -----------------------------------------------------------------------------------


def test_the_guide_marker_names_a_kit_and_counts_whole_kits_free_this_week(session, admin, member, gear):
    from app.models import GuidePage
    from app.services import guide

    kit = define(session, admin, gear, micros=1)
    page = GuidePage(slug="essai", title="Essai", body=f"Avant\n\n[[reserver:{kit.slug}]]\n\nAprès\n", position=99)
    blocks = [p for p in guide.render(session, ctx(member), page=page) if isinstance(p, guide.KitBlock)]
    assert [(b.kit.id, b.free_total) for b in blocks] == [(kit.id, 1)]


def test_the_guide_marker_still_names_a_category_first(session, admin, member, gear):
    from app.models import GuidePage
    from app.services import guide

    define(session, admin, gear, name=gear["micro"].slug)  # a kit with the category's slug
    page = GuidePage(slug="essai", title="Essai", body=f"[[reserver:{gear['micro'].slug}]]\n", position=99)
    parts = guide.render(session, ctx(member), page=page)
    assert [type(p).__name__ for p in parts if not guide.is_html(p)] == ["BookingBlock"]


def test_only_an_admin_retires_a_kit(session, admin, member, gear):
    kit = define(session, admin, gear)
    with pytest.raises(Forbidden), unit_of_work(session):
        kits.set_retired(session, ctx(member), kit=kit, retired=True)
    session.expire_all()
    assert session.get(Kit, kit.id).retired_at is None


def test_two_kits_may_not_share_a_name_and_a_page_name_is_not_taken_as_a_slug(session, admin, gear):
    define(session, admin, gear)
    with pytest.raises(Conflict, match="déjà ce nom"):
        define(session, admin, gear)
    assert define(session, admin, gear, name="Admin").slug == "admin-kit"


def test_a_period_ending_before_it_starts_or_already_past_is_refused_and_nothing_is_held(session, admin, member, gear):
    kit = define(session, admin, gear)
    with pytest.raises(RuleViolation, match="La fin doit venir après le début"):
        book(session, member, kit, starts_at=END, ends_at=START)
    with pytest.raises(RuleViolation, match="Ce début est déjà passé"):
        book(session, member, kit, starts_at=NOW - timedelta(days=1), ends_at=NOW)
    assert holding(session) == []
