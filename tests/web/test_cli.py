from sqlalchemy import func, select

from app.models import Blackout, Booking, Category, Departement, Organisation, Resource, User


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_thirteen_departements_come_with_the_migrations(session):
    names = dict(session.execute(select(Departement.code, Departement.name)).all())
    assert len(names) == 13
    assert names["34"] == "Hérault" and names["66"] == "Pyrénées-Orientales" and names["82"] == "Tarn-et-Garonne"


def test_seed_demo_loads_the_network_once(runner, session):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    plv = session.scalar(select(Category).where(Category.slug == "stand-plv"))
    assert count(session, Resource, Resource.category_id == plv.id) == 13
    assert count(session, Resource) == 13 + 30 + 3
    assert count(session, Organisation) >= 15
    admin = session.scalar(select(User).where(User.email == "admin@example.org"))
    assert admin.is_admin and admin.is_approved
    aude = session.scalar(select(User).where(User.email == "hote.aude@example.org"))
    assert aude.host_codes == {"11"}
    statuses = set(session.scalars(select(Booking.status)))  # enum members, equal to their values
    assert {"requested", "approved", "picked_up", "returned"} <= statuses
    assert count(session, Blackout) == 1
    assert session.scalar(select(Category.slug).where(Category.name == "Kit de streaming")) == "kit-streaming"

    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "already holds data" in again.output
    assert count(session, User) == 15


def test_demo_logins_are_printed(runner):
    output = runner.invoke(args=["demo-logins"]).output
    assert "lamalle-demo" in output and "hote.herault@example.org" in output


def test_create_admin_makes_an_approved_administrator(runner, session):
    result = runner.invoke(
        args=["create-admin", "--email", "Chef@Example.org", "--name", "Chef", "--password", "tres-long-secret"]
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "chef@example.org"))
    assert user.is_admin and user.is_approved


def test_create_admin_refuses_a_short_password(runner, session):
    result = runner.invoke(args=["create-admin", "--email", "a@example.org", "--name", "A", "--password", "court"])
    assert result.exit_code != 0
    assert count(session, User) == 0


def test_create_admin_goes_through_the_rules_and_leaves_an_audit_trail(runner, session, make_user):
    from app.models import AuditEntry

    host = make_user(email="hote@example.org", hosts=("11",), approved=False)
    result = runner.invoke(args=["create-admin", "--email", "hote@example.org", "--name", "x", "--password", "x"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert host.is_admin and host.is_approved and host.host_codes == {"11"}  # an existing account keeps its roles
    trail = session.scalars(select(AuditEntry).where(AuditEntry.subject_id == host.id).order_by(AuditEntry.id))
    assert [(e.action, e.actor_id) for e in trail] == [("roles", None), ("approve", None)]  # the console, no person


def test_emails_written_outside_a_request_link_to_site_url(make_app, make_user, session):
    """As in the CLI or the scheduler: an app context, no request, no SERVER_NAME."""
    from app import entry
    from app.db import unit_of_work
    from app.extensions import db
    from app.models import OutboxMessage
    from app.services import accounts

    make_user(roles={"admin"}, email="premier@example.org")
    app = make_app(SERVER_NAME=None, SITE_URL="https://lamalle.example.org")
    with app.app_context(), unit_of_work(db.session):
        accounts.register(
            db.session, entry.for_cli(), email="second@example.org", display_name="Second", password="tres-long-secret"
        )
    session.rollback()
    mail = session.scalar(select(OutboxMessage))
    assert mail.to_address == "premier@example.org"
    assert "https://lamalle.example.org/admin/users/" in mail.body_text


def test_the_demo_is_made_through_the_services_in_the_configured_time_zone(session, ctx):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from app import demo
    from app.entry import console_operator
    from app.models import AgendaEvent, AuditEntry, OutboxMessage, TrainingSession
    from tests.factories import NOW

    auckland = ZoneInfo("Pacific/Auckland")
    demo.load(session, ctx(console_operator(), now=NOW, zone=auckland))
    bookings = session.scalars(select(Booking)).all()
    assert {b.starts_at.astimezone(auckland).hour for b in bookings} <= {9, 10, 14}
    # Each booking was asked for by its holder, under the rules, and its history says so.
    created = session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "booking", AuditEntry.action == "create")
    )
    assert {(e.subject_id, e.actor_id) for e in created} == {(b.id, b.user_id) for b in bookings}
    assert count(session, Booking, Booking.status == "picked_up", Booking.ends_at < NOW) == 1  # one late return
    assert count(session, TrainingSession) == 12 and count(session, AgendaEvent) == 60
    assert count(session, AgendaEvent, AgendaEvent.status == "proposed") == 4
    assert count(session, OutboxMessage) == 0  # invented people are told nothing
    member = session.scalar(select(User).where(User.email == "membre@example.org"))
    assert member.created_at == NOW - timedelta(days=120)
