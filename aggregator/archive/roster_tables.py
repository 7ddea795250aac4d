"""The roster's tables in the archive: persons, contacts, merge rejections and links, read markers.

SQL only, no logic: the roster service (``aggregator.roster``) gets a ``RosterTables`` and never a
connection. Runs on the archive's one connection (one writer, on the engine thread) through the
archive's own transactions: every read ends its transaction, every write commits before it returns
and is rolled back on any error, and a full disk is raised as ``ArchiveStorageError`` and reported to
``Archive.storage`` like any other archive write. Person and contact ids are handed out here
(max + 1), so a roster of thousands is written with one ``executemany`` per table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, and_, delete, func, insert, select, update

from aggregator.api import ContactRef, ConversationKey, ConversationKind, Sphere
from aggregator.archive.models import (
    AccountRow,
    ContactRow,
    ConversationRow,
    MergeLinkRow,
    MergeRejectionRow,
    MessageRow,
    PersonRow,
)
from aggregator.archive.records import Direction
from aggregator.roster.records import Contact, PersonId

if TYPE_CHECKING:
    from aggregator.archive.store import Archive

_P = cast(Table, PersonRow.__table__)
_K = cast(Table, ContactRow.__table__)
_R = cast(Table, MergeRejectionRow.__table__)
_L = cast(Table, MergeLinkRow.__table__)
_C = cast(Table, ConversationRow.__table__)
_A = cast(Table, AccountRow.__table__)

#: Handles per ``IN (...)`` lookup: well under SQLite's and PostgreSQL's bound-parameter limits.
_LOOKUP_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PersonFields:
    id: PersonId
    alias: str | None
    sphere: Sphere
    created_at: datetime
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewContact:
    ref: ContactRef
    sphere: Sphere
    name: str | None = None
    groups: tuple[str, ...] = ()
    in_roster: bool = False


def _groups_json(groups: Sequence[str]) -> str | None:
    return json.dumps(list(groups), ensure_ascii=False) if groups else None


def _groups(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    try:
        data = json.loads(value)
    except ValueError:
        return ()
    return tuple(str(g) for g in data) if isinstance(data, list) else ()


class RosterTables:
    """The roster's persistence, on ``archive``'s connection and transactions."""

    def __init__(self, archive: Archive, clock: Callable[[], datetime] | None = None) -> None:
        self._archive = archive
        self._now = clock or (lambda: datetime.now(UTC))

    # -- reading -----------------------------------------------------------------------------------

    def load(self) -> tuple[list[PersonFields], list[Contact]]:
        with self._archive._reading() as conn:
            person_rows = conn.execute(select(_P).order_by(_P.c.id)).all()
            contact_rows = conn.execute(select(_K).where(_K.c.person_id.is_not(None)).order_by(_K.c.id)).all()
        persons = [PersonFields(r.id, r.alias, Sphere(r.sphere), r.created_at, _groups(r.groups)) for r in person_rows]
        contacts = [
            Contact(
                id=r.id,
                ref=ContactRef(r.account_id, r.handle),
                person_id=r.person_id,
                position=r.position or 0,
                name=r.name,
                alias=r.alias,
                groups=_groups(r.groups),
                in_roster=bool(r.in_roster),
            )
            for r in contact_rows
        ]
        return persons, contacts

    def orphans(self) -> list[NewContact]:
        """Direct conversations without a contact, and contacts without a person (older archives)."""
        found: list[NewContact] = []
        with self._archive._reading() as conn:
            spheres = {r.id: Sphere(r.sphere) for r in conn.execute(select(_A.c.id, _A.c.sphere))}
            missing = conn.execute(
                select(_C.c.account_id, _C.c.handle)
                .select_from(_C.outerjoin(_K, and_(_K.c.account_id == _C.c.account_id, _K.c.handle == _C.c.handle)))
                .where(_C.c.kind == int(ConversationKind.DIRECT), _K.c.id.is_(None))
                .order_by(_C.c.id)
            ).all()
            homeless = conn.execute(select(_K).where(_K.c.person_id.is_(None)).order_by(_K.c.id)).all()
        for r in missing:
            found.append(NewContact(ContactRef(r.account_id, r.handle), spheres.get(r.account_id, Sphere.PERSONAL)))
        for r in homeless:
            found.append(
                NewContact(
                    ContactRef(r.account_id, r.handle),
                    spheres.get(r.account_id, Sphere.PERSONAL),
                    name=r.name,
                    groups=_groups(r.groups),
                    in_roster=bool(r.in_roster),
                )
            )
        return found

    def rejections(self) -> set[tuple[int, int]]:
        with self._archive._reading() as conn:
            rows = conn.execute(select(_R.c.contact_a, _R.c.contact_b)).all()
        return {(int(r.contact_a), int(r.contact_b)) for r in rows}

    def links(self) -> set[tuple[int, int]]:
        """Contact pairs (smaller id first) the user confirmed by merging them."""
        with self._archive._reading() as conn:
            rows = conn.execute(select(_L.c.contact_a, _L.c.contact_b)).all()
        return {(int(r.contact_a), int(r.contact_b)) for r in rows}

    # -- writing -----------------------------------------------------------------------------------

    def add_contacts(self, new: Sequence[NewContact]) -> tuple[list[PersonFields], list[Contact]]:
        """Each new contact with its own new person. Contacts already stored without a person keep
        their row (and id) and get the person."""
        if not new:
            return [], []
        now = self._now()
        with self._archive._writing() as conn:
            next_person = int(conn.execute(select(func.max(_P.c.id))).scalar() or 0) + 1
            next_contact = int(conn.execute(select(func.max(_K.c.id))).scalar() or 0) + 1
            existing = self._ids_of(conn, [n.ref for n in new])
            persons: list[PersonFields] = []
            contacts: list[Contact] = []
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for n in new:
                person = PersonFields(next_person, None, n.sphere, now)
                next_person += 1
                persons.append(person)
                row = {
                    "account_id": n.ref.account_id,
                    "handle": n.ref.handle,
                    "name": n.name,
                    "alias": None,
                    "groups": _groups_json(n.groups),
                    "person_id": person.id,
                    "position": 0,
                    "in_roster": n.in_roster,
                }
                cid = existing.get(n.ref)
                if cid is None:
                    cid = next_contact
                    next_contact += 1
                    inserts.append({"id": cid, **row})
                else:
                    updates.append({"cid": cid, **row})
                contacts.append(Contact(cid, n.ref, person.id, 0, n.name, None, n.groups, n.in_roster))
            conn.execute(
                insert(_P),
                [{"id": p.id, "alias": None, "sphere": p.sphere.value, "created_at": now} for p in persons],
            )
            if inserts:
                conn.execute(insert(_K), inserts)
            for u in updates:
                cid = u.pop("cid")
                conn.execute(update(_K).where(_K.c.id == cid).values(**u))
        return persons, contacts

    def _ids_of(self, conn: Connection, refs: Iterable[ContactRef]) -> dict[ContactRef, int]:
        """The stored ids of these contacts, looked up by the unique (account, handle) index: the cost
        grows with the number asked for, never with the size of the roster (one roster push is O(1))."""
        by_account: dict[str, set[str]] = {}
        for ref in refs:
            by_account.setdefault(ref.account_id, set()).add(ref.handle)
        found: dict[ContactRef, int] = {}
        for account_id, handles in by_account.items():
            ordered = sorted(handles)
            for start in range(0, len(ordered), _LOOKUP_CHUNK):
                chunk = ordered[start : start + _LOOKUP_CHUNK]
                rows = conn.execute(
                    select(_K.c.id, _K.c.handle).where(_K.c.account_id == account_id, _K.c.handle.in_(chunk))
                )
                for r in rows:
                    found[ContactRef(account_id, r.handle)] = int(r.id)
        return found

    def update_contacts(self, contacts: Sequence[Contact]) -> None:
        if not contacts:
            return
        with self._archive._writing() as conn:
            for c in contacts:
                conn.execute(
                    update(_K)
                    .where(_K.c.id == c.id)
                    .values(
                        name=c.name,
                        alias=c.alias,
                        groups=_groups_json(c.groups),
                        in_roster=c.in_roster,
                        person_id=c.person_id,
                        position=c.position,
                    )
                )

    def regroup(self, contacts: Sequence[Contact], *, new_person: PersonFields | None, drop: PersonId | None) -> None:
        """Move contacts between persons in one transaction: create ``new_person``, delete ``drop``."""
        with self._archive._writing() as conn:
            if new_person is not None:
                conn.execute(
                    insert(_P).values(
                        id=new_person.id,
                        alias=new_person.alias,
                        sphere=new_person.sphere.value,
                        created_at=new_person.created_at,
                        groups=_groups_json(new_person.groups),
                    )
                )
            for c in contacts:
                conn.execute(update(_K).where(_K.c.id == c.id).values(person_id=c.person_id, position=c.position))
            if drop is not None:
                conn.execute(delete(_P).where(_P.c.id == drop))

    def next_person_id(self) -> PersonId:
        with self._archive._reading() as conn:
            newest = conn.execute(select(func.max(_P.c.id))).scalar()
        return int(newest or 0) + 1

    def update_person(self, person: PersonFields) -> None:
        with self._archive._writing() as conn:
            conn.execute(
                update(_P)
                .where(_P.c.id == person.id)
                .values(alias=person.alias, sphere=person.sphere.value, groups=_groups_json(person.groups))
            )

    def add_rejections(self, pairs: Iterable[tuple[int, int]]) -> None:
        known = self.rejections()
        rows = [
            {"contact_a": a, "contact_b": b, "created_at": self._now()}
            for a, b in sorted({(min(p), max(p)) for p in pairs})
            if (a, b) not in known
        ]
        if rows:
            with self._archive._writing() as conn:
                conn.execute(insert(_R), rows)

    def add_links(self, pairs: Iterable[tuple[int, int]]) -> None:
        known = self.links()
        rows = [
            {"contact_a": a, "contact_b": b, "created_at": self._now()}
            for a, b in sorted({(min(p), max(p)) for p in pairs})
            if (a, b) not in known
        ]
        if rows:
            with self._archive._writing() as conn:
                conn.execute(insert(_L), rows)

    def drop_links(self, contact_id: int) -> None:
        """The user split this contact off: its confirmed links no longer hold."""
        with self._archive._writing() as conn:
            conn.execute(delete(_L).where((_L.c.contact_a == contact_id) | (_L.c.contact_b == contact_id)))

    # -- read markers (conversations.last_read_id) ---------------------------------------------------

    def unread_counts(self) -> list[tuple[int, ConversationKey, int]]:
        """(conversation id, key, unread) for every conversation with unread inbound messages.
        Backfilled history is never unread."""
        m = cast(Table, MessageRow.__table__)
        with self._archive._reading() as conn:
            rows = conn.execute(
                select(_C.c.id, _C.c.account_id, _C.c.kind, _C.c.handle, func.count(m.c.id))
                .select_from(
                    _C.join(m, and_(m.c.conversation_id == _C.c.id, m.c.id > func.coalesce(_C.c.last_read_id, 0)))
                )
                .where(m.c.direction == int(Direction.IN), m.c.is_backfill.is_(False))
                .group_by(_C.c.id, _C.c.account_id, _C.c.kind, _C.c.handle)
            ).all()
        return [(int(r[0]), ConversationKey(r[1], ConversationKind(r[2]), r[3]), int(r[4])) for r in rows]

    def mark_read(self, conversation_ids: Iterable[int]) -> None:
        m = cast(Table, MessageRow.__table__)
        with self._archive._writing() as conn:
            for conv_id in conversation_ids:
                newest = select(func.max(m.c.id)).where(m.c.conversation_id == conv_id).scalar_subquery()
                conn.execute(update(_C).where(_C.c.id == conv_id).values(last_read_id=newest))
