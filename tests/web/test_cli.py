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
    statuses = set(session.scalars(select(Booking.status)))
    assert {"requested", "approved", "picked_up", "returned"} <= statuses
    assert count(session, Blackout) == 1

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


def test_emails_written_outside_a_request_link_to_site_url(make_app, make_user, session):
    """As in the CLI or the scheduler: an app context, no request, no SERVER_NAME."""
    from app.extensions import db
    from app.i18n import utcnow
    from app.models import OutboxMessage
    from app.services import accounts

    make_user(roles={"admin"}, email="premier@example.org")
    app = make_app(SERVER_NAME=None, SITE_URL="https://lamalle.example.org")
    with app.app_context():
        accounts.register(
            db.session, email="second@example.org", display_name="Second", password="tres-long-secret", now=utcnow()
        )
        db.session.remove()
    session.rollback()
    mail = session.scalar(select(OutboxMessage))
    assert mail.to_address == "premier@example.org"
    assert "https://lamalle.example.org/admin/users/" in mail.body_text
