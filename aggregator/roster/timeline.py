"""A person's history: one timeline across all its direct conversations, on every account."""

from __future__ import annotations

from aggregator.api import ConversationKey
from aggregator.archive import Archive, StoredMessage
from aggregator.roster.records import Person


def person_conversations(archive: Archive, person: Person) -> list[int]:
    """The ids of the person's direct conversations (one per contact that has one)."""
    ids = (archive.conversation_id(ConversationKey.direct(r.account_id, r.handle), create=False) for r in person.refs)
    return sorted(i for i in ids if i is not None)


def person_history(
    archive: Archive, person: Person, *, limit: int | None = None, before_id: int | None = None
) -> list[StoredMessage]:
    """Oldest first; with ``limit`` the newest ``limit`` (before ``before_id``, to page back).
    Message ids are time-ordered, so the id order interleaves the accounts correctly."""
    return archive.history(person_conversations(archive, person), limit=limit, before_id=before_id)


def person_history_after(
    archive: Archive, person: Person, after_id: int, *, limit: int | None = None
) -> list[StoredMessage]:
    """The oldest ``limit`` messages after ``after_id`` (paging forwards), oldest first."""
    return archive.history(person_conversations(archive, person), limit=limit, after_id=after_id)


def person_history_around(
    archive: Archive, person: Person, message_id: int, *, before: int = 25, after: int = 25
) -> list[StoredMessage]:
    """``message_id`` (if it is in the person's timeline) with up to ``before`` older and ``after``
    newer messages, oldest first: the page a conversation opens at when it opens at a search hit."""
    conversations = person_conversations(archive, person)
    older = archive.history(conversations, limit=max(0, before) + 1, before_id=message_id + 1)
    newer = archive.history(conversations, limit=max(0, after), after_id=message_id) if after > 0 else []
    return older + newer
