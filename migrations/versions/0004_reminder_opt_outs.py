"""users: reminder kinds each person turned off

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("reminder_opt_outs", sa.String(length=200), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("reminder_opt_outs")
