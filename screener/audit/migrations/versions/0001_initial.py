"""Initial audit schema: children, case files, records, screening results, reviews,
moderation and import runs; plus the API's tokens and access log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_meta"),
    )
    op.create_table(
        "children",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(32), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_children"),
        sa.UniqueConstraint("pseudonym", name="uq_children_pseudonym"),
    )
    op.create_table(
        "case_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(32), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], ondelete="CASCADE",
                                name="fk_case_files_child_id_children"),
        sa.PrimaryKeyConstraint("id", name="pk_case_files"),
        sa.UniqueConstraint("pseudonym", name="uq_case_files_pseudonym"),
    )
    op.create_index("ix_case_files_child_id", "case_files", ["child_id"])
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("doc_type", sa.String(40), nullable=False),
        sa.Column("record_date", sa.Date(), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("service", sa.String(200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        _ts("imported_at"),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(["file_id"], ["case_files.id"], ondelete="CASCADE",
                                name="fk_records_file_id_case_files"),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
        sa.UniqueConstraint("source", "source_id", name="uq_records_source_id"),
    )
    op.create_index("ix_records_file_id", "records", ["file_id"])
    op.create_index("ix_records_team", "records", ["team"])
    op.create_index("ix_records_service", "records", ["service"])
    op.create_table(
        "screening_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("rubric", sa.String(120), nullable=False),
        sa.Column("model_versions", _json(), nullable=False),
        sa.Column("grade", sa.String(40), nullable=False),
        sa.Column("grade_probabilities", _json(), nullable=False),
        sa.Column("markers", _json(), nullable=False),
        sa.Column("evidence", _json(), nullable=False),
        sa.Column("flags", _json(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE",
                                name="fk_screening_results_record_id_records"),
        sa.PrimaryKeyConstraint("id", name="pk_screening_results"),
    )
    op.create_index("ix_screening_results_record_id", "screening_results", ["record_id"])
    # At most one latest result per record.
    op.create_index("uq_screening_results_latest", "screening_results", ["record_id"],
                    unique=True, sqlite_where=sa.text("is_latest"),
                    postgresql_where=sa.text("is_latest"))
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("auditor", sa.String(120), nullable=False),
        sa.Column("grade", sa.String(40), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("completed_at", nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE",
                                name="fk_reviews_record_id_records"),
        sa.ForeignKeyConstraint(["result_id"], ["screening_results.id"], ondelete="CASCADE",
                                name="fk_reviews_result_id_screening_results"),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.UniqueConstraint("result_id", "auditor", name="uq_reviews_result_auditor"),
    )
    op.create_index("ix_reviews_record_id", "reviews", ["record_id"])
    op.create_index("ix_reviews_result_id", "reviews", ["result_id"])
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("marker", sa.String(80), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("corrected_value", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("decision IN ('confirmed', 'rejected', 'corrected', 'added')",
                           name="ck_review_decisions_decision"),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], ondelete="CASCADE",
                                name="fk_review_decisions_review_id_reviews"),
        sa.PrimaryKeyConstraint("id", name="pk_review_decisions"),
    )
    op.create_index("ix_review_decisions_review_id", "review_decisions", ["review_id"])
    op.create_table(
        "moderations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("moderator", sa.String(120), nullable=False),
        sa.Column("grade", sa.String(40), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], ondelete="CASCADE",
                                name="fk_moderations_review_id_reviews"),
        sa.PrimaryKeyConstraint("id", name="pk_moderations"),
        sa.UniqueConstraint("review_id", "moderator", name="uq_moderations_review_moderator"),
    )
    op.create_index("ix_moderations_review_id", "moderations", ["review_id"])
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("counts", _json(), nullable=False),
        sa.Column("errors", _json(), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_import_runs"),
    )
    # For the web API (next): bearer tokens (hash only) and an access log without text.
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
        sa.CheckConstraint("role IN ('manager', 'auditor', 'researcher', 'admin')",
                           name="ck_api_tokens_role"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("who", sa.String(120), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("object_type", sa.String(40), nullable=False),
        sa.Column("object_id", sa.String(200), nullable=True),
        _ts("at"),
        sa.PrimaryKeyConstraint("id", name="pk_access_log"),
    )
    op.create_index("ix_access_log_who", "access_log", ["who"])
    op.create_index("ix_access_log_at", "access_log", ["at"])


def downgrade() -> None:
    for table in ("access_log", "api_tokens", "import_runs", "moderations", "review_decisions",
                  "reviews", "screening_results", "records", "case_files", "children", "meta"):
        op.drop_table(table)
