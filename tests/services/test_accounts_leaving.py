"""Deleting one's account: personal data gone, the network's counts kept; structures typed in at
registration; the admin list in French order."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import unit_of_work
from app.models import ApiToken, Booking, BookingStatus, Enrolment, EnrolmentStatus, Organisation, User
from app.services import accounts
from app.services.errors import Forbidden, RuleViolation
from tests.factories import NOW, PASSWORD


def _past_booking(make_booking, resource, user, days_ago: int, **overrides):
    return make_booking(
        resource=resource,
        user=user,
        starts_at=NOW - timedelta(days=days_ago),
        ends_at=NOW - timedelta(days=days_ago - 1),
        status=BookingStatus.RETURNED.value,
        purpose="Fête de la science au collège Jean Jaurès, avec Mme Durand",
        **overrides,
    )


def test_deleting_an_account_keeps_its_bookings_counted_and_clears_every_personal_field(
    session, ctx, make_user, make_resource, make_booking
):
    member = make_user(display_name="Léa Fabre", email="lea@example.org", phone="06 12 34 56 78", feed_token="t" * 40)
    camera = make_resource()
    for days_ago in (20, 10):
        _past_booking(make_booking, camera, member, days_ago)
    session.add(ApiToken(user_id=member.id, name="tableur", token_hash="h" * 64, prefix="lm_abc", created_at=NOW))
    session.commit()

    with unit_of_work(session):
        accounts.delete_account(session, ctx(member), user=member)

    session.expire_all()
    gone = session.get(User, member.id)
    assert session.scalar(select(func.count(Booking.id)).where(Booking.user_id == member.id)) == 2
    assert "lea@example.org" not in gone.email and gone.display_name != "Léa Fabre"
    assert (gone.phone, gone.feed_token, gone.active) == (None, None, False)
    assert set(session.scalars(select(Booking.purpose).where(Booking.user_id == member.id))) == {""}
    assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == member.id)) == NOW
    assert accounts.authenticate(session, "lea@example.org", PASSWORD) is None
    assert accounts.find_by_email(session, "lea@example.org") is None


def test_an_account_still_holding_equipment_or_a_seat_to_come_cannot_be_deleted(
    session, ctx, make_user, make_resource, make_booking, make_training
):
    member = make_user()
    make_booking(
        resource=make_resource(), user=member, starts_at=NOW + timedelta(days=2), ends_at=NOW + timedelta(days=3)
    )
    training = make_training(starts_at=NOW + timedelta(days=5))
    session.add(
        Enrolment(
            session_id=training.id,
            user_id=member.id,
            status=EnrolmentStatus.REGISTERED,
            queued_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    session.commit()

    blockers = accounts.deletion_blockers(session, ctx(member), user=member)
    assert len(blockers) == 2
    assert "1 réservation en cours ou à venir" in blockers[0]
    assert "1 inscription à une formation à venir" in blockers[1]
    with pytest.raises(RuleViolation), unit_of_work(session):
        accounts.delete_account(session, ctx(member), user=member)
    assert session.get(User, member.id).active


def test_nobody_deletes_someone_elses_account_but_an_admin(session, ctx, make_user):
    member, other = make_user(), make_user()
    with pytest.raises(Forbidden), unit_of_work(session):
        accounts.delete_account(session, ctx(other), user=member)
    with unit_of_work(session):
        accounts.delete_account(session, ctx(make_user(roles={"admin"})), user=member)
    assert not session.get(User, member.id).active


def test_the_only_admin_cannot_delete_their_account(session, ctx, make_user):
    admin = make_user(roles={"admin"})
    assert accounts.deletion_blockers(session, ctx(admin), user=admin) == [
        "Vous êtes le seul administrateur : nommez-en un autre d'abord."
    ]


def test_a_structure_typed_in_at_registration_waits_for_an_admin_and_is_not_made_twice(session, ctx, make_user):
    with unit_of_work(session):
        accounts.register_from_form(
            session,
            ctx(None),
            email="nouvelle@example.org",
            display_name="Nina Nouvelle",
            password="un-mot-de-passe-long",
            new_organisation="  Les   Petits Débrouillards du Lot ",
        )
    organisation = session.scalar(select(Organisation).where(Organisation.name == "Les Petits Débrouillards du Lot"))
    assert organisation is not None and not organisation.confirmed
    assert accounts.find_by_email(session, "nouvelle@example.org").organisation_id == organisation.id
    assert accounts.unconfirmed_organisations(session) == [organisation]
    assert accounts.structure_named(session, "les petits débrouillards du lot", None) is organisation

    with unit_of_work(session):
        accounts.confirm_organisation(session, ctx(make_user(roles={"admin"})), organisation=organisation)
    assert organisation.confirmed and accounts.unconfirmed_organisations(session) == []


def test_people_are_listed_in_french_order_accents_and_case_aside(session, make_user):
    names = ["Zoé Martin", "Émile Delpech", "eva Roux", "Œdipe Roi", "Éloïse Abadie", "Ana Puig"]
    ids = {make_user(display_name=name).id: name for name in names}
    listed = [ids[i] for i in accounts.sorted_user_ids(session) if i in ids]
    assert listed == ["Ana Puig", "Éloïse Abadie", "Émile Delpech", "eva Roux", "Œdipe Roi", "Zoé Martin"]
