"""The audit workflow: case files in a database, a triage queue, auditors' reviews, and
learning from them.

    from screener.audit import Database, service
    db = Database()                      # $SCREENER_DATABASE_URL or sqlite:///screener.db
    with db.session() as s:
        queue = service.list_queue(s, limit=20)

Modules: `db` (engine, migrations), `models` (tables), `mapping` and `importer`
(`screener import`), `queue` (triage), `service` (the calls the CLI and API use),
`judgement` (what a review says about each marker), `agreement`, `learning`
(training records and rule weights from reviews), `cli` (the commands).
"""

from screener.audit.db import Database, DatabaseError, database_url

__all__ = ["Database", "DatabaseError", "database_url"]
