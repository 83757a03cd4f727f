"""Alembic environment for the audit database.

Run programmatically by `screener.audit.db.Database.upgrade()`, which passes its own
connection (inside a locked transaction). From a shell (developers adding a migration):

    SCREENER_DATABASE_URL=sqlite:///dev.db alembic -c screener/audit/migrations/alembic.ini \
        revision --autogenerate -m "what changed"
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from screener.audit.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from screener.audit.db import Database

    db = Database(migrate=False)
    with db.engine.begin() as conn:
        _run(conn)
