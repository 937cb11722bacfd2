"""guide: the live-video guide's pages and revisions, loaded from app/content/guide/

The pages ship with the code as Markdown; this migration stores them once, with a first
revision each. Admins then edit them in the browser.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

"""

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

CONTENT = Path(__file__).resolve().parents[2] / "app" / "content" / "guide"


def _pages():
    """(position, slug, title, body) from files named like 2-exemples.md."""
    for path in sorted(CONTENT.glob("*.md")):
        position, _, slug = path.stem.partition("-")
        text = path.read_text(encoding="utf-8")
        first, _, body = text.partition("\n")
        yield int(position), slug, first.lstrip("# ").strip(), body.strip() + "\n"


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "guide_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_pages")),
        sa.UniqueConstraint("slug", name=op.f("uq_guide_pages_slug")),
    )
    op.create_table(
        "guide_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_guide_revisions_author_id_users")),
        sa.ForeignKeyConstraint(
            ["page_id"], ["guide_pages.id"], name=op.f("fk_guide_revisions_page_id_guide_pages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_revisions")),
    )
    with op.batch_alter_table("guide_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guide_revisions_page_id"), ["page_id"], unique=False)

    now = datetime.now(UTC)
    pages = sa.table(
        "guide_pages",
        sa.column("id", sa.Integer),
        sa.column("slug", sa.String),
        sa.column("position", sa.Integer),
        sa.column("title", sa.String),
        sa.column("body", sa.Text),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    revisions = sa.table(
        "guide_revisions",
        sa.column("page_id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("body", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("note", sa.String),
    )
    rows = list(_pages())
    op.bulk_insert(
        pages,
        [
            {"id": n, "slug": slug, "position": pos, "title": title, "body": body, "updated_at": now}
            for n, (pos, slug, title, body) in enumerate(rows, start=1)
        ],
    )
    op.bulk_insert(
        revisions,
        [
            {"page_id": n, "title": title, "body": body, "created_at": now, "note": "Version initiale"}
            for n, (_pos, _slug, title, body) in enumerate(rows, start=1)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('guide_pages_id_seq', (SELECT max(id) FROM guide_pages))")


def downgrade():
    with op.batch_alter_table("guide_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guide_revisions_page_id"))

    op.drop_table("guide_revisions")
    op.drop_table("guide_pages")
