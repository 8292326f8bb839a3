"""Whether an answer's quotes may not answer what was asked (``Answer.uncertain``): a gap in the
reading the insight page shows beside the refusals. Rows logged before it read as false.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("questions", sa.Column("uncertain", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("questions") as table:  # SQLite drops a column by copying the table
        table.drop_column("uncertain")
