"""The audit trail read as sentences, in the reader's language, never as internal codes.

« Inès Vidal a remis l'objet à Camille Martin le mardi 1 décembre 2026 à 10 h 05 — bon état ».
Each audit action written by the services has its sentence here; an action this module does
not know still reads as words (« … a effectué une opération sur la réservation … »), and the
states are named by their enum's label. Dates are written in ctx.zone, words in the language
of the request (gettext).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from app.db import DbSession
from app.i18n import format_day, format_time
from app.models import (
    AuditEntry,
    Booking,
    BookingStatus,
    Condition,
    Enrolment,
    EnrolmentStatus,
    EventStatus,
    Handover,
    HandoverKind,
    OutOfService,
    PickupPoint,
    RepairNote,
    Resource,
    TrainingSession,
    User,
    WishStatus,
)
from app.models.types import StateEnum
from app.services import booking as bookings
from app.services import training as trainings
from app.services.context import ServiceContext
from app.services.errors import Forbidden, NotFound

# The actions the services write, by subject (the tests read every one of them as a sentence).
KNOWN_ACTIONS: dict[str, tuple[str, ...]] = {
    "booking": (
        "create",
        "approve",
        "reject",
        "cancel",
        "change",
        "extend",
        "pickup",
        "return",
        "no_show",
        "reveal-credentials",
        "reveal-refused",
        "confirm-pickup",
        "confirm-return",
        "undo",
        "swap",
        "release",
        "offer",
        "confirm",
        "decline",
        "lapse",
    ),
    "wish": ("create", "offer", "confirm", "decline", "lapse", "withdraw"),
    "resource": ("create", "update", "retire", "reinstate", "out-of-service", "back-in-service"),
    "user": ("register", "approve", "activate", "deactivate", "roles", "password", "password-reset"),
    "training": ("create", "update", "cancel"),
    "enrolment": ("sign-up", "cancel", "promote", "attendance"),
    "agenda": ("propose", "update", "published", "refused", "cancelled", "reopen"),
    "category": ("create", "update", "retire"),
    "blackout": ("create", "delete"),
    "pickup_point": ("update", "hours", "closing-day", "closing-day-removed"),
    "topic": ("save",),
}

_STATES: dict[str, type[StateEnum]] = {
    "booking": BookingStatus,
    "enrolment": EnrolmentStatus,
    "agenda": EventStatus,
    "wish": WishStatus,
}

_ROLE_NAMES = {
    "member": _l("Membre"),
    "host": _l("Hôte départemental"),
    "trainer": _l("Formateur·rice"),
    "admin": _l("Administrateur"),
}

# A handover and the audit entry of the same desk action are written at the same instant;
# the margin only absorbs a database that rounds instants.
_SAME_ACTION = timedelta(seconds=5)


@dataclass(frozen=True)
class HistoryLine:
    """One audit entry, as a sentence."""

    at: datetime
    text: str


@dataclass(frozen=True)
class _Scene:
    """What a sentence may name about one entry."""

    entry: AuditEntry
    key: str
    who: str
    when: str
    holder: str
    holder_id: int | None
    handover: Handover | None
    ctx: ServiceContext

    @property
    def note(self) -> str:
        return (self.entry.note or "").strip()

    def v(self, **more: Any) -> dict[str, Any]:
        return {"who": self.who, "when": self.when, "holder": self.holder, **more}

    def state(self, value: str | None) -> str | None:
        """A state's label, when the subject has states and this is one of them."""
        states = _STATES.get(self.entry.subject_type)
        if value is None or states is None:
            return None
        try:
            return str(states(value).label)
        except ValueError:
            return None

    def instant(self, value: datetime) -> str:
        return _when(value, self.ctx)


Sentence = Callable[[_Scene], str]


# Reading ---------------------------------------------------------------------------------------


