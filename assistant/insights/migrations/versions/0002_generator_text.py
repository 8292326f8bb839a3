"""The generator's label as text: the LLM fallback's label names the model, of any length, and
PostgreSQL (unlike SQLite) refused a longer one than VARCHAR(60), losing the row's whole batch.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a column's type in place (it copies the table; PostgreSQL alters).
    with op.batch_alter_table("questions") as table:
        table.alter_column("generator", type_=sa.Text, existing_type=sa.String(60), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("questions") as table:
        table.alter_column("generator", type_=sa.String(60), existing_type=sa.Text, existing_nullable=False)
