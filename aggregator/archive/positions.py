"""The ``catchup_positions`` table (schema v7): an adapter's resume position per account and stream.

Only the statements: the caller owns the transaction. ``Archive.insert_message`` writes a message's
position in the message's own transaction; ``Archive.save_position`` writes one that came alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from aggregator.api import AccountId, ResumePosition
from aggregator.archive.migrations.v007_catchup_positions import CATCHUP_POSITIONS as _P


def write(conn: Connection, account_id: AccountId, position: ResumePosition) -> None:
    """Insert or replace the position of ``position.stream`` (one writer: no race between the two)."""
    now = datetime.now(UTC)
    changed = conn.execute(
        update(_P)
        .where(_P.c.account_id == account_id, _P.c.stream == position.stream)
        .values(value=position.value, updated_at=now)
    ).rowcount
    if not changed:
        conn.execute(
            insert(_P).values(account_id=account_id, stream=position.stream, value=position.value, updated_at=now)
        )


def read(conn: Connection, account_id: AccountId) -> dict[str, str]:
    """Every stored position of ``account_id``: stream -> value."""
    rows = conn.execute(select(_P.c.stream, _P.c.value).where(_P.c.account_id == account_id)).all()
    return {str(stream): str(value) for stream, value in rows}
