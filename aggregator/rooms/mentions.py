"""Whether a room message mentions us: our nick (or, where it differs, our account's address such as a
Matrix user id) as a whole word, case-insensitive.

"Word" here means: not glued to a letter, digit or underscore on either side, so ``ali`` is mentioned in
"ali: lunch?" and "@ali" but not in "alicia" or "kali_1". Plain functions: the UI, the CLI and the
headless mode all ask the same question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aggregator.api import ConversationKind
from aggregator.archive.records import Direction, StoredMessage
from aggregator.rooms.records import Room


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])", re.IGNORECASE)


def mentions(body: str, names: Iterable[str]) -> bool:
    """Whether ``body`` names any of ``names`` as a whole word (blank names never match)."""
    return any(_pattern(n).search(body) for n in {n.strip() for n in names} if n)


def own_names(room: Room | None, address: str) -> tuple[str, ...]:
    """What counts as a mention of us in ``room``: our nick there (when known) and our address."""
    names = [room.nick] if room is not None and room.nick else []
    if address and address not in names:
        names.append(address)
    return tuple(names)


def is_mention(message: StoredMessage, room: Room | None, address: str) -> bool:
    """Whether ``message`` is someone else's room message that mentions us (own messages never are)."""
    if message.conversation.kind is not ConversationKind.ROOM or message.direction is not Direction.IN:
        return False
    names = own_names(room, address)
    said_by = {message.sender.casefold(), (message.sender_name or "").casefold()}
    if any(n.casefold() in said_by for n in names):
        return False  # our own line, echoed by the room
    return mentions(message.body, names)
