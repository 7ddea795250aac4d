"""Build ``PersonRow`` and ``RoomRow`` values for model tests without a core."""

from __future__ import annotations

from aggregator.api import ContactRef, ConversationKey, PresenceKind, Sphere
from aggregator.app.room_rows import RoomRow
from aggregator.app.rows import ContactRow, PersonRow


def person(
    pid: int,
    name: str,
    *,
    sphere: Sphere = Sphere.PERSONAL,
    group: str = "",
    groups: tuple[str, ...] = (),
    presence: PresenceKind = PresenceKind.OFFLINE,
    status: str = "",
    unread: int = 0,
    handles: tuple[str, ...] = (),
) -> PersonRow:
    handles = handles or (f"{name.split()[0].lower()}{pid}@fake.test",)
    contacts = tuple(
        ContactRow(ContactRef("fake:me@fake.test", h), name, presence, status, "me@fake.test", "Fake") for h in handles
    )
    return PersonRow(
        id=pid,
        sphere=sphere,
        name=name,
        group=group or (groups[0] if groups else ""),
        presence=presence,
        status=status,
        best=contacts[0].ref,
        protocols=("Fake",),
        unread=unread,
        contacts=contacts,
        local_groups=groups,
        groups=groups,
    )


def room(
    handle: str,
    *,
    sphere: Sphere = Sphere.PERSONAL,
    members: tuple[str, ...] = (),
    joined: bool = True,
    topic: str = "",
    nick: str = "me",
    account_id: str = "fake:me@fake.test",
    unread: int = 0,
) -> RoomRow:
    return RoomRow(
        key=ConversationKey.room(account_id, handle),
        name=handle,
        sphere=sphere,
        account="me@fake.test",
        protocol="Fake",
        nick=nick if joined else None,
        joined=joined,
        members=members if joined else (),
        topic=topic,
        topic_set_by=None,
        error="",
        autojoin=False,
        can_set_topic=True,
        unread=unread,
    )