def sentences(session: DbSession, ctx: ServiceContext, *, subject_type: str, subject_id: int) -> list[HistoryLine]:
    """The history of one subject, oldest first, for those allowed to read it.

    A booking: its holder, the resource's hosts, admins (with its handovers' entries).
    A resource: its hosts and admins (with its out-of-service periods and repair notes).
    A person's account: that person and admins. A training session: whoever runs it (with
    its enrolments). A pickup point: its hosts and admins. Anything else: admins.
    """
    _require_reader(session, ctx, subject_type, subject_id)
    return _read(session, ctx, subject_type, subject_id)


def for_reader(session: DbSession, ctx: ServiceContext, *, subject_type: str, subject_id: int) -> list[HistoryLine]:
    """The same, or nothing for someone not allowed to read it: for pages anyone may open."""
    try:
        _require_reader(session, ctx, subject_type, subject_id)
    except (Forbidden, NotFound):
        return []
    return _read(session, ctx, subject_type, subject_id)


def _require_reader(session: DbSession, ctx: ServiceContext, subject_type: str, subject_id: int) -> None:
    actor = ctx.user
    if actor.is_admin:
        return
    refused = Forbidden(_("Cet historique ne vous est pas accessible."))
    if subject_type == "booking":
        bookings.visible(session, ctx, subject_id)
    elif subject_type == "user":
        if actor.id != subject_id:
            raise refused
    elif subject_type == "resource":
        resource = session.get(Resource, subject_id)
        if resource is None or not bookings.can_manage(actor, resource):
            raise refused
    elif subject_type == "training":
        training = session.get(TrainingSession, subject_id)
        if training is None or not trainings.can_manage(actor, training):
            raise refused
    elif subject_type == "pickup_point":
        point = session.get(PickupPoint, subject_id)
        if point is None or not actor.hosts(point.departement_code):
            raise refused
    else:
        raise refused


def _read(session: DbSession, ctx: ServiceContext, subject_type: str, subject_id: int) -> list[HistoryLine]:
    subjects: list[tuple[str, Iterable[int]]] = [(subject_type, [subject_id])]
    holder: tuple[int | None, str] = (None, "")
    handovers: list[Handover] = []
    notes: list[RepairNote] = []
    people: dict[int, tuple[int | None, str]] = {}
    if subject_type == "booking":
        found = session.get(Booking, subject_id)
        if found is not None:
            holder = (found.user_id, found.user.display_name)
        handovers = list(session.scalars(select(Handover).where(Handover.booking_id == subject_id)).unique())
        subjects.append(("handover", [h.id for h in handovers]))
    elif subject_type == "resource":
        periods = list(session.scalars(select(OutOfService.id).where(OutOfService.resource_id == subject_id)))
        notes = list(session.scalars(select(RepairNote).where(RepairNote.out_of_service_id.in_(periods))).unique())
        subjects += [("out_of_service", periods), ("repair_note", [n.id for n in notes])]
    elif subject_type == "training":
        people = _people(session, Enrolment.session_id == subject_id)
        subjects.append(("enrolment", list(people)))
    elif subject_type == "enrolment":
        people = _people(session, Enrolment.id == subject_id)
    wanted = [and_(AuditEntry.subject_type == kind, AuditEntry.subject_id.in_(list(ids))) for kind, ids in subjects]
    entries = session.scalars(select(AuditEntry).where(or_(*wanted)).order_by(AuditEntry.at, AuditEntry.id)).unique()
    by_id = {h.id: h for h in handovers}
    lines = []
    for entry in entries:
        handover = by_id.get(entry.subject_id) if entry.subject_type == "handover" else None
        if handover is None and entry.subject_type == "booking":
            handover = _handover_of(entry, handovers)
        who = entry.actor.display_name if entry.actor is not None else _("Le système")
        person = people.get(entry.subject_id, (None, "")) if entry.subject_type == "enrolment" else holder
        scene = _Scene(
            entry=entry,
            key=_key(entry.action),
            who=who,
            when=_when(entry.at, ctx),
            holder_id=person[0],
            holder=person[1],
            handover=handover,
            ctx=ctx,
        )
        lines.append(HistoryLine(at=entry.at, text=sentence(scene)))
    # The repair log keeps its own author and time (nothing audits a note): one line each.
    lines += [_repair_line(note, ctx) for note in notes]
    return sorted(lines, key=lambda line: line.at)


