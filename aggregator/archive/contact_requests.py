"""The ``contact_requests`` and ``blocked_peers`` tables (schema v9): requests and invitations not answered
yet, and the peers the user blocked.

The contacts service (``aggregator.contacts``) gets a ``ContactRequestTable`` and never a connection. Each
call is one archive transaction (``Archive._reading`` / ``Archive._writing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from aggregator.archive.migrations.v009_contact_requests import BLOCKED_PEERS as _B
from aggregator.archive.migrations.v009_contact_requests import CONTACT_REQUESTS as _R

if TYPE_CHECKING:
    from aggregator.archive.store import Archive


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """One pending request as stored (``kind`` is the ``RequestKind`` value)."""

    id: int
    account_id: str
    kind: str
    handle: str
    inviter: str | None
    display_name: str | None
    message: str
    received_at: datetime


class ContactRequestTable:
    """Reads and writes ``contact_requests`` and ``blocked_peers`` on ``archive``'s transactions."""

    def __init__(self, archive: Archive) -> None:
        self._archive = archive

    # -- pending requests -----------------------------------------------------------------------

    def put(
        self,
        *,
        account_id: str,
        kind: str,
        handle: str,
        inviter: str | None,
        display_name: str | None,
        message: str,
        at: datetime,
    ) -> StoredRequest:
        """Store a request, or refresh the one of the same account, kind and handle (its id stays)."""
        values = {"inviter": inviter, "display_name": display_name, "message": message, "received_at": at}
        with self._archive._writing() as conn:
            where = (_R.c.account_id == account_id, _R.c.kind == kind, _R.c.handle == handle)
            found = conn.execute(select(_R.c.id).where(*where)).scalar()
            if found is None:
                inserted = conn.execute(
                    _R.insert().values(account_id=account_id, kind=kind, handle=handle, **values)
                ).inserted_primary_key
                assert inserted is not None
                found = inserted[0]
            else:
                conn.execute(update(_R).where(_R.c.id == found).values(**values))
        return StoredRequest(int(found), account_id, kind, handle, inviter, display_name, message, at)

    def pending(self, account_id: str | None = None) -> list[StoredRequest]:
        """Every pending request (of ``account_id``), oldest first."""
        query = select(_R).order_by(_R.c.received_at, _R.c.id)
        if account_id is not None:
            query = query.where(_R.c.account_id == account_id)
        with self._archive._reading() as conn:
            rows = conn.execute(query).all()
        return [
            StoredRequest(
                r.id, r.account_id, r.kind, r.handle, r.inviter, r.display_name, r.message or "", r.received_at
            )
            for r in rows
        ]

    def get(self, request_id: int) -> StoredRequest | None:
        return next((r for r in self.pending() if r.id == request_id), None)

    def drop(self, request_id: int) -> bool:
        """Forget a request (answered). Returns whether it was there."""
        with self._archive._writing() as conn:
            return bool(conn.execute(delete(_R).where(_R.c.id == request_id)).rowcount)

    def drop_peer(self, account_id: str, handle: str) -> list[int]:
        """Forget every request of ``handle`` on the account (asked by them or inviting us); their ids."""
        with self._archive._writing() as conn:
            mine = (_R.c.account_id == account_id) & ((_R.c.handle == handle) | (_R.c.inviter == handle))
            ids = [int(i) for i in conn.execute(select(_R.c.id).where(mine)).scalars()]
            if ids:
                conn.execute(delete(_R).where(_R.c.id.in_(ids)))
        return ids

    # -- blocked peers --------------------------------------------------------------------------

    def block(self, account_id: str, handle: str, at: datetime) -> None:
        with self._archive._writing() as conn:
            where = (_B.c.account_id == account_id, _B.c.handle == handle)
            if conn.execute(select(_B.c.handle).where(*where)).first() is None:
                conn.execute(_B.insert().values(account_id=account_id, handle=handle, blocked_at=at))

    def unblock(self, account_id: str, handle: str) -> bool:
        with self._archive._writing() as conn:
            return bool(conn.execute(delete(_B).where(_B.c.account_id == account_id, _B.c.handle == handle)).rowcount)

    def blocked(self) -> set[tuple[str, str]]:
        """Every blocked (account, handle)."""
        with self._archive._reading() as conn:
            return {(str(a), str(h)) for a, h in conn.execute(select(_B.c.account_id, _B.c.handle)).all()}
