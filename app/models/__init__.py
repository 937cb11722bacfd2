"""All models, imported here so that Alembic and the app see the whole schema."""

from app.models.agenda import AgendaEvent, AgendaSource, AgendaTheme, EventStatus
from app.models.audit import AuditEntry
from app.models.bookings import HOLDING_STATUSES, Booking, BookingSeries, BookingStatus, Condition, Recurrence
from app.models.content import GuidePage, GuideRevision
from app.models.kits import Kit, KitBooking, KitLine
from app.models.loans import ClosingDay, Handover, HandoverKind, OpeningHours, OutOfService, PickupPoint, RepairNote
from app.models.outbox import OutboxMessage, OutboxStatus
from app.models.people import Departement, Organisation, OrganisationKind, Role, User, UserRole, host_departements
from app.models.resources import Blackout, Category, Resource
from app.models.tokens import ApiToken
from app.models.trainings import SEATED, Enrolment, EnrolmentStatus, TrainingSession, TrainingTopic
from app.models.waitlist import Wish, WishStatus

__all__ = [
    "ApiToken",
    "HOLDING_STATUSES",
    "AgendaEvent",
    "AgendaSource",
    "AgendaTheme",
    "SEATED",
    "AuditEntry",
    "Blackout",
    "Booking",
    "BookingSeries",
    "BookingStatus",
    "Recurrence",
    "Category",
    "ClosingDay",
    "Handover",
    "Kit",
    "KitBooking",
    "KitLine",
    "HandoverKind",
    "OpeningHours",
    "OutOfService",
    "PickupPoint",
    "RepairNote",
    "Condition",
    "Departement",
    "Enrolment",
    "EnrolmentStatus",
    "EventStatus",
    "GuidePage",
    "GuideRevision",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "OutboxStatus",
    "Resource",
    "Role",
    "TrainingSession",
    "TrainingTopic",
    "User",
    "UserRole",
    "host_departements",
    "Wish",
    "WishStatus",
]
