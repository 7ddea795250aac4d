"""At open (SQLite): the full-text index's triggers are all there, and every message is indexed.

Earlier clients could leave the insert trigger dropped (an import killed, or out of disk, between
its DROP and its CREATE; Python's sqlite3 committed the DROP at once). Every message stored after
that was missing from the index, and the next import failed. This check puts the triggers back
and indexes what is missing, in one transaction, before anything else uses the archive.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from aggregator.archive.migrations import v002_fulltext

log = logging.getLogger(__name__)

_FTS = v002_fulltext.FTS_TABLE
_INSERT_TRIGGER = "messages_fts_insert"
# FTS5 keeps one row per indexed document in its ``<table>_docsize`` shadow table (columnsize=1, the default).
_DOCSIZE = f"{_FTS}_docsize"


def missing_triggers(conn: Connection) -> list[str]:
    present = {
        str(name)
        for (name,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'"
        )
    }
    return [name for name in v002_fulltext.TRIGGERS if name not in present]


def repair(conn: Connection) -> int:
    """Recreate missing full-text triggers and index the messages they missed; returns how many were
    indexed (0 when nothing was wrong). Commits; rolls back on error."""
    missing = missing_triggers(conn)
    conn.commit()
    if not missing:
        return 0
    log.warning("The archive's full-text index lost its trigger(s) %s; repairing it", ", ".join(missing))
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        for name in missing_triggers(conn):  # again, inside the lock: another process may have repaired it
            conn.exec_driver_sql(v002_fulltext.TRIGGERS[name].replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))
        has_docsize = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (_DOCSIZE,)
        ).scalar()
        if missing == [_INSERT_TRIGGER] and has_docsize:
            # Only inserts went unindexed: index exactly the messages the index does not have.
            indexed = conn.exec_driver_sql(
                f"INSERT INTO {_FTS}(rowid, body) SELECT id, body FROM messages "  # noqa: S608 (fixed names)
                f"WHERE id NOT IN (SELECT id FROM {_DOCSIZE})"
            ).rowcount
        else:
            # Deletes or updates went unseen too: the index may hold stale rows; build it again.
            conn.exec_driver_sql(f"INSERT INTO {_FTS}({_FTS}) VALUES ('rebuild')")  # noqa: S608
            indexed = conn.exec_driver_sql("SELECT count(*) FROM messages").scalar() or 0
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    log.warning("Repaired the full-text index: %d message(s) indexed", indexed)
    return int(indexed)
