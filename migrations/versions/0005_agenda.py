"""agenda: events, partners' calendars, themes (seeded)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

THEMES = [
    ("science-et-sport", "Science et sport"),
    ("tourisme", "Tourisme scientifique"),
    ("art-science", "Art et science"),
    ("scolaire", "Scolaire"),
    ("festival", "Festival"),
    ("fete-de-la-science", "Fête de la science"),
]


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agenda_themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_themes")),
        sa.UniqueConstraint("slug", name=op.f("uq_agenda_themes_slug")),
    )
    op.create_table(
        "agenda_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_report", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_agenda_sources_departement_code_departements")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_agenda_sources_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_sources")),
    )
    op.create_table(
        "agenda_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("organiser_name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.Column("town", sa.String(length=200), nullable=False),
        sa.Column("link", sa.String(length=1000), nullable=True),
        sa.Column("audiences", sa.String(length=100), nullable=False),
        sa.Column("region_supported", sa.Boolean(), nullable=False),
        sa.Column("campaign", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("refusal_reason", sa.String(length=500), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_uid", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.CheckConstraint("ends_at >= starts_at", name=op.f("ck_agenda_events_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_agenda_events_departement_code_departements")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_agenda_events_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["proposed_by_id"], ["users.id"], name=op.f("fk_agenda_events_proposed_by_id_users")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["agenda_sources.id"], name=op.f("fk_agenda_events_source_id_agenda_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_events")),
        sa.UniqueConstraint("source_id", "source_uid", name="uq_agenda_events_source_uid"),
    )
    with op.batch_alter_table("agenda_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_events_departement_code"), ["departement_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_agenda_events_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agenda_events_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_agenda_events_status"), ["status"], unique=False)

    op.create_table(
        "agenda_event_themes",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["agenda_events.id"],
            name=op.f("fk_agenda_event_themes_event_id_agenda_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["agenda_themes.id"], name=op.f("fk_agenda_event_themes_theme_id_agenda_themes")
        ),
        sa.PrimaryKeyConstraint("event_id", "theme_id", name=op.f("pk_agenda_event_themes")),
    )

    themes = sa.table("agenda_themes", sa.column("slug", sa.String), sa.column("name", sa.String))
    op.bulk_insert(themes, [{"slug": slug, "name": name} for slug, name in THEMES])


def downgrade():
    op.drop_table("agenda_event_themes")
    with op.batch_alter_table("agenda_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_events_status"))
        batch_op.drop_index(batch_op.f("ix_agenda_events_starts_at"))
        batch_op.drop_index(batch_op.f("ix_agenda_events_source_id"))
        batch_op.drop_index(batch_op.f("ix_agenda_events_departement_code"))

    op.drop_table("agenda_events")
    op.drop_table("agenda_sources")
    op.drop_table("agenda_themes")
