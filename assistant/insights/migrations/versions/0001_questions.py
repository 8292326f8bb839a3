"""The questions table.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collection", sa.String(60), nullable=False),
        sa.Column("asker", sa.String(64), nullable=False),
        sa.Column("course", sa.String(64), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("refused", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("premise_corrected", sa.Boolean, nullable=False),
        sa.Column("cited", sa.JSON, nullable=False),
        sa.Column("generator", sa.String(60), nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_questions_asked_at", "questions", ["asked_at"])
    op.create_index("ix_questions_collection", "questions", ["collection"])
    op.create_index("ix_questions_course", "questions", ["course"])


def downgrade() -> None:
    op.drop_table("questions")
