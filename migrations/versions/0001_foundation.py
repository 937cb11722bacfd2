"""foundation: people, resources, bookings, audit, outbox; the 13 départements of Occitanie

Revision ID: 0001
Revises:
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

# Reference data, frozen here: a migration must not depend on the app's code as it evolves.
DEPARTEMENTS = [
    ("09", "Ariège"),
    ("11", "Aude"),
    ("12", "Aveyron"),
    ("30", "Gard"),
    ("31", "Haute-Garonne"),
    ("32", "Gers"),
    ("34", "Hérault"),
    ("46", "Lot"),
    ("48", "Lozère"),
    ("65", "Hautes-Pyrénées"),
    ("66", "Pyrénées-Orientales"),
    ("81", "Tarn"),
    ("82", "Tarn-et-Garonne"),
]


# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_plural", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("needs_pickup", sa.Boolean(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("max_duration_hours", sa.Integer(), nullable=False),
        sa.Column("min_lead_hours", sa.Integer(), nullable=False),
        sa.Column("max_advance_days", sa.Integer(), nullable=False),
        sa.Column("buffer_hours", sa.Integer(), nullable=False),
        sa.Column("per_member_limit", sa.Integer(), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("buffer_hours >= 0", name=op.f("ck_categories_buffer_not_negative")),
        sa.CheckConstraint("max_advance_days > 0", name=op.f("ck_categories_max_advance_positive")),
        sa.CheckConstraint("max_duration_hours > 0", name=op.f("ck_categories_max_duration_positive")),
        sa.CheckConstraint("min_lead_hours >= 0", name=op.f("ck_categories_min_lead_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    op.create_table(
        "departements",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departements")),
        sa.UniqueConstraint("name", name=op.f("uq_departements_name")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("ics", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_status"), ["status"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_organisations_departement_code_departements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("departement_code", sa.String(length=3), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("credentials_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_resources_category_id_categories")),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_resources_departement_code_departements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
    )
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_departement_code"), ["departement_code"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("feed_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["approved_by_id"], ["users.id"], name=op.f("fk_users_approved_by_id_users")),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_users_departement_code_departements")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_users_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("feed_token", name=op.f("uq_users_feed_token")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("subject_type", sa.String(length=30), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=30), nullable=True),
        sa.Column("to_state", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_entries_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_subject", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "blackouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(resource_id IS NULL) <> (departement_code IS NULL)", name=op.f("ck_blackouts_resource_or_departement")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_blackouts_ends_after_start")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_blackouts_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_blackouts_departement_code_departements")
        ),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], name=op.f("fk_blackouts_resource_id_resources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blackouts")),
    )
    with op.batch_alter_table("blackouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blackouts_departement_code"), ["departement_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_blackouts_resource_id"), ["resource_id"], unique=False)

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_over_by_id", sa.Integer(), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.Column("condition", sa.String(length=16), nullable=True),
        sa.Column("condition_note", sa.Text(), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_bookings_ends_after_start")),
        sa.CheckConstraint("held_until >= ends_at", name=op.f("ck_bookings_held_until_after_end")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_bookings_decided_by_id_users")),
        sa.ForeignKeyConstraint(["handed_over_by_id"], ["users.id"], name=op.f("fk_bookings_handed_over_by_id_users")),
        sa.ForeignKeyConstraint(["received_by_id"], ["users.id"], name=op.f("fk_bookings_received_by_id_users")),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], name=op.f("fk_bookings_resource_id_resources")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bookings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_held_until"), ["held_until"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_user_id"), ["user_id"], unique=False)

    op.create_table(
        "host_departements",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("departement_code", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_host_departements_departement_code_departements")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_host_departements_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "departement_code", name=op.f("pk_host_departements")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )

    departements = sa.table("departements", sa.column("code", sa.String), sa.column("name", sa.String))
    op.bulk_insert(departements, [{"code": code, "name": name} for code, name in DEPARTEMENTS])


def downgrade():
    op.drop_table("user_roles")
    op.drop_table("host_departements")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_user_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_status"))
        batch_op.drop_index(batch_op.f("ix_bookings_starts_at"))
        batch_op.drop_index(batch_op.f("ix_bookings_resource_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_held_until"))

    op.drop_table("bookings")
    with op.batch_alter_table("blackouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blackouts_resource_id"))
        batch_op.drop_index(batch_op.f("ix_blackouts_departement_code"))

    op.drop_table("blackouts")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_subject")

    op.drop_table("audit_entries")
    op.drop_table("users")
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_departement_code"))
        batch_op.drop_index(batch_op.f("ix_resources_category_id"))

    op.drop_table("resources")
    op.drop_table("organisations")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_next_attempt_at"))

    op.drop_table("outbox")
    op.drop_table("departements")
    op.drop_table("categories")