def _repair_line(note: RepairNote, ctx: ServiceContext) -> HistoryLine:
    who = note.author.display_name if note.author is not None else _("Le système")
    text = _("%(who)s a noté une réparation le %(when)s", who=who, when=_when(note.at, ctx))
    return HistoryLine(at=note.at, text=_joined(text, note.note.strip() or None))


def _people(session: DbSession, where: Any) -> dict[int, tuple[int | None, str]]:
    """The person of each enrolment, for « a inscrit Camille Martin (place libérée) »."""
    rows = session.execute(
        select(Enrolment.id, User.id, User.display_name).join(User, User.id == Enrolment.user_id).where(where)
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def _handover_of(entry: AuditEntry, handovers: list[Handover]) -> Handover | None:
    """The record written by the desk action this entry tells (same booking, kind and instant)."""
    kind = {"pickup": HandoverKind.PICKUP, "return": HandoverKind.RETURN}.get(_key(entry.action))
    if kind is None:
        return None
    near = [h for h in handovers if h.kind == kind and abs(h.recorded_at - entry.at) <= _SAME_ACTION]
    return min(near, key=lambda h: abs(h.recorded_at - entry.at), default=None)


def _key(action: str) -> str:
    """One spelling of an action code: « no_show », « No-Show » and « no show » are one action."""
    return re.sub(r"[\s_:.]+", "-", (action or "").strip().lower())


def _when(instant: datetime, ctx: ServiceContext) -> str:
    return _("%(day)s à %(time)s", day=format_day(instant, ctx.zone), time=format_time(instant, ctx.zone))


def _joined(main: str, *details: str | None) -> str:
    return main + "".join(f" — {detail}" for detail in details if detail)


def _reason(scene: _Scene) -> str | None:
    return _("motif : %(reason)s", reason=scene.note) if scene.note else None


def _noted(scene: _Scene) -> str | None:
    return scene.note or None


# The sentences ---------------------------------------------------------------------------------


def sentence(scene: _Scene) -> str:
    subject = scene.entry.subject_type
    if subject == "handover":
        return _handover_sentence(scene)
    special = _BY_SUBJECT.get(subject, {}).get(scene.key) or _guess(subject, scene.key)
    if special is not None:
        return special(scene)
    generic = _GENERIC.get(scene.key)
    if generic is not None:
        return generic(scene)
    return _fallback(scene)


def _fallback(scene: _Scene) -> str:
    state = scene.state(scene.entry.to_state)
    return _joined(
        _(
            "%(who)s a effectué une opération sur %(what)s le %(when)s",
            **scene.v(what=_noun(scene.entry.subject_type)),
        ),
        _("état : %(state)s", state=state) if state else None,
        _noted(scene),
    )


def _noun(subject_type: str) -> str:
    nouns = {
        "booking": _l("la réservation"),
        "resource": _l("l'objet"),
        "user": _l("le compte"),
        "training": _l("la session de formation"),
        "enrolment": _l("l'inscription"),
        "agenda": _l("l'événement"),
        "category": _l("la catégorie"),
        "blackout": _l("la fermeture"),
        "pickup_point": _l("le lieu de retrait"),
        "topic": _l("le thème de formation"),
        "out_of_service": _l("l'objet"),
        "repair_note": _l("l'objet"),
        "handover": _l("la remise"),
        "wish": _l("le souhait"),
    }
    return str(nouns.get(subject_type, _l("cet élément")))


def _condition_detail(scene: _Scene) -> str | None:
    """The condition the host recorded: from the handover row, else from the entry's note."""
    if scene.handover is not None:
        condition: Condition | None = scene.handover.condition
        note = (scene.handover.note or "").strip()
    else:
        condition, note = _legacy_condition(scene.note)
    if condition is None:
        return note or None
    label = str(condition.label).lower()
    return _("%(condition)s : %(note)s", condition=label, note=note) if note else label


def _legacy_condition(note: str) -> tuple[Condition | None, str]:
    """Returns recorded before handovers existed wrote « incomplete: il manque… » in the note."""
    for condition in Condition:
        if note == condition.value:
            return condition, ""
        if note.startswith(f"{condition.value}:"):
            return condition, note[len(condition.value) + 1 :].strip()
    return None, note


def _new_end(scene: _Scene) -> str | None:
    """The extension's new end, from its note « <old end> → <new end> »."""
    _old, arrow, new = scene.note.partition("→")
    if not arrow:
        return None
    try:
        return scene.instant(datetime.fromisoformat(new.strip()))
    except ValueError:
        return None


def _undo(scene: _Scene, what: str | None = None) -> str:
    """« a annulé la remise saisie par erreur »: which one from the code, else from the state it left."""
    key = scene.key
    before = scene.entry.from_state
    what = what or (
        "pickup"
        if "pickup" in key or before == BookingStatus.PICKED_UP
        else "return"
        if "return" in key or before == BookingStatus.RETURNED
        else "no-show"
        if "no-show" in key or before == BookingStatus.NO_SHOW
        else ""
    )
    if what == "pickup":
        return _("%(who)s a annulé la remise saisie par erreur le %(when)s", **scene.v())
    if what == "return":
        return _("%(who)s a annulé le retour saisi par erreur le %(when)s", **scene.v())
    if what == "no-show":
        return _("%(who)s a annulé le « non retiré » saisi par erreur le %(when)s", **scene.v())
    return _("%(who)s a annulé une saisie faite par erreur le %(when)s", **scene.v())


def _swap(scene: _Scene) -> str:
    """The booking moved to another unit; the note reads « <item> (<dept>) → <item> (<dept>) »."""
    source, arrow, target = scene.note.partition("→")
    detail = _("de %(source)s à %(target)s", source=source.strip(), target=target.strip()) if arrow else _noted(scene)
    return _joined(_("%(who)s a reporté la réservation sur un autre exemplaire le %(when)s", **scene.v()), detail)


def _booking_create(scene: _Scene) -> str:
    if scene.entry.to_state == BookingStatus.APPROVED:
        return _("%(who)s a réservé le %(when)s (validée d'office)", **scene.v())
    return _("%(who)s a demandé la réservation le %(when)s", **scene.v())


def _booking_change(scene: _Scene) -> str:
    back_to_host = scene.entry.from_state == BookingStatus.APPROVED and scene.entry.to_state == BookingStatus.REQUESTED
    return _joined(
        _("%(who)s a changé les dates le %(when)s", **scene.v()),
        _("à valider de nouveau par l'hôte") if back_to_host else None,
    )


def _booking_extend(scene: _Scene) -> str:
    until = _new_end(scene)
    if until is None:
        return _("%(who)s a prolongé la réservation le %(when)s", **scene.v())
    return _("%(who)s a prolongé la réservation jusqu'au %(until)s, le %(when)s", **scene.v(until=until))


def _pickup(scene: _Scene) -> str:
    return _joined(_("%(who)s a remis l'objet à %(holder)s le %(when)s", **scene.v()), _condition_detail(scene))


def _return(scene: _Scene) -> str:
    return _joined(
        _("%(who)s a récupéré l'objet rendu par %(holder)s le %(when)s", **scene.v()), _condition_detail(scene)
    )


def _handover_sentence(scene: _Scene) -> str:
    """Entries written about a handover row itself: what it was tells which sentence."""
    handover = scene.handover
    what = "pickup" if handover is None or handover.kind == HandoverKind.PICKUP else "return"
    key = scene.key
    if "undo" in key or "undone" in key:
        return _undo(scene, what)
    if "confirm" in key:
        return (_confirm_pickup if what == "pickup" else _confirm_return)(scene)
    if key in {"create", "record", "pickup", "return"}:
        return (_pickup if what == "pickup" else _return)(scene)
    return _fallback(scene)


def _confirm_pickup(scene: _Scene) -> str:
    return _("%(who)s a confirmé avoir reçu l'objet le %(when)s", **scene.v())


def _confirm_return(scene: _Scene) -> str:
    return _("%(who)s a confirmé avoir rendu l'objet le %(when)s", **scene.v())


def _out_of_service(scene: _Scene) -> str:
    return _joined(_("%(who)s a mis l'objet hors service le %(when)s", **scene.v()), _reason(scene))


def _back_in_service(scene: _Scene) -> str:
    return _joined(_("%(who)s a remis l'objet en service le %(when)s", **scene.v()), _noted(scene))


def _repair(scene: _Scene) -> str:
    return _joined(_("%(who)s a noté une réparation le %(when)s", **scene.v()), _noted(scene))


def _roles(scene: _Scene) -> str:
    roles = [str(_ROLE_NAMES[r]) for r in (scene.entry.to_state or "").split(",") if r in _ROLE_NAMES]
    detail = _("désormais : %(roles)s", roles=", ".join(roles)) if roles else None
    codes = scene.note.split()
    where = _("départements %(codes)s", codes=", ".join(codes)) if codes else None
    return _joined(_("%(who)s a changé les rôles le %(when)s", **scene.v()), detail, where)


def _enrolment_sign_up(scene: _Scene) -> str:
    if scene.entry.to_state == EnrolmentStatus.WAITLISTED:
        return _("%(who)s s'est inscrit·e sur la liste d'attente le %(when)s", **scene.v())
    return _("%(who)s s'est inscrit·e le %(when)s", **scene.v())


def _enrolment_cancel(scene: _Scene) -> str:
    if scene.entry.actor_id is not None and scene.entry.actor_id == scene.holder_id:
        return _("%(who)s a annulé son inscription le %(when)s", **scene.v())
    return _("%(who)s a annulé l'inscription de %(holder)s le %(when)s", **scene.v())


def _attendance(scene: _Scene) -> str:
    if scene.entry.to_state == EnrolmentStatus.ATTENDED:
        return _("%(who)s a noté la présence de %(holder)s le %(when)s", **scene.v())
    return _("%(who)s a retiré la présence de %(holder)s le %(when)s", **scene.v())


def _closing_day(scene: _Scene, added: bool) -> str:
    try:
        day = format_day(date.fromisoformat(scene.note), scene.ctx.zone)
    except ValueError:
        day = scene.note
    if added:
        return _("%(who)s a ajouté un jour de fermeture, le %(day)s, le %(when)s", **scene.v(day=day))
    return _("%(who)s a retiré le jour de fermeture du %(day)s, le %(when)s", **scene.v(day=day))


def _blackout(scene: _Scene, created: bool) -> str:
    where = _("département %(code)s", code=scene.note) if scene.note else None
    if created:
        return _joined(_("%(who)s a enregistré une fermeture le %(when)s", **scene.v()), where)
    return _joined(_("%(who)s a supprimé une fermeture le %(when)s", **scene.v()), where)


_BY_SUBJECT: dict[str, dict[str, Sentence]] = {
    "booking": {
        "create": _booking_create,
        "approve": lambda s: _("%(who)s a validé la réservation le %(when)s", **s.v()),
        "reject": lambda s: _joined(_("%(who)s a refusé la réservation le %(when)s", **s.v()), _reason(s)),
        "cancel": lambda s: _joined(_("%(who)s a annulé la réservation le %(when)s", **s.v()), _reason(s)),
        "change": _booking_change,
        "extend": _booking_extend,
        "pickup": _pickup,
        "return": _return,
        "no-show": lambda s: _("%(who)s a noté que l'objet n'a pas été retiré, le %(when)s", **s.v()),
        "reveal-credentials": lambda s: _("%(who)s a affiché les identifiants le %(when)s", **s.v()),
        "reveal-refused": lambda s: _("%(who)s a tenté d'afficher les identifiants le %(when)s (refusé)", **s.v()),
        "confirm-pickup": _confirm_pickup,
        "confirm-return": _confirm_return,
        "undo": _undo,
        "swap": _swap,
        "release": lambda s: _joined(_("%(who)s a libéré la réservation le %(when)s", **s.v()), _noted(s)),
        "offer": lambda s: _("%(who)s a proposé ce créneau libéré à %(holder)s (liste d'attente) le %(when)s", **s.v()),
        "confirm": lambda s: _("%(who)s a confirmé le créneau proposé le %(when)s", **s.v()),
        "decline": lambda s: _("%(who)s a décliné le créneau proposé le %(when)s", **s.v()),
        "lapse": lambda s: _(
            "%(who)s a passé à la personne suivante le créneau proposé à %(holder)s, resté sans réponse, le %(when)s",
            **s.v(),
        ),
    },
    "wish": {
        "create": lambda s: _("%(who)s s'est inscrit·e sur la liste d'attente du matériel le %(when)s", **s.v()),
        "offer": lambda s: _("%(who)s a proposé un créneau libéré le %(when)s", **s.v()),
        "confirm": lambda s: _("%(who)s a pris le créneau proposé le %(when)s", **s.v()),
        "decline": lambda s: _("%(who)s a décliné le créneau proposé le %(when)s", **s.v()),
        "lapse": lambda s: _("%(who)s a levé l'option restée sans réponse le %(when)s", **s.v()),
        "withdraw": lambda s: _("%(who)s a quitté la liste d'attente le %(when)s", **s.v()),
    },
    "resource": {
        "create": lambda s: _("%(who)s a ajouté l'objet au catalogue le %(when)s", **s.v()),
        "update": lambda s: _("%(who)s a modifié la fiche de l'objet le %(when)s", **s.v()),
        "retire": lambda s: _("%(who)s a retiré l'objet du catalogue le %(when)s", **s.v()),
        "reinstate": lambda s: _("%(who)s a remis l'objet au catalogue le %(when)s", **s.v()),
    },
    "user": {
        "register": lambda s: _("%(who)s a créé son compte le %(when)s", **s.v()),
        "approve": lambda s: _("%(who)s a validé le compte le %(when)s", **s.v()),
        "activate": lambda s: _("%(who)s a réactivé le compte le %(when)s", **s.v()),
        "deactivate": lambda s: _("%(who)s a désactivé le compte le %(when)s", **s.v()),
        "roles": _roles,
        "password": lambda s: _("%(who)s a changé le mot de passe le %(when)s", **s.v()),
        "password-reset": lambda s: _(
            "%(who)s a choisi un nouveau mot de passe par le lien de réinitialisation le %(when)s", **s.v()
        ),
    },
    "training": {
        "create": lambda s: _("%(who)s a créé la session de formation le %(when)s", **s.v()),
        "update": lambda s: _("%(who)s a modifié la session de formation le %(when)s", **s.v()),
        "cancel": lambda s: _joined(_("%(who)s a annulé la session de formation le %(when)s", **s.v()), _reason(s)),
    },
    "enrolment": {
        "sign-up": _enrolment_sign_up,
        "cancel": _enrolment_cancel,
        "promote": lambda s: _("%(who)s a inscrit %(holder)s (place libérée) le %(when)s", **s.v()),
        "attendance": _attendance,
    },
    "agenda": {
        "propose": lambda s: _("%(who)s a proposé l'événement le %(when)s", **s.v()),
        "update": lambda s: _("%(who)s a modifié l'événement le %(when)s", **s.v()),
        "published": lambda s: _("%(who)s a publié l'événement le %(when)s", **s.v()),
        "refused": lambda s: _joined(_("%(who)s a refusé l'événement le %(when)s", **s.v()), _reason(s)),
        "cancelled": lambda s: _joined(_("%(who)s a annulé l'événement le %(when)s", **s.v()), _reason(s)),
        "proposed": lambda s: _("%(who)s a remis l'événement à relire le %(when)s", **s.v()),
        "reopen": lambda s: _("%(who)s a rouvert l'événement le %(when)s", **s.v()),
    },
    "category": {
        "create": lambda s: _("%(who)s a créé la catégorie le %(when)s", **s.v()),
        "update": lambda s: _("%(who)s a modifié les règles de la catégorie le %(when)s", **s.v()),
        "retire": lambda s: _("%(who)s a retiré la catégorie du catalogue le %(when)s", **s.v()),
    },
    "blackout": {
        "create": lambda s: _blackout(s, True),
        "delete": lambda s: _blackout(s, False),
    },
    "pickup_point": {
        "update": lambda s: _("%(who)s a modifié le lieu de retrait le %(when)s", **s.v()),
        "hours": lambda s: _joined(_("%(who)s a changé les horaires d'ouverture le %(when)s", **s.v()), _noted(s)),
        "closing-day": lambda s: _closing_day(s, True),
        "closing-day-removed": lambda s: _closing_day(s, False),
    },
    "topic": {
        "save": lambda s: _("%(who)s a enregistré le thème de formation le %(when)s", **s.v()),
    },
}

# Out-of-service periods and repair notes may be audited as their own subjects: their entries
# read as the resource's.
_ITEM_SENTENCES: dict[str, Sentence] = {
    "create": _out_of_service,
    "start": _out_of_service,
    "end": _back_in_service,
    "close": _back_in_service,
    "update": lambda s: _("%(who)s a modifié la mise hors service le %(when)s", **s.v()),
}
_BY_SUBJECT["out_of_service"] = _ITEM_SENTENCES
_BY_SUBJECT["repair_note"] = {"create": _repair, "save": _repair}


_BACK_WORDS = {"back", "restore", "restored", "end", "ended", "close", "closed", "repaired", "fixed"}


def _guess(subject: str, key: str) -> Sentence | None:
    """Spellings of the loan actions other than the ones listed above (« undo_pickup », « pickup-undone »,
    « put-back-in-service »…): the words in the code say what happened."""
    if "undo" in key or "undone" in key:
        return _undo
    words = set(key.split("-"))
    if subject in {"resource", "out_of_service", "repair_note"}:
        if "repair" in words or "repairs" in words:
            return _repair
        if words & _BACK_WORDS or key.startswith("in-service"):
            return _back_in_service
        if "out" in words or "oos" in words:
            return _out_of_service
    if subject == "booking" and "confirm" in key:
        if "return" in key:
            return _confirm_return
        if "pickup" in key or "receipt" in key:
            return _confirm_pickup
    return None


# Verbs that read the same whatever the subject: « a créé la catégorie », « a supprimé le thème ».
_GENERIC: dict[str, Sentence] = {
    "create": lambda s: _("%(who)s a créé %(what)s le %(when)s", **s.v(what=_noun(s.entry.subject_type))),
    "update": lambda s: _("%(who)s a modifié %(what)s le %(when)s", **s.v(what=_noun(s.entry.subject_type))),
    "delete": lambda s: _("%(who)s a supprimé %(what)s le %(when)s", **s.v(what=_noun(s.entry.subject_type))),
    "save": lambda s: _("%(who)s a enregistré %(what)s le %(when)s", **s.v(what=_noun(s.entry.subject_type))),
    "cancel": lambda s: _joined(
        _("%(who)s a annulé %(what)s le %(when)s", **s.v(what=_noun(s.entry.subject_type))), _reason(s)
    ),
    "approve": lambda s: _("%(who)s a validé %(what)s le %(when)s", **s.v(what=_noun(s.entry.subject_type))),
    "retire": lambda s: _("%(who)s a retiré %(what)s le %(when)s", **s.v(what=_noun(s.entry.subject_type))),
}
