"""Gives a conversation view its ``SenderNames``: in a person tab the person's display name and our own
name per account (the core's, where the account's settings give one); in a room tab our nick and the
names that mention us. What needs the core is read on the engine thread; what the tab already knows
is shown at once."""

from __future__ import annotations

import logging
from dataclasses import replace

from aggregator.api import AccountId
from aggregator.app.account_selves import AccountSelf
from aggregator.app.names import SenderNames
from aggregator.app.room_rows import RoomRow
from aggregator.app.rows import PersonRow
from ui.context import UiContext
from ui.message_view import MessageView

log = logging.getLogger(__name__)


def person_names(person: PersonRow, selves: dict[AccountId, AccountSelf] | None = None) -> SenderNames:
    accounts = {c.ref.account_id: c.account for c in person.contacts}
    own = {a: s.name for a, s in (selves or {}).items() if s.name}
    return SenderNames(person=person.name, own=own, accounts=accounts)


def show_person_names(ctx: UiContext, view: MessageView, person: PersonRow) -> None:
    """Name the person's messages with their display name now, and ours once the core has said."""
    view.set_names(replace(person_names(person), own=view.names.own))
    ids = tuple(dict.fromkeys(c.ref.account_id for c in person.contacts))
    app = ctx.app

    def done(selves: dict[AccountId, AccountSelf] | None, error: BaseException | None) -> None:
        if error is not None or selves is None:
            log.warning("Could not read our names on %s: %s", ", ".join(ids), error)
            return
        view.set_names(person_names(person, selves))

    ctx.bridge.run(lambda: app.account_selves(ids), done)


def show_room_names(ctx: UiContext, view: MessageView, room: RoomRow) -> None:
    """Our messages under our nick; what mentions us highlighted (once the core has said)."""
    own = {room.account_id: room.nick} if room.nick else {}
    view.set_names(SenderNames(own=own, accounts={room.account_id: room.account}, mention=view.names.mention))
    app, key = ctx.app, room.key

    def done(names: tuple[str, ...] | None, error: BaseException | None) -> None:
        if error is not None or names is None:
            log.warning("Could not read our names in %s: %s", room.name, error)
            return
        view.set_names(replace(view.names, mention=names))

    ctx.bridge.run(lambda: app.room_mention_names(key), done)
