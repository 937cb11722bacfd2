"""names in English for categories, training topics and agenda themes; structures to confirm

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25

"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

NAMES = (
    ("categories", "name_en", 80),
    ("categories", "name_plural_en", 80),
    ("training_topics", "name_en", 120),
    ("agenda_themes", "name_en", 80),
)


def upgrade():
    for table, column, length in NAMES:
        op.add_column(table, sa.Column(column, sa.String(length=length), server_default="", nullable=False))
    op.add_column("organisations", sa.Column("confirmed", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_column("confirmed")
    for table, column, _length in reversed(NAMES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(column)
