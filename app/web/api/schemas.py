"""What the API reads and writes, as marshmallow schemas: the same classes check a call's input,
shape its answer, and are the OpenAPI document's components (app/web/api/openapi.py).

Input schemas refuse what they do not know (an extra field is an error, not ignored) and say
why in the caller's language; query schemas let unknown parameters pass (a cache-buster), but
check the ones they name. Ids are bounded by what the id columns hold (2³¹ − 1); instants are
RFC 3339 date-times with an offset, between 1970 and 2100, like every date the app accepts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.i18n import EARLIEST_YEAR, LATEST_YEAR
from app.web.forms import CONTROL, CONTROL_IN_LINE

MAX_ID = 2**31 - 1
MAX_PAGE = 10_000
MAX_PER_PAGE = 100

# RFC 3339 (the `date-time` of JSON Schema): seconds and an offset are required.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DIGITS = re.compile(r"[0-9]{1,10}")

_REQUIRED = _l("Ce champ est obligatoire.")
_NULL = _l("Ce champ ne peut pas être vide (null).")


class FullMatch(validate.Regexp):
    """A pattern the whole value must match: JSON Schema reads `pattern` so (its `$` is the very
    end), Python's `re.match` would accept a trailing newline."""

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or re.fullmatch(str(self.regex.pattern), value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Id(fields.Integer):
    """A row's id in a JSON body: a JSON integer (not a string, not a boolean) that can be an id."""

    default_error_messages = {
        "invalid": _l("Un nombre entier est attendu."),
        "too_large": _l("Ce nombre est trop grand."),
        "required": _REQUIRED,
        "null": _NULL,
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID, error=_l("Aucun élément ne porte ce numéro.")))
        super().__init__(strict=True, **kwargs)


