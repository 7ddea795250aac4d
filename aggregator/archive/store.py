"""The archive's typed read and write operations.

One writer: every call runs on the engine thread. Each write is its own transaction, committed
before the call returns, so whatever a caller announces as stored survives a crash. Any failure
rolls the transaction back, so the connection is usable by the next call; a failure of the storage
itself (a full disk, an I/O error) is raised as ``ArchiveStorageError`` and reported to
``Archive.storage`` (see ``storage.py``).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Table,
    and_,
    bindparam,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from aggregator.api import (
    AccountId,
    ConversationKey,
    ConversationKind,
    MessageKind,
    MessageState,
    ResumePosition,
    Sphere,
)
from aggregator.archive import fts_check
from aggregator.archive import positions as catchup
from aggregator.archive.database import open_engine
from aggregator.archive.errors import ArchiveError
from aggregator.archive.ids import SEQ_BITS, MessageIdAllocator, datetime_ms, id_floor, id_to_ms
from aggregator.archive.migrations import v002_fulltext, v006_pg_fulltext
from aggregator.archive.models import AccountRow, ConversationRow, MessageRow, StatusEventRow
from aggregator.archive.records import (
    Direction,
    ImportResult,
    NewMessage,
    Placement,
    StatusEvent,
    StatusKind,
    StoredMessage,
)
from aggregator.archive.storage import ArchiveStorageError, StorageHealth, storage_problem
from aggregator.archive.types import from_micros, to_micros

log = logging.getLogger(__name__)

_M = cast(Table, MessageRow.__table__)
_C = cast(Table, ConversationRow.__table__)
_A = cast(Table, AccountRow.__table__)
_S = cast(Table, StatusEventRow.__table__)


def utcnow() -> datetime:
    return datetime.now(UTC)


# The hot statements are built once; per message only parameters change (measured: half the
# pipeline's overhead was SQLAlchemy building a fresh statement per call).
_INSERT_MESSAGE = insert(_M)
_BY_SERVER_ID = select(_M).where(
    _M.c.conversation_id == bindparam("conversation_id"), _M.c.server_id == bindparam("server_id")
)
_BY_KEY = select(_M).where(_M.c.account_id == bindparam("account_id"), _M.c.idempotency_key == bindparam("key"))
_BY_ID = select(_M).where(_M.c.id == bindparam("message_id"))
_INSERT_STATUS = insert(_S)

#: The message columns in the order ``message_from_raw`` expects (driver-level reads, e.g. search).
MESSAGE_COLUMNS: tuple[str, ...] = (
    "id",
    "conversation_id",
    "account_id",
    "direction",
    "kind",
    "sender",
    "sender_name",
    "body",
    "server_id",
    "idempotency_key",
    "sent_at",
    "received_at",
    "state",
    "error",
    "edit_of",
    "is_backfill",
)
_IMPORT_SQL = (
    f"INSERT OR IGNORE INTO messages ({', '.join(MESSAGE_COLUMNS)}) "  # noqa: S608 (fixed column names)
    f"VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})"
)
# PostgreSQL: the same rows; a duplicate (conversation, server id) is skipped by the unique constraint.
_PG_IMPORT_SQL = (
    f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) "  # noqa: S608 (fixed column names)
    f"VALUES ({', '.join(['%s'] * len(MESSAGE_COLUMNS))}) ON CONFLICT DO NOTHING"
)
_FTS = v002_fulltext.FTS_TABLE
# Enum lookups by value, without the Enum.__call__ machinery (hot in message_from_raw).
_DIRECTIONS = {int(d): d for d in Direction}
_KINDS = {int(k): k for k in MessageKind}
_STATES = {int(s): s for s in MessageState}
_FTS_INSERT_TRIGGER = "messages_fts_insert"


class Archive:
    """Messages, conversations and status events of one profile."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        #: Whether writes succeed; listeners hear when the disk fills up and when it has room again.
        self.storage = StorageHealth()
        self._where = str(engine.url.database) if self._sqlite else engine.url.render_as_string(hide_password=True)
        self._conversations: dict[ConversationKey, int] = {}
        self._conversation_keys: dict[int, ConversationKey] = {}
        # Every user of the engine (the roster's and the policy log's tables too) gets a storage failure
        # as ArchiveStorageError, and the user hears of it whichever write met it first.
        event.listen(engine, "handle_error", self._engine_error)
        try:
            self._conn: Connection = engine.connect()
            newest = self._conn.execute(select(func.max(_M.c.id))).scalar()
            if self._sqlite:
                self._fulltext = bool(
                    self._conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = ?", (_FTS,)).scalar()
                )
            else:
                columns = inspect(self._conn).get_columns(_M.name)
                self._fulltext = v006_pg_fulltext.TSV_COLUMN in {c["name"] for c in columns}
            self._conn.commit()
            if self._sqlite and self._fulltext:
                fts_check.repair(self._conn)
        except ArchiveStorageError:
            engine.dispose()
            raise
        except SQLAlchemyError as exc:
            engine.dispose()
            problem = storage_problem(exc, self._where)
            if problem is not None:
                raise ArchiveStorageError(problem) from exc
            raise ArchiveError(f"the archive at {self._where} cannot be opened: {getattr(exc, 'orig', exc)}") from exc
        self._max_id_sql = self.driver_sql("SELECT max(id) FROM messages WHERE id >= ? AND id < ?")
        self._ids = MessageIdAllocator(newest, self._max_id_in_range)
        #: During an import: the newest id handed out per millisecond in the batch not yet inserted.
        self._pending_ids: dict[int, int] = {}
        #: During an import batch's id allocation: the largest stored id per back-dated millisecond
        #: (its floor id -> max id or None), read in a few statements instead of one per message.
        self._prefetched: dict[int, int | None] = {}

    @classmethod
    def open(cls, *, path: Path | None = None, url: str | None = None) -> Archive:
        return cls(open_engine(url=url, path=path))

    @property
    def has_fulltext(self) -> bool:
        """Whether the full-text index exists (``messages_fts`` on SQLite, ``messages.body_tsv`` on PostgreSQL)."""
        return self._fulltext

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self._engine.dialect.name)

    def driver_sql(self, sql: str) -> str:
        """``sql`` written with ``?`` placeholders, in the driver's paramstyle (``%s`` for psycopg).

        Only for SQL built from fixed fragments: a ``?`` or ``%`` inside a literal is not supported.
        """
        return sql if self._sqlite else sql.replace("?", "%s")

    def _execute_write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One driver-level write (``?`` placeholders), committed; returns the row count.

        For the archive package only (retention, ``queries``): no other service writes SQL."""
        with self._writing() as conn:
            count = conn.exec_driver_sql(self.driver_sql(sql), tuple(params)).rowcount
        return int(count)

    def mark_imported_outgoing(self, rows: Sequence[tuple[int, str, str, str | None]]) -> int:
        """Imported messages, found by (conversation id, server id), that were stored as incoming and
        are the user's own (a re-import that names the user's alias): outgoing, sent, with the user's
        address and name ``(conversation_id, server_id, sender, sender_name)``. Returns how many changed."""
        if not rows:
            return 0
        sql = self.driver_sql(
            "UPDATE messages SET direction = ?, state = ?, sender = ?, sender_name = ? "
            "WHERE conversation_id = ? AND server_id = ? AND direction <> ?"
        )
        out, sent = int(Direction.OUT), int(MessageState.SENT)
        params = [(out, sent, sender, name, conv, sid, out) for conv, sid, sender, name in rows]
        with self._writing() as conn:
            count = conn.exec_driver_sql(sql, params).rowcount
        return max(int(count), 0)

    @property
    def _connection(self) -> Connection:
        """The one connection, for the archive package only (retention's VACUUM); out of any failed
        transaction. Other services get typed methods or a repository (``roster_tables``,
        ``policy_events``, ``queries``), never the connection."""
        return self._usable()

    # -- transactions -------------------------------------------------------------------------------

    def _usable(self) -> Connection:
        """The connection, out of any failed transaction (a commit that failed leaves one behind)."""
        conn = self._conn
        if conn.invalidated:
            self._rollback()
        elif conn.in_transaction():
            trans = conn.get_transaction()
            if trans is not None and not trans.is_active:
                self._rollback()
        return conn

    def _rollback(self) -> None:
        try:
            self._conn.rollback()
        except SQLAlchemyError as exc:  # the connection itself is broken: the next use opens a new one
            log.info("Rolling back the archive failed (%s); reconnecting", exc)
            self._conn.invalidate()
            self._conn.rollback()

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """One read; the read transaction ends (commit) before the data is used."""
        conn = self._usable()
        try:
            yield conn
            conn.commit()
        except BaseException as exc:
            self._failed(exc)
            raise

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One write transaction: committed at the end, rolled back on any error."""
        conn = self._usable()
        try:
            yield conn
            conn.commit()
        except BaseException as exc:
            self._failed(exc)
            raise
        self.storage.succeeded()

    def _engine_error(self, context: ExceptionContext) -> BaseException | None:
        """SQLAlchemy's error hook: a storage failure is raised as ``ArchiveStorageError`` instead."""
        problem = storage_problem(context.original_exception, self._where)
        if problem is None:
            return None
        log.info("Archive write failed: %s (%s)", problem, context.original_exception)
        self.storage.failed(problem)
        return ArchiveStorageError(problem)

    def _failed(self, exc: BaseException) -> None:
        """Roll back; a storage failure (disk full, I/O error) is raised as ``ArchiveStorageError``."""
        self._rollback()
        problem = storage_problem(exc, self._where) if isinstance(exc, SQLAlchemyError) else None
        if problem is not None:  # not seen by the error hook (not from the driver)
            self.storage.failed(problem)
            raise ArchiveStorageError(problem) from exc

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._engine.dispose()

    # -- accounts and conversations ---------------------------------------------------------------

    def upsert_account(self, account_id: AccountId, protocol: str, address: str, label: str, sphere: Sphere) -> None:
        with self._writing() as conn:
            exists = conn.execute(select(_A.c.id).where(_A.c.id == account_id)).scalar()
            if exists is None:
                conn.execute(
                    insert(_A).values(
                        id=account_id,
                        protocol=protocol,
                        address=address,
                        label=label,
                        sphere=sphere.value,
                        created_at=utcnow(),
                    )
                )
            else:
                conn.execute(
                    update(_A)
                    .where(_A.c.id == account_id)
                    .values(protocol=protocol, address=address, label=label, sphere=sphere.value)
                )

    def conversation_id(self, key: ConversationKey, *, create: bool = True) -> int | None:
        cached = self._conversations.get(key)
        if cached is not None:
            return cached
        query = select(_C.c.id).where(
            _C.c.account_id == key.account_id, _C.c.kind == int(key.kind), _C.c.handle == key.handle
        )
        with self._reading() as conn:
            found = conn.execute(query).scalar()
        if found is None:
            if not create:
                return None
            with self._writing() as conn:
                result = conn.execute(
                    insert(_C).values(
                        account_id=key.account_id, kind=int(key.kind), handle=key.handle, created_at=utcnow()
                    )
                )
                assert result.inserted_primary_key is not None
                found = result.inserted_primary_key[0]
        assert found is not None
        self._remember(key, int(found))
        return int(found)

    def conversation_ids(self, keys: Sequence[ConversationKey]) -> list[int]:
        """``conversation_id`` of each of ``keys``, the missing ones created in ONE transaction (a history
        import opens a conversation per log file: one commit each was a good part of its time)."""
        missing = [k for k in dict.fromkeys(keys) if k not in self._conversations]
        if missing:
            found: dict[ConversationKey, int] = {}
            with self._writing() as conn:
                for key in missing:
                    value = conn.execute(
                        select(_C.c.id).where(
                            _C.c.account_id == key.account_id, _C.c.kind == int(key.kind), _C.c.handle == key.handle
                        )
                    ).scalar()
                    if value is None:
                        result = conn.execute(
                            insert(_C).values(
                                account_id=key.account_id, kind=int(key.kind), handle=key.handle, created_at=utcnow()
                            )
                        )
                        assert result.inserted_primary_key is not None
                        value = result.inserted_primary_key[0]
                    found[key] = int(value)
            for key, conv_id in found.items():  # only once committed
                self._remember(key, conv_id)
        return [self._conversations[k] for k in keys]

    def _remember(self, key: ConversationKey, conv_id: int) -> None:
        self._conversations[key] = conv_id
        self._conversation_keys[conv_id] = key

    def conversation_key(self, conv_id: int) -> ConversationKey:
        return self._key_for(conv_id)

    def _key_for(self, conv_id: int) -> ConversationKey:
        key = self._conversation_keys.get(conv_id)
        if key is None:
            with self._reading() as conn:
                row = conn.execute(select(_C.c.account_id, _C.c.kind, _C.c.handle).where(_C.c.id == conv_id)).one()
            key = ConversationKey(row.account_id, ConversationKind(row.kind), row.handle)
            self._remember(key, conv_id)
        return key

    def conversations_with(self, handle: str, account_id: AccountId | None = None) -> list[int]:
        query = select(_C.c.id).where(_C.c.handle == handle)
        if account_id is not None:
            query = query.where(_C.c.account_id == account_id)
        with self._reading() as conn:
            ids = [int(i) for i in conn.execute(query).scalars()]
        return ids

    # -- messages ---------------------------------------------------------------------------------

    def _max_id_in_range(self, lo: int, hi: int) -> int | None:
        # driver-level: asked once per back-dated millisecond, which is every message of a history
        # import; the ORM's per-statement overhead made it the import's bottleneck (~2,000 msg/s)
        if hi - lo == 1 << SEQ_BITS and lo in self._prefetched:
            found = self._prefetched[lo]
        else:
            with self._reading() as conn:
                value = conn.exec_driver_sql(self._max_id_sql, (lo, hi)).scalar()
            found = None if value is None else int(value)
        if self._pending_ids:
            for ms in range(lo >> SEQ_BITS, ((hi - 1) >> SEQ_BITS) + 1):
                pending = self._pending_ids.get(ms)
                if pending is not None and lo <= pending < hi and (found is None or pending > found):
                    found = pending
        return found

    def find_by_server_id(self, conversation_id: int, server_id: str) -> StoredMessage | None:
        with self._reading() as conn:
            row = conn.execute(_BY_SERVER_ID, {"conversation_id": conversation_id, "server_id": server_id}).first()
        return None if row is None else self._message(row)

    def placement(
        self, conversation_id: int, stamp: datetime, *, until: datetime, connected_at: datetime | None
    ) -> Placement | None:
        """Where a backfilled message stamped ``stamp`` goes among the conversation's messages stored
        between ``stamp`` and ``until`` (None: nowhere special, its own time orders it).

        It follows the newest of them that the server had before it: each message stored before the
        current connection (``connected_at``; without one, each live message) and each backfilled one
        stamped no later than ``stamp``. Live messages of the current connection and backfilled ones
        stamped later stay after it. One statement over the (conversation, id) index."""
        lo, hi = id_floor(max(datetime_ms(stamp), 0)), id_floor(max(datetime_ms(until), 0))
        window = and_(_M.c.conversation_id == conversation_id, _M.c.id >= lo, _M.c.id < hi)
        earlier: ColumnElement[bool] = and_(_M.c.is_backfill.is_(True), _M.c.sent_at <= stamp)
        earlier = or_(earlier, _M.c.received_at < connected_at if connected_at else _M.c.is_backfill.is_(False))
        before = select(_M.c.id).where(window, earlier).order_by(_M.c.id.desc()).limit(1).scalar_subquery()
        newest = select(func.max(_M.c.id)).where(window).scalar_subquery()
        with self._reading() as conn:
            row = conn.execute(select(before, newest)).one()
        if row[0] is None:
            return None
        return Placement(after=int(row[0]), before_stored=int(row[1]) > int(row[0]))

    def find_by_idempotency_key(self, account_id: AccountId, key: str) -> StoredMessage | None:
        with self._reading() as conn:
            row = conn.execute(_BY_KEY, {"account_id": account_id, "key": key}).first()
        return None if row is None else self._message(row)

    def get(self, message_id: int) -> StoredMessage | None:
        with self._reading() as conn:
            row = conn.execute(_BY_ID, {"message_id": message_id}).first()
        return None if row is None else self._message(row)

    def insert_message(
        self,
        *,
        conversation_id: int,
        account_id: AccountId,
        direction: Direction,
        sender: str,
        body: str,
        sent_at: datetime,
        state: MessageState,
        kind: MessageKind = MessageKind.CHAT,
        server_id: str | None = None,
        idempotency_key: str | None = None,
        sender_name: str | None = None,
        edit_of: int | None = None,
        is_backfill: bool = False,
        received_at: datetime | None = None,
        position: ResumePosition | None = None,
        placement: Placement | None = None,
    ) -> StoredMessage | None:
        """Store one message and commit. Returns None when the server id is already stored.

        ``placement`` (from ``placement``): the message sorts after ``placement.after`` (and before
        the messages stored after that one) rather than at its own time; ``sent_at`` is stored as given.

        ``position`` (the account's catch-up position that this message completes) is written in the
        same transaction: both are durable, or neither; on a duplicate it is saved on its own."""
        received = received_at or utcnow()
        values: dict[str, Any] = {
            "conversation_id": conversation_id,
            "account_id": account_id,
            "direction": int(direction),
            "kind": int(kind),
            "sender": sender,
            "sender_name": sender_name,
            "body": body,
            "server_id": server_id,
            "idempotency_key": idempotency_key,
            "sent_at": sent_at,
            "received_at": received,
            "state": int(state),
            "error": "",
            "edit_of": edit_of,
            "is_backfill": is_backfill,
        }
        values["id"] = self._allocate_id(sent_at, placement)
        try:
            with self._writing() as conn:
                conn.execute(_INSERT_MESSAGE, values)
                if position is not None:
                    catchup.write(conn, account_id, position)
        except IntegrityError:
            if server_id is not None and self.find_by_server_id(conversation_id, server_id) is not None:
                if position is not None:
                    self.save_position(account_id, position)
                return None
            raise
        return StoredMessage(
            id=values["id"],
            account_id=account_id,
            conversation_id=conversation_id,
            conversation=self._key_for(conversation_id),
            direction=direction,
            kind=kind,
            sender=sender,
            body=body,
            sent_at=sent_at,
            received_at=received,
            state=state,
            server_id=server_id,
            idempotency_key=idempotency_key,
            sender_name=sender_name,
            edit_of=edit_of,
            is_backfill=is_backfill,
        )

    def _allocate_id(self, sent_at: datetime, placement: Placement | None) -> int:
        own = max(datetime_ms(sent_at), 0)
        if placement is None:
            return self._ids.allocate_ms(own)
        if placement.before_stored:
            return self._ids.allocate_after(placement.after)
        after_ms = id_to_ms(placement.after)
        if after_ms <= own:
            return self._ids.allocate_ms(own)  # after everything of its own millisecond
        # the newest of its conversation: a fresh millisecond leaves room for what may go in between later
        return self._ids.allocate_ms(after_ms + 1)

    # -- catch-up positions (schema v7) -------------------------------------------------------------

    def save_position(self, account_id: AccountId, position: ResumePosition) -> None:
        """Store a catch-up position that came without a message of its own, and commit."""
        with self._writing() as conn:
            catchup.write(conn, account_id, position)

    def positions(self, account_id: AccountId) -> dict[str, str]:
        """The stored catch-up positions of ``account_id`` (stream -> opaque value)."""
        with self._reading() as conn:
            return catchup.read(conn, account_id)

    def update_message(
        self,
        message_id: int,
        *,
        state: MessageState | None = None,
        server_id: str | None = None,
        error: str | None = None,
        sent_at: datetime | None = None,
        body: str | None = None,
        kind: MessageKind | None = None,
    ) -> StoredMessage | None:
        values: dict[str, Any] = {}
        if state is not None:
            values["state"] = int(state)
        if server_id is not None:
            values["server_id"] = server_id
        if error is not None:
            values["error"] = error
        if sent_at is not None:
            values["sent_at"] = sent_at
        if body is not None:
            values["body"] = body
        if kind is not None:
            values["kind"] = int(kind)
        if values:
            with self._writing() as conn:
                conn.execute(update(_M).where(_M.c.id == message_id).values(**values))
        return self.get(message_id)

    def pending_outbound(self, account_id: AccountId) -> list[StoredMessage]:
        with self._reading() as conn:
            rows = conn.execute(
                select(_M)
                .where(
                    _M.c.state == int(MessageState.PENDING),
                    _M.c.account_id == account_id,
                    _M.c.direction == int(Direction.OUT),
                )
                .order_by(_M.c.id)
            ).all()
        return [self._message(r) for r in rows]

    def history(
        self,
        conversation_ids: Sequence[int],
        *,
        limit: int | None = None,
        before_id: int | None = None,
        after_id: int | None = None,
    ) -> list[StoredMessage]:
        """Messages of the given conversations, oldest first; with ``limit``, the newest ``limit``
        (before ``before_id``), or with ``after_id`` the oldest ``limit`` after it (paging forwards)."""
        if not conversation_ids:
            return []
        conds: list[ColumnElement[bool]] = [_M.c.conversation_id.in_(list(conversation_ids))]
        if before_id is not None:
            conds.append(_M.c.id < before_id)
        if after_id is not None:
            conds.append(_M.c.id > after_id)
        forwards = after_id is not None
        query = select(_M).where(and_(*conds)).order_by(_M.c.id if forwards else _M.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._reading() as conn:
            rows = conn.execute(query).all()
        ordered = rows if forwards else list(reversed(rows))
        return [self._message(r) for r in ordered]

    def import_messages(self, messages: Iterable[NewMessage], *, batch_size: int = 10_000) -> ImportResult:
        """Store many messages fast (history imports): one transaction and one ``executemany`` per batch.

        Ids are allocated as for live messages (time-ordered, backfill-safe). A message whose
        (conversation, server id) is already stored is skipped and counted as a duplicate. The
        full-text insert trigger is bypassed inside each batch's transaction and the batch is indexed
        with one ``executemany`` instead (measured: per-row triggers halve bulk throughput).

        The trigger's DROP and CREATE run inside the batch's explicit transaction (``BEGIN IMMEDIATE``:
        Python's sqlite3 would otherwise run DDL outside any transaction, committed at once). A crash,
        a full disk or any error before the commit therefore rolls the whole batch back, trigger
        included: no reader, and no later run, ever sees the trigger missing.
        """
        inserted = duplicates = 0
        source = iter(messages)
        while batch := list(itertools.islice(source, batch_size)):
            rows = self._import_rows(batch)
            try:
                stored = self._import_postgresql(rows) if not self._sqlite else self._import_sqlite(rows)
            finally:
                self._pending_ids.clear()
            inserted += stored
            duplicates += len(rows) - stored
        return ImportResult(inserted, duplicates)

    def _import_sqlite(self, rows: list[tuple[Any, ...]]) -> int:
        """One batch on SQLite, in one explicit transaction (see ``import_messages``)."""
        with self._writing() as conn:
            dbapi = conn.connection.dbapi_connection
            if getattr(dbapi, "in_transaction", False):
                conn.commit()  # never nest: BEGIN below must open the batch's own transaction
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            if self._fulltext:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_FTS_INSERT_TRIGGER}")
            stored = int(conn.exec_driver_sql(_IMPORT_SQL, rows).rowcount)
            if self._fulltext:
                self._index_imported(conn, rows, stored)
                conn.exec_driver_sql(v002_fulltext.TRIGGERS[_FTS_INSERT_TRIGGER])
        return stored

    def _prefetch_stored_max(self, stamps: Sequence[int], per_statement: int = 200) -> None:
        """Reads, for every millisecond of ``stamps`` (a batch's ``datetime_ms``), the largest id stored
        in it: one statement per ``per_statement`` milliseconds older than the newest id, none for the
        newer ones (a history import is all back-dated: otherwise each of its messages costs a query)."""
        newest = self._ids.newest
        floors: list[int] = []
        for f in sorted({id_floor(ms if ms > 0 else 0) for ms in set(stamps)}):
            if f > newest:
                self._prefetched[f] = None  # nothing is stored after the newest id
            else:
                floors.append(f)
        for start in range(0, len(floors), per_statement):
            chunk = floors[start : start + per_statement]
            probe = "(SELECT max(id) FROM messages WHERE id >= ? AND id < ?)"
            sql = self.driver_sql("SELECT " + ", ".join([probe] * len(chunk)))
            params = tuple(v for f in chunk for v in (f, f + (1 << SEQ_BITS)))
            with self._reading() as conn:
                row = conn.exec_driver_sql(sql, params).one()
            for floor, value in zip(chunk, row, strict=True):
                self._prefetched[floor] = None if value is None else int(value)

    def _import_rows(self, batch: Sequence[NewMessage]) -> list[tuple[Any, ...]]:
        stamps = [datetime_ms(m.sent_at) for m in batch]
        self._prefetch_stored_max(stamps)
        try:
            return self._allocate_rows(batch, stamps)
        finally:
            self._prefetched.clear()

    def _allocate_rows(self, batch: Sequence[NewMessage], stamps: Sequence[int]) -> list[tuple[Any, ...]]:
        """The batch as ``MESSAGE_COLUMNS`` rows, each with a freshly allocated id (hot: one pass per
        imported message, so the conversions are inlined and each instant is converted once)."""
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        pending = self._pending_ids
        allocate = self._ids.allocate_ms
        now_us = to_micros(utcnow())
        for m, ms in zip(batch, stamps, strict=True):
            message_id = allocate(ms)
            ms = message_id >> SEQ_BITS
            if pending.get(ms, -1) < message_id:
                pending[ms] = message_id
            sent_at = m.sent_at
            sent_us = to_micros(sent_at)
            received_at = m.received_at
            if received_at is None:
                received_us = now_us
            elif received_at is sent_at:
                received_us = sent_us
            else:
                received_us = to_micros(received_at)
            append(
                (
                    message_id,
                    m.conversation_id,
                    m.account_id,
                    int(m.direction),
                    int(m.kind),
                    m.sender,
                    m.sender_name,
                    m.body,
                    m.server_id,
                    m.idempotency_key,
                    sent_us,
                    received_us,
                    int(m.state),
                    "",
                    None,
                    int(m.is_backfill),
                )
            )
        return rows

    def _import_postgresql(self, rows: list[tuple[Any, ...]]) -> int:
        """One batch on PostgreSQL: ``executemany`` (the tsvector column is generated), counted afterwards
        (a driver's ``executemany`` row count is not reliable)."""
        ids = [r[0] for r in rows]
        pg_rows = [(*r[:15], bool(r[15])) for r in rows]
        with self._writing() as conn:
            before = conn.exec_driver_sql("SELECT count(*) FROM messages WHERE id = ANY(%s)", (ids,)).scalar() or 0
            conn.exec_driver_sql(_PG_IMPORT_SQL, pg_rows)
            after = conn.exec_driver_sql("SELECT count(*) FROM messages WHERE id = ANY(%s)", (ids,)).scalar() or 0
        return int(after) - int(before)

    @staticmethod
    def _index_imported(conn: Connection, rows: Sequence[tuple[Any, ...]], stored: int) -> None:
        if stored == len(rows):
            conn.exec_driver_sql(
                f"INSERT INTO {_FTS}(rowid, body) VALUES (?, ?)",  # noqa: S608 (fixed table name)
                [(r[0], r[7]) for r in rows],
            )
        elif stored:
            # Some rows were duplicates: index exactly the ids that went in (theirs are fresh ids).
            conn.exec_driver_sql(
                f"INSERT INTO {_FTS}(rowid, body) SELECT id, body FROM messages "  # noqa: S608
                "WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps([r[0] for r in rows]),),
            )

    def read_rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One driver-level read on the archive's connection (search: FTS5 SQL the models cannot express).

        For the archive package (and tests, diagnostics): services outside ``aggregator.archive`` use
        typed methods (``queries.ArchiveQueries`` and the repositories) and never write SQL
        (``tests/core/test_archive_boundary.py``). ``sql`` must be built from fixed fragments; every
        value goes in ``params``.
        """
        with self._reading() as conn:
            rows = conn.exec_driver_sql(self.driver_sql(sql), tuple(params)).all()
        return [tuple(r) for r in rows]

    def message_from_raw(self, row: Sequence[Any]) -> StoredMessage:
        """A message from driver-level columns in ``MESSAGE_COLUMNS`` order (timestamps as stored)."""
        return StoredMessage(
            id=row[0],
            account_id=row[2],
            conversation_id=row[1],
            conversation=self._conversation_keys.get(row[1]) or self._key_for(row[1]),
            direction=_DIRECTIONS[row[3]],
            kind=_KINDS[row[4]],
            sender=row[5],
            body=row[7],
            sent_at=from_micros(row[10]),
            received_at=from_micros(row[11]),
            state=_STATES[row[12]],
            server_id=row[8],
            idempotency_key=row[9],
            error=row[13] or "",
            sender_name=row[6],
            edit_of=row[14],
            is_backfill=bool(row[15]),
        )

    def count_messages(self) -> int:
        with self._reading() as conn:
            n = conn.execute(select(func.count()).select_from(_M)).scalar() or 0
        return int(n)

    def _message(self, row: Row[Any]) -> StoredMessage:
        return StoredMessage(
            id=row.id,
            account_id=row.account_id,
            conversation_id=row.conversation_id,
            conversation=self._key_for(row.conversation_id),
            direction=Direction(row.direction),
            kind=MessageKind(row.kind),
            sender=row.sender,
            body=row.body,
            sent_at=row.sent_at,
            received_at=row.received_at,
            state=MessageState(row.state),
            server_id=row.server_id,
            idempotency_key=row.idempotency_key,
            error=row.error or "",
            sender_name=row.sender_name,
            edit_of=row.edit_of,
            is_backfill=bool(row.is_backfill),
        )

    # -- status events ----------------------------------------------------------------------------

    def record_status(
        self, account_id: AccountId, kind: StatusKind, detail: str = "", handle: str | None = None
    ) -> None:
        with self._writing() as conn:
            conn.execute(
                _INSERT_STATUS,
                {"account_id": account_id, "kind": int(kind), "at": utcnow(), "handle": handle, "detail": detail},
            )

    def status_events(self, account_id: AccountId | None = None, limit: int = 100) -> list[StatusEvent]:
        query = select(_S).order_by(_S.c.id.desc()).limit(limit)
        if account_id is not None:
            query = query.where(_S.c.account_id == account_id)
        with self._reading() as conn:
            rows = conn.execute(query).all()
        return [
            StatusEvent(
                id=r.id,
                account_id=r.account_id,
                kind=StatusKind(r.kind),
                at=r.at,
                handle=r.handle,
                detail=r.detail,
            )
            for r in reversed(rows)
        ]
