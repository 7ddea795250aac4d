"""Which of a person's contacts a tab's replies go to ("Reply on"). Pure.

1. The user's own choice in the tab ("Reply on", or a contact's row in the buddy list) holds for the
   rest of the session (the pane keeps it when the tab closes), whatever the presences do, until the
   person writes from another contact: then the replies follow them there.
2. Otherwise the contact their newest message came from, while it is online (or while none of their
   contacts is: they read it there when they are back).
3. Otherwise the best contact by presence (the person's ``best``: online before offline, available
   before away, then account order).

Nothing is stored: at the next start the newest message (from the history) and the presences lead
to the same answer, never to a contact that has gone offline meanwhile.
"""

from __future__ import annotations

from aggregator.api import ContactRef
from aggregator.app.rows import PersonRow


def reply_target(person: PersonRow, *, chosen: ContactRef | None, last_inbound: ContactRef | None) -> ContactRef:
    refs = [c.ref for c in person.contacts]
    if chosen in refs:
        assert chosen is not None
        return chosen
    online = {c.ref for c in person.contacts if c.presence.is_online}
    if last_inbound in refs and (last_inbound in online or not online):
        assert last_inbound is not None
        return last_inbound
    return person.best
