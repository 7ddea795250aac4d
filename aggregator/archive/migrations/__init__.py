"""Numbered schema migrations.

Version 1 is the initial schema. Each later schema change adds one ``Migration`` (``base.py``) here, from
a module ``vNNN_<what>.py``, with:

* ``upgrade(conn)``: the DDL/DML that takes an archive from ``version - 1`` to ``version``;
* ``create_extras(conn)`` (optional): objects the SQLAlchemy models cannot describe (FTS tables,
  triggers), created on a fresh archive after ``create_all``.

A fresh archive is built from the models (plus every ``create_extras``) and stamped with the latest
version; an older archive is backed up and upgraded step by step, each step in its own transaction.
``tests/core/test_migrations.py`` opens a stored archive of every earlier version and checks that the
upgraded schema equals a fresh one.
"""

from __future__ import annotations

from aggregator.archive.migrations import (
    v002_fulltext,
    v003_persons,
    v004_local_groups,
    v005_policy_events,
    v006_pg_fulltext,
    v007_catchup_positions,
    v008_attachments,
    v009_contact_requests,
    v010_message_meta,
)
from aggregator.archive.migrations.base import Migration

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration"]

MIGRATIONS: tuple[Migration, ...] = (
    v002_fulltext.MIGRATION,
    v003_persons.MIGRATION,
    v004_local_groups.MIGRATION,
    v005_policy_events.MIGRATION,
    v006_pg_fulltext.MIGRATION,
    v007_catchup_positions.MIGRATION,
    v008_attachments.MIGRATION,
    v009_contact_requests.MIGRATION,
    v010_message_meta.MIGRATION,
)

LATEST_VERSION = 1 + len(MIGRATIONS)

for _i, _m in enumerate(MIGRATIONS):
    if _m.version != _i + 2:
        raise RuntimeError(f"migration {_m.description!r} has version {_m.version}, expected {_i + 2}")
