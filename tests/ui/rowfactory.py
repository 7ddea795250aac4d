"""Build ``PersonRow`` values for model tests without a core."""

from __future__ import annotations

from aggregator.api import ContactRef, PresenceKind, Sphere
from ui.rows import ContactRow, PersonRow


def person(
    pid: int,
    name: str,
    *,
    sphere: Sphere = Sphere.PERSONAL,
    group: str = "",
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
        group=group,
        presence=presence,
        status=status,
        best=contacts[0].ref,
        protocols=("Fake",),
        unread=unread,
        contacts=contacts,
    )
