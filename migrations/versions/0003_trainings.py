"""trainings: topics (seeded with the network's five), sessions, enrolments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

TOPICS = [
    ("obs-studio", "OBS Studio", "Le logiciel libre de régie pour filmer et diffuser en direct."),
    (
        "droits",
        "Droits d'auteur et droit à l'image",
        "Ce qu'on peut montrer, enregistrer et diffuser en ligne, et avec quelles autorisations.",
    ),
    (
        "live-video",
        "Réaliser un live vidéo",
        "Préparer, animer et valoriser un direct, de la technique à l'interaction avec le public.",
    ),
    ("zoom", "Animer avec Zoom", "Réunions, webinaires, salles de sous-groupes et sondages."),
    ("kahoot", "Quiz interactifs avec Kahoot!", "Créer et animer des quiz en classe, en salle ou en ligne."),
]


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "training_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_topics")),
        sa.UniqueConstraint("slug", name=op.f("uq_training_topics_slug")),
    )
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("video_link", sa.String(length=500), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("registration_opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registration_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.CheckConstraint("mode IN ('online', 'in_person')", name=op.f("ck_training_sessions_known_mode")),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_training_sessions_capacity_positive")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_training_sessions_ends_after_start")),
        sa.CheckConstraint(
            "registration_deadline <= starts_at", name=op.f("ck_training_sessions_deadline_before_start")
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"], ["departements.code"], name=op.f("fk_training_sessions_departement_code_departements")
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["training_topics.id"], name=op.f("fk_training_sessions_topic_id_training_topics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
    )
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_sessions_departement_code"), ["departement_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_sessions_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_sessions_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "training_session_categories",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_training_session_categories_category_id_categories")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_training_session_categories_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "category_id", name=op.f("pk_training_session_categories")),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["training_sessions.id"], name=op.f("fk_enrolments_session_id_training_sessions")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_enrolments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
        sa.UniqueConstraint("session_id", "user_id", name="uq_enrolments_session_user"),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "training_session_trainers",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_training_session_trainers_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_training_session_trainers_user_id_users")),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_training_session_trainers")),
    )

    topics = sa.table(
        "training_topics",
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(topics, [{"slug": s, "name": n, "description": d, "active": True} for s, n, d in TOPICS])


def downgrade():
    op.drop_table("training_session_trainers")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_user_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_status"))
        batch_op.drop_index(batch_op.f("ix_enrolments_session_id"))

    op.drop_table("enrolments")
    op.drop_table("training_session_categories")
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_sessions_topic_id"))
        batch_op.drop_index(batch_op.f("ix_training_sessions_starts_at"))
        batch_op.drop_index(batch_op.f("ix_training_sessions_departement_code"))

    op.drop_table("training_sessions")
    op.drop_table("training_topics")
