"""SQLAlchemy 2 models of the archive.

``messages.id`` is assigned explicitly and is time-ordered (``ms << 12 | seq``, see ``ids.py``), so
"newest first" is a walk of the primary key, for live and back-filled history alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aggregator.archive.types import UtcTimestamp


class Base(DeclarativeBase):
    pass


class MetaRow(Base):
    __tablename__ = "aggregator_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    protocol: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(255), default="")
    sphere: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp())


class ContactRow(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "handle", name="uq_contacts_account_handle"),
        Index("ix_contacts_person", "person_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    handle: Mapped[str] = mapped_column(String(512))
    #: The name the server (roster) or the contact gives.
    name: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # -- schema v3 (persons): added by ALTER TABLE, hence nullable in the database --
    #: The user's own name for this one contact.
    alias: Mapped[str | None] = mapped_column(String(512), nullable=True)
    #: The server's roster groups, a JSON list of strings.
    groups: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The person this contact belongs to (always set by the roster service) and its place there.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Whether the contact is on the account's server roster (a contact seen only in messages is not).
    in_roster: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class PersonRow(Base):
    """One human: the user's alias and the sphere (work/personal); contacts point here (schema v3)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    alias: Mapped[str | None] = mapped_column(String(512), nullable=True)
    sphere: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp())
    # -- schema v4 (local groups): added by ALTER TABLE, hence nullable --
    #: The user's own (local) groups of this person, a JSON list of strings.
    groups: Mapped[str | None] = mapped_column(Text, nullable=True)


class MergeLinkRow(Base):
    """A pair of contacts the user confirmed are one human by merging them (schema v4); merge
    suggestions for similar contacts name it. Dropped when the user splits the pair again."""

    __tablename__ = "merge_links"

    contact_a: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    contact_b: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp())


class MergeRejectionRow(Base):
    """A pair of contacts the user said are not the same human: never suggested again (schema v3)."""

    __tablename__ = "merge_rejections"

    contact_a: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    contact_b: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp())


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "handle", name="uq_conversations_account_kind_handle"),
        Index("ix_conversations_handle", "handle"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[int] = mapped_column(Integer)
    handle: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp())
    #: Inbound messages with a larger id are unread (schema v3; NULL: nothing read yet).
    last_read_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # The deduplication key: (account, conversation, server id); a conversation has one account.
        UniqueConstraint("conversation_id", "server_id", name="uq_messages_conversation_server_id"),
        Index("ix_messages_conversation_id", "conversation_id", "id"),
        Index("ix_messages_account_key", "account_id", "idempotency_key"),
        Index("ix_messages_pending", "state", "account_id"),
    )

    # INTEGER on SQLite makes the column the rowid itself (a BIGINT primary key would not be), so
    # that rowid order, which full-text search walks, is time order.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    account_id: Mapped[str] = mapped_column(String(255))
    direction: Mapped[int] = mapped_column(Integer)
    kind: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(512))
    sender_name: Mapped[str | None] = mapped_column(String(512), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    server_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UtcTimestamp())
    received_at: Mapped[datetime] = mapped_column(UtcTimestamp())
    state: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    edit_of: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    is_backfill: Mapped[bool] = mapped_column(Boolean, default=False)


class StatusEventRow(Base):
    __tablename__ = "status_events"
    __table_args__ = (Index("ix_status_events_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcTimestamp())
    handle: Mapped[str | None] = mapped_column(String(512), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
