"""The audit trail reads as sentences in the reader's language, never as internal codes."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.db import unit_of_work
from app.models import (
    AuditEntry,
    BookingStatus,
    Condition,
    Enrolment,
    EnrolmentStatus,
    Handover,
    HandoverKind,
    OutOfService,
    RepairNote,
)
from app.services import audit, booking, history
from app.services.errors import Forbidden
from tests.factories import NOW, ctx

H = timedelta(hours=1)
# Tuesday 1 December 2026, 10:05 in Paris.
TUESDAY = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)

# What a reader must never see: state codes, arrows of the old « (∅ → requested) », ISO dates.
CODES = re.compile(
    r"picked_up|no_show|in_service|out_of_service|waitlisted|∅|→|\d{4}-\d{2}-\d{2}|\b(requested|approved|returned)\b"
)


@pytest.fixture
def host(make_user):
    return make_user(display_name="Inès Vidal", hosts=("11",))


@pytest.fixture
def holder(make_user):
    return make_user(display_name="Camille Martin")


@pytest.fixture
def admin(make_user):
    return make_user(display_name="Alex Admin", roles={"admin"})


@pytest.fixture
def camera(make_resource, make_category):
    return make_resource(
        name="Caméra Sony", category=make_category(name="Caméra"), departement_code="11", contents="caméra\nchargeur"
    )


@pytest.fixture
def loan(make_booking, camera, holder):
    return make_booking(resource=camera, user=holder, starts_at=TUESDAY, ends_at=TUESDAY + 48 * H)


def write(session, actor, subject_type, subject_id, action, *, at=TUESDAY, **values):
    with unit_of_work(session):
        audit.record(
            session, ctx(actor, now=at), subject_type=subject_type, subject_id=subject_id, action=action, **values
        )


def lines(session, reader, subject_type, subject_id, *, now=NOW):
    return [
        line.text
        for line in history.sentences(session, ctx(reader, now=now), subject_type=subject_type, subject_id=subject_id)
    ]


def only_line(session, reader, subject_type, subject_id):
    (text,) = lines(session, reader, subject_type, subject_id)
    return text


def test_a_pickup_names_the_host_the_holder_the_time_and_the_condition(session, loan, host, holder):
    handover = Handover(
        booking_id=loan.id, kind=HandoverKind.PICKUP, recorded_at=TUESDAY, recorded_by_id=host.id, condition="ok"
    )
    handover.checked = ["caméra", "chargeur"]
    session.add(handover)
    session.commit()
    write(session, host, "booking", loan.id, "pickup", from_state="approved", to_state="picked_up")
    assert only_line(session, holder, "booking", loan.id) == (
        "Inès Vidal a remis l'objet à Camille Martin le mardi 1 décembre 2026 à 10\u00a0h\u00a005 — bon état"
    )


def test_a_return_says_what_was_missing_from_its_record(session, loan, host, holder):
    session.add(
        Handover(
            booking_id=loan.id,
            kind=HandoverKind.RETURN,
            recorded_at=TUESDAY,
            recorded_by_id=host.id,
            condition=Condition.INCOMPLETE,
            note="Manque : chargeur.",
        )
    )
    session.commit()
    write(session, host, "booking", loan.id, "return", from_state="picked_up", to_state="returned")
    assert only_line(session, holder, "booking", loan.id) == (
        "Inès Vidal a récupéré l'objet rendu par Camille Martin le mardi 1 décembre 2026 à 10\u00a0h\u00a005"
        " — incomplet : Manque : chargeur."
    )


def test_an_old_return_note_with_a_condition_code_reads_in_words(session, loan, host, holder):
    write(session, host, "booking", loan.id, "return", note="damaged: écran fissuré")
    assert only_line(session, holder, "booking", loan.id).endswith("— abîmé : écran fissuré")


def test_a_booking_made_approved_then_cancelled_through_the_services_reads_as_sentences(session, camera, host, holder):
    start = NOW + 48 * H
    with unit_of_work(session):
        made = booking.create(
            session, ctx(holder, now=TUESDAY), resource=camera, starts_at=start, ends_at=start + 4 * H, purpose=""
        )
    with unit_of_work(session):
        booking.approve(session, ctx(host, now=TUESDAY + H), booking=made)
    with unit_of_work(session):
        booking.extend(session, ctx(holder, now=TUESDAY + 2 * H), booking=made, ends_at=start + 6 * H)
    with unit_of_work(session):
        booking.cancel(session, ctx(holder, now=TUESDAY + 3 * H), booking=made, reason="Tournage reporté")
    assert lines(session, holder, "booking", made.id) == [
        "Camille Martin a demandé la réservation le mardi 1 décembre 2026 à 10\u00a0h\u00a005",
        "Inès Vidal a validé la réservation le mardi 1 décembre 2026 à 11\u00a0h\u00a005",
        "Camille Martin a prolongé la réservation jusqu'au mercredi 13 janvier 2027 à 16\u00a0h\u00a000,"
        " le mardi 1 décembre 2026 à 12\u00a0h\u00a005",
        "Camille Martin a annulé la réservation le mardi 1 décembre 2026 à 13\u00a0h\u00a005"
        " — motif : Tournage reporté",
    ]


def test_a_refusal_gives_its_reason_and_a_refused_reveal_says_so(session, loan, host, holder):
    write(session, host, "booking", loan.id, "reject", note="Déjà prêtée ce jour-là", to_state="rejected")
    write(session, holder, "booking", loan.id, "reveal-refused", at=TUESDAY + H)
    write(session, holder, "booking", loan.id, "reveal-credentials", at=TUESDAY + 2 * H)
    assert lines(session, holder, "booking", loan.id) == [
        "Inès Vidal a refusé la réservation le mardi 1 décembre 2026 à 10\u00a0h\u00a005"
        " — motif : Déjà prêtée ce jour-là",
        "Camille Martin a tenté d'afficher les identifiants le mardi 1 décembre 2026 à 11\u00a0h\u00a005 (refusé)",
        "Camille Martin a affiché les identifiants le mardi 1 décembre 2026 à 12\u00a0h\u00a005",
    ]


def test_an_undo_names_what_was_entered_by_mistake(session, loan, host, holder):
    write(session, host, "booking", loan.id, "undo", from_state="picked_up", to_state="approved")
    write(session, host, "booking", loan.id, "undo", from_state="returned", to_state="picked_up", at=TUESDAY + H)
    write(session, host, "booking", loan.id, "undo", from_state="no_show", to_state="approved", at=TUESDAY + 2 * H)
    assert lines(session, holder, "booking", loan.id) == [
        "Inès Vidal a annulé la remise saisie par erreur le mardi 1 décembre 2026 à 10\u00a0h\u00a005",
        "Inès Vidal a annulé le retour saisi par erreur le mardi 1 décembre 2026 à 11\u00a0h\u00a005",
        "Inès Vidal a annulé le « non retiré » saisi par erreur le mardi 1 décembre 2026 à 12\u00a0h\u00a005",
    ]


def test_a_seat_given_by_the_waitlist_reads_as_the_systems_doing(session, make_training, holder, admin):
    training = make_training()
    enrolment = Enrolment(
        session_id=training.id,
        user_id=holder.id,
        status=EnrolmentStatus.REGISTERED,
        queued_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        sequence=0,
    )
    session.add(enrolment)
    session.commit()
    write(session, None, "enrolment", enrolment.id, "promote", from_state="waitlisted", to_state="registered")
    assert only_line(session, admin, "training", training.id) == (
        "Le système a inscrit Camille Martin (place libérée) le mardi 1 décembre 2026 à 10\u00a0h\u00a005"
    )


def test_out_of_service_back_in_service_and_repairs_read_on_the_items_history(session, camera, host):
    period = OutOfService(
        resource_id=camera.id, starts_at=TUESDAY, ends_at=TUESDAY + 3 * H, reason="Écran fissuré", created_by_id=host.id
    )
    period.repairs.append(RepairNote(at=TUESDAY + H, author_id=host.id, note="Écran commandé"))
    session.add(period)
    session.commit()
    write(session, host, "resource", camera.id, "out-of-service", note="Écran fissuré", to_state="out_of_service")
    write(session, host, "resource", camera.id, "back-in-service", at=TUESDAY + 3 * H, from_state="out_of_service")
    assert lines(session, host, "resource", camera.id) == [
        "Inès Vidal a mis l'objet hors service le mardi 1 décembre 2026 à 10\u00a0h\u00a005 — motif : Écran fissuré",
        "Inès Vidal a noté une réparation le mardi 1 décembre 2026 à 11\u00a0h\u00a005 — Écran commandé",
        "Inès Vidal a remis l'objet en service le mardi 1 décembre 2026 à 13\u00a0h\u00a005",
    ]


def test_an_action_nobody_taught_the_history_still_reads_as_words(session, loan, host, holder):
    write(session, host, "booking", loan.id, "frobnicate_widget", to_state="approved", note="Vu avec Camille")
    text = only_line(session, holder, "booking", loan.id)
    assert text == (
        "Inès Vidal a effectué une opération sur la réservation le mardi 1 décembre 2026 à 10\u00a0h\u00a005"
        " — état : Validée — Vu avec Camille"
    )


def _scene(session, make_training, make_user, loan, camera, holder, host):
    """One entry for every action the services write, on subjects that exist."""
    training = make_training()
    enrolment = Enrolment(
        session_id=training.id,
        user_id=holder.id,
        status=EnrolmentStatus.REGISTERED,
        queued_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        sequence=0,
    )
    session.add(enrolment)
    session.commit()
    subjects = {
        "booking": loan.id,
        "resource": camera.id,
        "user": holder.id,
        "training": training.id,
        "enrolment": enrolment.id,
        "agenda": 7,
        "category": camera.category_id,
        "blackout": 3,
        "pickup_point": camera.pickup_point_id,
        "topic": 1,
        "wish": 5,
    }
    states = {
        "booking": ("approved", "picked_up"),
        "enrolment": ("waitlisted", "registered"),
        "agenda": ("proposed", "published"),
        "wish": ("waiting", "offered"),
        "user": ("member", "admin,host,member"),
    }
    notes = {
        "extend": "2026-12-03T09:05:00+00:00 → 2026-12-04T09:05:00+00:00",
        "swap": "Caméra Sony (11) → Caméra Canon (34)",
        "closing-day": "2026-12-25",
        "closing-day-removed": "2026-12-25",
        "roles": "11 34",
        "return": "incomplete: il manque le chargeur",
    }
    minute = 0
    for subject_type, actions in history.KNOWN_ACTIONS.items():
        before, after = states.get(subject_type, (None, None))
        for action in actions:
            minute += 1  # one instant per entry, to find each one's sentence
            write(
                session,
                host,
                subject_type,
                subjects[subject_type],
                action,
                at=TUESDAY + timedelta(minutes=minute),
                from_state=before,
                to_state=after,
                note=notes.get(action),
            )
    return subjects


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_action_the_services_write_reads_as_a_sentence_without_codes(
    app, session, make_training, make_user, loan, camera, holder, host, admin, language
):
    subjects = _scene(session, make_training, make_user, loan, camera, holder, host)
    weekday = {"fr": "mardi 1 décembre 2026", "en": "Tuesday 1 December 2026"}[language]
    with app.test_request_context(), force_locale(language):
        for subject_type, actions in history.KNOWN_ACTIONS.items():
            subject_id = subjects[subject_type]
            entries = session.scalars(
                select(AuditEntry).where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
            ).all()
            assert sorted(e.action for e in entries) == sorted(actions)
            found = history.sentences(session, ctx(admin), subject_type=subject_type, subject_id=subject_id)
            said = {line.at: line.text for line in found}
            for entry in entries:
                text = said[entry.at]
                assert text[0].isupper() and weekday in text and "Inès Vidal" in text, text
                assert not CODES.search(text), text
                if language == "fr" or re.search(r"[-_]", entry.action):
                    assert not re.search(rf"(?<![\w-]){re.escape(entry.action)}(?![\w-])", text), text


def test_each_known_action_has_a_sentence_of_its_own(
    session, make_training, make_user, loan, camera, holder, host, admin
):
    subjects = _scene(session, make_training, make_user, loan, camera, holder, host)
    for subject_type in history.KNOWN_ACTIONS:
        texts = lines(session, admin, subject_type, subjects[subject_type])
        assert not any("a effectué une opération" in text for text in texts), (subject_type, texts)


def test_only_the_holder_the_hosts_and_admins_read_a_bookings_history(session, loan, host, holder, admin, make_user):
    write(session, holder, "booking", loan.id, "create", to_state="requested")
    for reader in (holder, host, admin):
        assert len(lines(session, reader, "booking", loan.id)) == 1
    with pytest.raises(Forbidden):
        lines(session, make_user(), "booking", loan.id)
    with pytest.raises(Forbidden):
        lines(session, make_user(hosts=("34",)), "booking", loan.id)


def test_a_persons_history_is_for_them_and_admins(session, holder, admin, host):
    write(session, holder, "user", holder.id, "register")
    assert lines(session, holder, "user", holder.id) == [
        "Camille Martin a créé son compte le mardi 1 décembre 2026 à 10\u00a0h\u00a005"
    ]
    assert len(lines(session, admin, "user", holder.id)) == 1
    with pytest.raises(Forbidden):
        lines(session, host, "user", holder.id)


def test_an_items_history_is_for_its_hosts_and_admins_and_empty_for_others(
    session, camera, host, admin, holder, make_user
):
    write(session, admin, "resource", camera.id, "create")
    assert len(lines(session, host, "resource", camera.id)) == 1
    assert len(lines(session, admin, "resource", camera.id)) == 1
    with pytest.raises(Forbidden):
        lines(session, holder, "resource", camera.id)
    with pytest.raises(Forbidden):
        lines(session, make_user(hosts=("34",)), "resource", camera.id)
    assert history.for_reader(session, ctx(holder), subject_type="resource", subject_id=camera.id) == []
    assert history.for_reader(session, ctx(None), subject_type="resource", subject_id=camera.id) == []
    assert len(history.for_reader(session, ctx(host), subject_type="resource", subject_id=camera.id)) == 1


def test_a_training_history_is_for_whoever_runs_it(session, make_training, make_user, holder):
    trainer = make_user(roles={"trainer"})
    training = make_training(trainer=trainer)
    write(session, trainer, "training", training.id, "create")
    assert lines(session, trainer, "training", training.id) == [
        f"{trainer.display_name} a créé la session de formation le mardi 1 décembre 2026 à 10\u00a0h\u00a005"
    ]
    with pytest.raises(Forbidden):
        lines(session, holder, "training", training.id)


def test_states_are_named_by_their_labels_in_english_too(app, session, loan, host, holder):
    write(session, host, "booking", loan.id, "mystery", to_state=BookingStatus.PICKED_UP)
    with app.test_request_context(), force_locale("en"):
        text = only_line(session, holder, "booking", loan.id)
        assert "Tuesday 1 December 2026" in text
        assert str(BookingStatus.PICKED_UP.label) in text
        assert "picked_up" not in text and "mystery" not in text


def test_a_pickup_points_history_is_for_its_hosts_and_other_histories_for_admins(
    session, camera, host, holder, admin, make_user
):
    write(session, host, "pickup_point", camera.pickup_point_id, "update")
    write(session, admin, "category", camera.category_id, "update")
    assert len(lines(session, host, "pickup_point", camera.pickup_point_id)) == 1
    with pytest.raises(Forbidden):
        lines(session, make_user(hosts=("34",)), "pickup_point", camera.pickup_point_id)
    assert len(lines(session, admin, "category", camera.category_id)) == 1
    with pytest.raises(Forbidden):
        lines(session, host, "category", camera.category_id)
    with pytest.raises(Forbidden):
        lines(session, None, "booking", 1)


def test_a_whole_loan_recorded_at_the_desk_and_confirmed_reads_as_sentences(session, loan, host, holder):
    from app.services import loan as desk_loan
    from app.services import receipts

    with unit_of_work(session):
        out = desk_loan.record_pickup(session, ctx(host, now=TUESDAY), booking=loan, checked=["caméra", "chargeur"])
    with unit_of_work(session):
        receipts.confirm(session, ctx(holder, now=TUESDAY + timedelta(minutes=2)), handover=out)
    with unit_of_work(session):
        desk_loan.record_return(
            session,
            ctx(host, now=TUESDAY + 24 * H),
            booking=loan,
            checked=["caméra"],
            condition="incomplete",
            note="",
        )
    with unit_of_work(session):
        desk_loan.undo(session, ctx(host, now=TUESDAY + 24 * H + timedelta(minutes=3)), booking=loan)
    assert lines(session, holder, "booking", loan.id) == [
        "Inès Vidal a remis l'objet à Camille Martin le mardi 1 décembre 2026 à 10\u00a0h\u00a005 — bon état",
        "Camille Martin a confirmé avoir reçu l'objet le mardi 1 décembre 2026 à 10\u00a0h\u00a007",
        "Inès Vidal a récupéré l'objet rendu par Camille Martin le mercredi 2 décembre 2026 à 10\u00a0h\u00a005"
        " — incomplet : Manque : chargeur.",
        "Inès Vidal a annulé le retour saisi par erreur le mercredi 2 décembre 2026 à 10\u00a0h\u00a008",
    ]