class QueryInt(fields.Integer):
    """A whole number in the address (`?page=2`): ASCII digits only, bounded."""

    default_error_messages = Id.default_error_messages

    def __init__(self, *, maximum: int = MAX_ID, minimum: int = 1, **kwargs: Any) -> None:
        kwargs.setdefault(
            "validate",
            validate.Range(
                min=minimum,
                max=maximum,
                error=_l("Un nombre entre %(min)d et %(max)d est attendu.", min=minimum, max=maximum),
            ),
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or _DIGITS.fullmatch(value) is None:
            raise self.make_error("invalid")
        return int(value)


class Instant(fields.DateTime):
    """An RFC 3339 date-time with its offset, read as the UTC instant it names; written in UTC."""

    default_error_messages = {
        "invalid": _l("Une date et heure RFC 3339 avec décalage est attendue, par exemple 2027-01-12T10:00:00+01:00."),
        "range": _l("Choisissez une date entre %(first)d et %(last)d.", first=EARLIEST_YEAR, last=LATEST_YEAR),
        "required": _REQUIRED,
        "null": _NULL,
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40 or _RFC3339.fullmatch(value) is None:
            raise self.make_error("invalid")
        text = value.upper()
        # Python reads at most microseconds: nanoseconds are cut, not refused.
        text = re.sub(r"\.([0-9]+)", lambda m: "." + m.group(1)[:6].ljust(6, "0"), text)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as error:
            raise self.make_error("invalid") from error
        if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
            raise self.make_error("range")
        return parsed.astimezone(UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Text(fields.String):
    """Text a person typed: valid UTF-8, bounded, without control characters (a line: no line breaks)."""

    default_error_messages = {
        "invalid": _l("Un texte est attendu."),
        "invalid_utf8": _l("Ce texte n'est pas de l'UTF-8 valide."),
        "control": _l("Ce champ contient des caractères non permis."),
        "required": _REQUIRED,
        "null": _NULL,
    }

    def __init__(self, *, max_length: int, multiline: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault(
            "validate", validate.Length(max=max_length, error=_l("%(num)d caractères au plus.", num=max_length))
        )
        super().__init__(**kwargs)
        self.pattern = CONTROL if multiline else CONTROL_IN_LINE

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")  # a lone surrogate ("\ud800") is valid JSON but no stored text
        except UnicodeEncodeError as error:
            raise self.make_error("invalid_utf8") from error
        if self.pattern.search(text):
            raise self.make_error("control")
        return text


def Choice(choices: list[str], **kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.OneOf(choices, error=_l("Valeur inconnue.")),
        error_messages={"invalid": _l("Un texte est attendu."), "required": _REQUIRED, "null": _NULL},
        **kwargs,
    )


def Departement(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=FullMatch(r"^(?:[0-9]{2}|2[AB])$", error=_l("Un code de département est attendu, par exemple 34.")),
        error_messages={"invalid": _l("Un texte est attendu.")},
        **{"metadata": {"description": _l("Code de département, par exemple 34")}, **kwargs},
    )


class ApiSchema(Schema):
    """A JSON body: every field known, every message in the caller's language."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": _l("Ce champ n'est pas attendu."),
        "type": _l("Un objet JSON est attendu."),
    }


class QuerySchema(Schema):
    """The parameters of an address: those named are checked, others ignored."""

    class Meta:
        unknown = EXCLUDE

    error_messages = ApiSchema.error_messages


class PageQuery(QuerySchema):
    page = QueryInt(maximum=MAX_PAGE, load_default=1, metadata={"description": _l("Numéro de page, à partir de 1")})
    per_page = QueryInt(maximum=MAX_PER_PAGE, metadata={"description": _l("Éléments par page (20 sauf indication)")})


# Input -------------------------------------------------------------------------------------------


class ResourceQuery(PageQuery):
    category = QueryInt(metadata={"description": _l("Numéro de la catégorie")})
    departement = Departement()
    q = Text(max_length=80, metadata={"description": _l("Mots du nom ou de la description")})
    free_from = Instant(metadata={"description": _l("Libre à partir de cet instant (avec free_until)")})
    free_until = Instant(metadata={"description": _l("… jusqu'à celui-ci")})

    @validates_schema
    def _both_ends(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("free_from" in data) != ("free_until" in data):
            raise ValidationError(_l("Indiquez le début et la fin de la période."), "free_until")


class PeriodQuery(QuerySchema):
    start = Instant(required=True)
    end = Instant(required=True)


class OptionalPeriodQuery(QuerySchema):
    start = Instant(metadata={"description": _l("Avec end : compter les kits entiers libres sur la période")})
    end = Instant()

    @validates_schema
    def _both_ends(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("start" in data) != ("end" in data):
            raise ValidationError(_l("Indiquez le début et la fin de la période."), "end")


class TrainingQuery(PageQuery):
    topic = QueryInt(metadata={"description": _l("Numéro du thème")})
    mode = Choice(["online", "in_person"])
    departement = Departement()


class AgendaQuery(PageQuery):
    month = fields.String(
        validate=FullMatch(r"^[0-9]{4}-[0-9]{2}$", error=_l("Un mois est attendu, par exemple 2027-01.")),
        metadata={"description": _l("AAAA-MM (le mois en cours sinon)")},
    )
    departement = Departement()
    theme = Text(max_length=60, metadata={"description": _l("Identifiant du thème (slug)")})
    audience = Choice(["scolaires", "grand_public", "neophytes", "amateurs"])
    campaign = Choice(["rentree", "ete"])


class MyBookingsQuery(PageQuery):
    phase = Choice(["late", "current", "upcoming", "past"], metadata={"description": _l("Seulement cette phase")})


class DeskQuery(QuerySchema):
    departement = Departement(
        metadata={"description": _l("Un des départements dont vous êtes hôte (administrateurs : n'importe lequel)")}
    )


class BookingIn(ApiSchema):
    resource_id = Id(metadata={"description": _l("La ressource à réserver (ou kit_id)")})
    kit_id = Id(metadata={"description": _l("Le kit à réserver en entier (ou resource_id)")})
    start = Instant(required=True)
    end = Instant(required=True)
    purpose = Text(max_length=500, multiline=True, load_default="")

    @validates_schema
    def _one_target(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("resource_id" in data) == ("kit_id" in data):
            raise ValidationError(_l("Indiquez resource_id ou kit_id, un des deux."), "resource_id")


class CancelIn(ApiSchema):
    reason = Text(max_length=500, multiline=True, metadata={"description": _l("Dit au membre quand un hôte annule")})


class RejectIn(ApiSchema):
    reason = Text(max_length=500, required=True, validate=validate.Length(min=1, max=500))


class HandoverIn(ApiSchema):
    checked = fields.List(
        Text(max_length=200),
        load_default=list,
        validate=validate.Length(max=100),
        error_messages={"invalid": _l("Une liste est attendue.")},
        metadata={"description": _l("Les lignes du contenu qui sont là")},
    )
    condition = Choice(["ok", "incomplete", "damaged"], load_default="ok")
    note = Text(max_length=2000, multiline=True, load_default=None, allow_none=True)


class EmptyIn(ApiSchema):
    """No field: an empty object, or no body at all."""


# Output ------------------------------------------------------------------------------------------


class Out(Schema):
    class Meta:
        unknown = RAISE


class Link(Out):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class DepartementOut(Out):
    code = fields.String(required=True)
    name = fields.String(required=True)


class CategoryOut(Out):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    name_plural = fields.String(required=True)
    description = fields.String(required=True)
    needs_pickup = fields.Boolean(
        required=True, metadata={"description": _l("Un objet remis en main propre, pas un compte")}
    )
    needs_approval = fields.Boolean(required=True)
    max_duration_hours = fields.Integer(required=True)
    min_lead_hours = fields.Integer(required=True)
    max_advance_days = fields.Integer(required=True)
    buffer_hours = fields.Integer(required=True)
    per_member_limit = fields.Integer(required=True, allow_none=True)


class CategoryList(Out):
    items = fields.List(fields.Nested(CategoryOut), required=True)


class PickupPointOut(Out):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    address = fields.String(required=True)
    access_notes = fields.String(required=True)
    opening_hours = fields.List(
        fields.String(), required=True, metadata={"description": _l("Une ligne par jour d'ouverture")}
    )


class ResourceOut(Out):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    inventory_code = fields.String(required=True, allow_none=True)
    category = fields.Nested(Link, required=True)
    departement = fields.Nested(DepartementOut, required=True)
    needs_pickup = fields.Boolean(required=True)
    contents = fields.List(fields.String(), required=True)
    pickup_point = fields.Nested(PickupPointOut, required=True, allow_none=True)
    url = fields.String(required=True, metadata={"description": _l("Sa page")})
    availability = fields.String(required=True, metadata={"description": _l("Ses disponibilités dans l'API")})
    calendar = fields.String(required=True, metadata={"description": _l("Son agenda iCal public")})


class BusyOut(Out):
    start = Instant(required=True)
    end = Instant(required=True)
    held_until = Instant(required=True, metadata={"description": _l("Fin du battement de préparation")})
    kind = fields.String(required=True, validate=validate.OneOf(["booking", "blackout", "out_of_service"]))


class SlotOut(Out):
    start = Instant(required=True)
    end = Instant(required=True)


class AvailabilityOut(Out):
    resource_id = fields.Integer(required=True)
    start = Instant(required=True)
    end = Instant(required=True)
    busy = fields.List(fields.Nested(BusyOut), required=True, metadata={"description": _l("Sans nom")})
    free = fields.List(
        fields.Nested(SlotOut),
        required=True,
        metadata={"description": _l("Libres, et dans les heures d'ouverture du lieu de retrait quand il en a")},
    )


class KitLineOut(Out):
    resource = fields.Nested(Link, required=True, allow_none=True)
    category = fields.Nested(Link, required=True, allow_none=True)
    quantity = fields.Integer(required=True)


class KitOut(Out):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    departement_code = fields.String(required=True, allow_none=True)
    lines = fields.List(fields.Nested(KitLineOut), required=True)
    free_count = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": _l("Kits entiers libres de start à end (null sans période)")},
    )
    url = fields.String(required=True)


class KitList(Out):
    items = fields.List(fields.Nested(KitOut), required=True)


class TopicOut(Out):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)


class TrainingOut(Out):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    topic = fields.Nested(TopicOut, required=True)
    description = fields.String(required=True, metadata={"description": _l("Markdown")})
    level = fields.String(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(["online", "in_person"]))
    place = fields.String(required=True, allow_none=True)
    departement_code = fields.String(required=True, allow_none=True)
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    registration_opens_at = Instant(required=True, allow_none=True)
    registration_deadline = Instant(required=True)
    capacity = fields.Integer(required=True)
    seats_taken = fields.Integer(required=True)
    seats_left = fields.Integer(required=True)
    waitlisted = fields.Integer(required=True)
    cancelled = fields.Boolean(required=True)
    url = fields.String(required=True)


class SchemaOrgPostalAddress(Out):
    type_ = fields.String(required=True, data_key="@type")
    addressLocality = fields.String(required=True)
    addressRegion = fields.String(required=True, allow_none=True)
    addressCountry = fields.String(required=True)


class SchemaOrgPlace(Out):
    type_ = fields.String(required=True, data_key="@type")
    name = fields.String(required=True)
    address = fields.Nested(SchemaOrgPostalAddress, required=True)


class SchemaOrgOrganization(Out):
    type_ = fields.String(required=True, data_key="@type")
    name = fields.String(required=True)


class SchemaOrgEvent(Out):
    context = fields.String(required=True, data_key="@context")
    type_ = fields.String(required=True, data_key="@type")
    name = fields.String(required=True)
    description = fields.String(required=True)
    startDate = Instant(required=True)
    endDate = Instant(required=True)
    eventStatus = fields.String(required=True)
    eventAttendanceMode = fields.String(required=True)
    location = fields.Nested(SchemaOrgPlace, required=True)
    organizer = fields.Nested(SchemaOrgOrganization, required=True, allow_none=True)
    url = fields.String(required=True)
    keywords = fields.List(fields.String(), required=True)


class ThemeOut(Out):
    slug = fields.String(required=True)
    name = fields.String(required=True)


class EventOut(Out):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    organiser = fields.String(required=True)
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    all_day = fields.Boolean(required=True)
    departement_code = fields.String(required=True, allow_none=True)
    town = fields.String(required=True)
    link = fields.String(required=True, allow_none=True)
    audiences = fields.List(fields.String(), required=True)
    themes = fields.List(fields.Nested(ThemeOut), required=True)
    region_supported = fields.Boolean(required=True)
    campaign = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(["published", "cancelled"]))
    url = fields.String(required=True)
    schema_org = fields.Nested(SchemaOrgEvent, required=True, metadata={"description": _l("L'Event schema.org")})


class BookedResource(Out):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    departement_code = fields.String(required=True)


class MemberOut(Out):
    id = fields.Integer(required=True)
    display_name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True, allow_none=True)


BOOKING_STATUSES = [
    "requested",
    "approved",
    "picked_up",
    "returned",
    "rejected",
    "cancelled",
    "no_show",
    "proposed",
    "lapsed",
]


class BookingOut(Out):
    id = fields.Integer(required=True)
    resource = fields.Nested(BookedResource, required=True)
    start = Instant(required=True)
    end = Instant(required=True)
    status = fields.String(required=True, validate=validate.OneOf(BOOKING_STATUSES))
    status_label = fields.String(required=True)
    purpose = fields.String(required=True)
    kit_booking_id = fields.Integer(required=True, allow_none=True)
    created_at = Instant(required=True)
    url = fields.String(required=True)


class MyBookingOut(BookingOut):
    phase = fields.String(required=True, validate=validate.OneOf(["late", "current", "upcoming", "past"]))


class DeskBookingOut(BookingOut):
    member = fields.Nested(MemberOut, required=True)


class KitBookingOut(Out):
    id = fields.Integer(required=True)
    kit = fields.Nested(Link, required=True)
    created_at = Instant(required=True)
    bookings = fields.List(fields.Nested(BookingOut), required=True)
    url = fields.String(required=True)


class EnrolmentOut(Out):
    training_id = fields.Integer(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(["registered", "waitlisted", "cancelled", "attended"])
    )
    status_label = fields.String(required=True)
    position = fields.Integer(
        required=True, allow_none=True, metadata={"description": _l("Place sur la liste d'attente, 1 = la prochaine")}
    )


class DeskOut(Out):
    departements = fields.List(fields.String(), required=True)
    requests = fields.List(fields.Nested(DeskBookingOut), required=True)
    pickups_today = fields.List(fields.Nested(DeskBookingOut), required=True)
    pickups_upcoming = fields.List(fields.Nested(DeskBookingOut), required=True)
    returns_today = fields.List(fields.Nested(DeskBookingOut), required=True)
    out_now = fields.List(fields.Nested(DeskBookingOut), required=True)
    late = fields.List(fields.Nested(DeskBookingOut), required=True)
    missed = fields.List(fields.Nested(DeskBookingOut), required=True)


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page of a list: its items, where it stands, and the addresses of its neighbours."""
    return type(
        name,
        (Out,),
        {
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True),
            "next": fields.String(
                required=True, allow_none=True, metadata={"description": _l("L'adresse de la page suivante")}
            ),
            "previous": fields.String(required=True, allow_none=True),
        },
    )


ResourcePage = page_of(ResourceOut, "ResourcePage")
TrainingPage = page_of(TrainingOut, "TrainingPage")
EventPage = page_of(EventOut, "EventPage")
MyBookingPage = page_of(MyBookingOut, "MyBookingPage")


class ErrorDetail(Out):
    code = fields.String(
        required=True, metadata={"description": _l("Stable, pour les programmes : not_found, conflict…")}
    )
    status = fields.Integer(required=True)
    message = fields.String(required=True, metadata={"description": _l("Pour les personnes, dans la langue demandée")})
    fields_ = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        data_key="fields",
        metadata={"description": _l("Messages par champ envoyé")},
    )
    next_free_slot = fields.Nested(
        SlotOut,
        required=True,
        allow_none=True,
        metadata={"description": _l("En cas de conflit : une période qui serait libre")},
    )


class ErrorOut(Out):
    error = fields.Nested(ErrorDetail, required=True)
