"""``MatrixAdapter``: one Matrix account on matrix-nio's ``AsyncClient``.

Login: a password login the first time (the adapter then emits ``CredentialsUpdated`` with the access
token, device id and user id, which the core keeps in the keyring); later connects restore that login
from ``Credentials.tokens`` so no new device is made. A rejected token falls back to the password once.

Sync: ``connect`` runs the first sync (full state) before it returns, then a task long-polls ``/sync``.
The sync token is a catch-up position (``SupportsResume``, ``positions.py``): after the events of a
sync, the adapter emits ``PositionReached`` with the rooms' newest events and then the token, so the
core stores the token only after those events; before each connect the core hands back what it
stored, and a restart resumes there (a crash in between re-syncs from the older token). A failed
sync ends the loop with one ``ConnectionLost``. The option ``timeline_limit`` sets how many events per
room a sync returns at most (the server's default otherwise).

Backfill: when a sync's timeline of a room is ``limited`` (more happened than it holds, e.g. while we
were away), the gap is paged back through ``/messages`` from the timeline's ``prev_batch`` down to the
newest event seen in the room before (a position per room, next to the sync token), the previous sync's
position, or ``MAX_BACKFILL`` events (a warning), and emitted oldest first as backfill before the
timeline. ``fetch_history`` pages back from the room's current end. The core deduplicates by event id.

Conversations: a room is a direct chat with a peer when ``m.direct`` says so, or when it is an unnamed
room of exactly two members; everything else is a room (``ConversationKey.room(room id)``).
Sending to a peer without a direct chat creates one (``is_direct``, peer invited, recorded in
``m.direct``). Invitations to direct chats are reported as ``SubscriptionRequested`` and joined only
when the user accepts (``answer_subscription``) or writes to the inviter (sending to a peer whose
direct-chat invitation is pending joins that room instead of starting a second one); invitations to
other rooms as a warning.

Group rooms: each sync reports what changed in a joined group room (``room_state``): ``RoomJoined`` the
first time (and when our display name changes), ``RoomMembers`` (display names, else user ids) and
``RoomTopic`` (with who set it); leaving one is ``RoomLeft``, with the reason when we were kicked or
banned. ``join_room`` takes a room id or an alias and answers with the room id.

End-to-end encryption (vodozemac via nio's store in ``data_dir/crypto``) is on when the core gives the
adapter a data directory. The store is keyed with a random passphrase of the account, kept in the
keyring as the ``pickle_key`` token, and its files are owner-only (``crypto_store``). Encrypted
messages are decrypted by nio before they reach ``mapping``. An event nio cannot decrypt is recorded
as a placeholder, its key is requested from our other devices, and it is kept (in
``data_dir/undecrypted.json`` across restarts) and retried after every sync; once its room key has
arrived it is emitted again with ``replaces_server_id == server_id``, which tells the core to fill in
the placeholder.

Edits (``m.replace``) and redactions are recorded, never applied to what is stored: an edit is a message
naming the one it replaces, a redaction a ``SYSTEM`` note naming the deleted message (the core links
both to the original, whose text stays in the archive); a message first seen already redacted is kept as
a "[deleted message]" placeholder (see ``mapping``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import ssl
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import nio

from aggregator.api import (
    AccountError,
    AccountSettings,
    AdapterEvent,
    AdapterWarning,
    AuthenticationError,
    CertificateError,
    ConfigurationError,
    ConnectionLost,
    ConversationKey,
    ConversationKind,
    Credentials,
    CredentialsUpdated,
    DeviceTrustChanged,
    EventSink,
    MessageReceived,
    NetworkError,
    NotConnectedError,
    OutgoingMessage,
    PlaintextRefusedError,
    PositionReached,
    Presence,
    ProtocolError,
    ResumePosition,
    RoomLeft,
    RosterItem,
    RosterItemChanged,
    RosterSnapshot,
    SendReceipt,
    SubscriptionRequested,
    TrustLevel,
)
from protocols.certificates import accept_pinned_certificate, changed_error, presented_certificate
from protocols.matrix import crypto_store, mapping, positions, room_state
from protocols.matrix.addresses import homeserver_url, is_room_id, normalize_address, normalize_handle
from protocols.matrix.pinning import PinMismatch, PinnedFingerprint

log = logging.getLogger(__name__)

#: Seconds for the login and the first sync together, and for any other single request.
CONNECT_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
#: How long the server may hold a ``/sync`` long-poll open (milliseconds).
SYNC_TIMEOUT_MS = 30_000
#: Seconds to wait for a newly created room to show up in the sync (needed before encrypting into it).
ROOM_SEEN_TIMEOUT = 10.0
#: Encrypted events still waiting for their room key, kept across restarts (in ``data_dir``).
UNDECRYPTED_FILE = "undecrypted.json"
#: At most this many undecryptable events are kept for a retry; the oldest are given up first.
MAX_UNDECRYPTED = 1000
DEFAULT_DEVICE_NAME = "Aggregator"
#: Events per ``/messages`` request, and at most this many events backfilled into one gap of a room.
BACKFILL_PAGE = 100
MAX_BACKFILL = 1000
_AUTH_ERRORS = {"M_FORBIDDEN", "M_USER_DEACTIVATED", "M_INVALID_USERNAME", "M_UNAUTHORIZED"}
_TOKEN_ERRORS = {"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_FORBIDDEN"}
_TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


def _ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot read the CA file {ca_file}: {exc}") from None
    accept_pinned_certificate(context, ca_file)
    return context


def _certificate_problem(exc: aiohttp.ClientConnectorCertificateError) -> str:
    error = exc.certificate_error
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return str(error.verify_message)
    return str(error)


class MatrixAdapter:
    """One Matrix account. Raises ``ConfigurationError`` for unusable settings."""

    def __init__(self, settings: AccountSettings, sink: EventSink) -> None:
        self._settings = settings
        self._sink = sink
        self._account_id = settings.account_id
        self._user_id = normalize_address(settings.address)
        self._homeserver = homeserver_url(settings.server, self._user_id)
        self._ssl: ssl.SSLContext | PinnedFingerprint = (
            _ssl_context(settings.ca_file)
            if settings.pinned_certificate is None
            else PinnedFingerprint(settings.pinned_certificate)  # checked before any request is written
        )
        self._device_name = settings.options.get("device_name", "").strip() or DEFAULT_DEVICE_NAME
        self._data_dir = settings.data_dir
        self._encryption = self._data_dir is not None and settings.options.get("encryption", "true") != "false"
        self._client: Any = None  # nio.AsyncClient (untyped)
        self._sync_task: asyncio.Task[None] | None = None
        self._connected = False
        self._presence_state = "online"
        self._dm_lock = asyncio.Lock()
        # Undecryptable events (event id -> room id, event, is backfill), retried after each sync until the
        # room key arrives; and those whose key is still to be requested from our other devices.
        self._undecrypted: dict[str, tuple[str, Any, bool]] = {}
        self._undecrypted_dirty = False
        self._key_requests: list[Any] = []
        #: The passphrase of the encryption store (from the keyring; made on first use).
        self._pickle_key: str | None = None
        # Room id -> the id of the newest timeline event seen in it, saved with the sync token: a gap in a
        # ``limited`` timeline is backfilled back to it.
        self._last_seen: dict[str, str] = {}
        self._seen_changed: set[str] = set()  # rooms whose newest event moved in the sync being handled
        # Where the next connect resumes: what the core stored (``resume_from``), then what was reached.
        self._positions: dict[str, str] = positions.read_legacy(self._data_dir)
        timeline_limit = settings.options.get("timeline_limit", "").strip()
        self._sync_filter: dict[str, Any] | None = None
        if timeline_limit:
            if not timeline_limit.isdigit() or int(timeline_limit) < 1:
                raise ConfigurationError(f"timeline_limit must be a positive number, not {timeline_limit!r}")
            self._sync_filter = {"room": {"timeline": {"limit": int(timeline_limit)}}}
        self._reset_state()

    def _reset_state(self) -> None:
        self._direct: dict[str, str] = {}  # room id -> peer, for rooms known to be direct chats
        self._dm_by_peer: dict[str, str] = {}  # peer -> the room id messages to them go to
        self._m_direct: dict[str, str] = {}  # room id -> peer, from m.direct account data
        self._typing: dict[str, frozenset[str]] = {}
        self._invites: dict[str, set[str]] = {}  # inviter -> room ids of pending direct-chat invites
        self._announced_invites: set[str] = set()
        self._announced_rooms: set[str] = set()
        self._room_facts = room_state.RoomFacts(self._account_id, self._user_id)
        self._roster: set[str] = set()
        self._trust: dict[str, tuple[TrustLevel, int, int]] = {}  # peer -> what was last reported
        self._room_seen = asyncio.Event()

    # -------------------------------------------------------------------------------- connection

    async def connect(self, credentials: Credentials) -> None:
        if self._connected:
            return
        await self.disconnect()  # drop what is left of an earlier, lost connection
        if self._homeserver.startswith("http://") and not self._settings.allow_plaintext:
            raise PlaintextRefusedError(
                f"the homeserver {self._homeserver} is not encrypted (http://); "
                "allow plaintext for this account to connect anyway"
            )
        self._reset_state()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await self._login(credentials)
                self._load_undecrypted()
                await self._first_sync()
        except TimeoutError:
            await self._close()
            raise NetworkError(f"{self._homeserver} did not answer within {CONNECT_TIMEOUT:g} s") from None
        except _TRANSPORT_ERRORS as exc:
            await self._close()
            raise await self._with_presented(self._transport_error(exc)) from None
        except CertificateError as exc:
            await self._close()
            raise await self._with_presented(exc) from None
        except BaseException:
            await self._close()
            raise
        self._connected = True
        self._sync_task = asyncio.create_task(self._sync_loop(), name=f"matrix-sync {self._account_id}")
        log.info("%s connected to %s", self._account_id, self._homeserver)

    def _new_client(self) -> Any:
        config = nio.AsyncClientConfig(
            max_timeouts=0,  # a connection error raises at once instead of retrying forever
            max_limit_exceeded=2,
            request_timeout=REQUEST_TIMEOUT,
            encryption_enabled=self._encryption,
            store_sync_tokens=False,
            pickle_key=self._pickle_key or crypto_store.NIO_DEFAULT_KEY,
        )
        store_path = ""
        crypto_dir = self._crypto_dir
        if crypto_dir is not None:
            assert self._pickle_key, "the store key is known before a client opens the store"
            crypto_store.make_private(crypto_dir)
            store_path = str(crypto_dir)
        ssl_context = self._ssl if self._homeserver.startswith("https://") else None
        return nio.AsyncClient(self._homeserver, self._user_id, store_path=store_path, config=config, ssl=ssl_context)

    @property
    def _crypto_dir(self) -> Path | None:
        return self._data_dir / "crypto" if self._encryption and self._data_dir is not None else None

    def _store_ready(self, tokens: dict[str, str], device_id: str) -> bool:
        """Whether the encryption store of ``device_id`` opens with the account's key (made, or migrated
        from nio's default key, as needed). False: it opens with no key we have; it was set aside and
        the account must log in as a new device."""
        crypto_dir = self._crypto_dir
        if crypto_dir is None:
            return True
        crypto_store.make_private(crypto_dir)
        user, key = self._user_id, self._pickle_key
        if not crypto_store.has_account(crypto_dir, user, device_id):
            if key is None:
                self._new_pickle_key(tokens)
            crypto_store.prepare(crypto_dir, user, device_id)
            return True
        if key is not None and crypto_store.opens_with(crypto_dir, user, device_id, key):
            return True
        if crypto_store.opens_with(crypto_dir, user, device_id, crypto_store.NIO_DEFAULT_KEY):
            # A store of an older version, keyed with nio's public default: same device, new key.
            key = key or self._new_pickle_key(tokens)
            count = crypto_store.rekey(crypto_dir, user, device_id, crypto_store.NIO_DEFAULT_KEY, key)
            log.warning(
                "%s: the encryption store was protected by nio's default key only; it is now keyed from the "
                "keyring (%d sessions re-encrypted, device %s kept)",
                self._account_id,
                count,
                device_id,
            )
            return True
        aside = crypto_store.set_aside(crypto_dir, user, device_id)
        self._warn(
            f"the encryption store of device {device_id} cannot be opened with the key in the keyring; "
            f"it was moved to {aside.name} and this account signs in as a new device (messages encrypted "
            "for the old device can no longer be read here)"
        )
        return False

    def _new_pickle_key(self, tokens: dict[str, str]) -> str:
        """A new store key, handed to the core for the keyring (with the login it belongs to) before
        anything is encrypted with it."""
        key = crypto_store.new_key()
        self._pickle_key = key
        self._emit(CredentialsUpdated(account_id=self._account_id, tokens={**tokens, crypto_store.TOKEN: key}))
        return key

    async def _login(self, credentials: Credentials) -> None:
        tokens = dict(credentials.tokens)
        self._pickle_key = tokens.get(crypto_store.TOKEN) or None
        access_token, device_id = tokens.get("access_token"), tokens.get("device_id")
        restorable = bool(access_token and device_id and self._same_user(tokens.get("user_id", "")))
        if restorable and device_id and not self._store_ready(tokens, device_id):
            restorable = False
        if restorable and access_token and device_id:
            client = self._new_client()
            self._client = client
            client.restore_login(self._user_id, device_id, access_token)
            reply = await client.whoami()
            if isinstance(reply, nio.WhoamiResponse) and reply.device_id in (None, device_id):
                log.info("%s: restored the login of device %s", self._account_id, device_id)
                return
            await self._close()
            code = getattr(reply, "status_code", None)
            if isinstance(reply, nio.WhoamiResponse) or code in _TOKEN_ERRORS:
                log.info("%s: the stored access token was refused (%s); logging in again", self._account_id, code)
            else:
                raise self._error_reply("check the stored login", reply)
        if not credentials.password:
            raise AuthenticationError(f"{self._user_id}: no password given")
        if self._encryption and self._pickle_key is None:
            self._pickle_key = crypto_store.new_key()  # emitted with the login's tokens below
        client = self._new_client()
        self._client = client
        reply = await client.login(credentials.password, device_name=self._device_name)
        if not isinstance(reply, nio.LoginResponse):
            code = getattr(reply, "status_code", None)
            if code in _AUTH_ERRORS:
                raise AuthenticationError(
                    f"{self._homeserver} refused the login of {self._user_id}: {reply.message or code}"
                )
            raise self._error_reply("log in", reply)
        log.info("%s: logged in as device %s", self._account_id, reply.device_id)
        new_tokens = {"access_token": reply.access_token, "device_id": reply.device_id, "user_id": reply.user_id}
        if self._pickle_key is not None:
            new_tokens[crypto_store.TOKEN] = self._pickle_key
        self._emit(CredentialsUpdated(account_id=self._account_id, tokens=new_tokens))
        if self._crypto_dir is not None:
            crypto_store.make_private(self._crypto_dir)  # nio has just created the new device's store

    def _same_user(self, user_id: str) -> bool:
        try:
            return normalize_address(user_id) == self._user_id
        except ConfigurationError:
            return False

    async def _first_sync(self) -> None:
        client = self._client
        since = self._load_sync_token()
        reply = await client.sync(
            timeout=0, since=since, full_state=True, set_presence=self._presence_state, sync_filter=self._sync_filter
        )
        if isinstance(reply, nio.SyncError) and since is not None:
            log.info("%s: the stored sync token was refused (%s); syncing afresh", self._account_id, reply.message)
            since = None
            reply = await client.sync(
                timeout=0, full_state=True, set_presence=self._presence_state, sync_filter=self._sync_filter
            )
        if not isinstance(reply, nio.SyncResponse):
            raise self._error_reply("sync", reply)
        # Without a stored token, the timeline of the first sync is history the user may have seen elsewhere.
        await self._after_sync(reply, history=since is None, since=since)
        self._emit(
            RosterSnapshot(
                account_id=self._account_id,
                items=tuple(self._roster_item(peer) for peer in sorted(self._roster)),
            )
        )
        self._report_trust()

    async def disconnect(self) -> None:
        self._connected = False
        task, self._sync_task = self._sync_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait([task])  # unlike ``await task``, never raises the task's own error
            if not task.cancelled() and task.exception() is not None:
                log.error("%s: the sync loop had failed", self._account_id, exc_info=task.exception())
        await self._close()

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()

    async def _sync_loop(self) -> None:
        client = self._client
        reason = ""
        try:
            while True:
                since = client.next_batch or None
                reply = await client.sync(
                    timeout=SYNC_TIMEOUT_MS, set_presence=self._presence_state, sync_filter=self._sync_filter
                )
                if not isinstance(reply, nio.SyncResponse):
                    reason = f"{self._homeserver} refused to sync: {self._describe(reply)}"
                    break
                await self._after_sync(reply, history=False, since=since)
        except asyncio.CancelledError:
            raise
        except _TRANSPORT_ERRORS as exc:
            reason = f"connection to {self._homeserver} lost: {self._transport_error(exc)}"
        except Exception as exc:  # nio raises LocalProtocolError, EncryptionError, ... from inside sync()
            log.exception("%s: the sync loop failed", self._account_id)
            reason = f"the sync with {self._homeserver} failed: {exc!r}"
        if self._connected:  # not a disconnect() of ours
            self._connected = False
            log.info("%s: %s", self._account_id, reason)
            self._emit(ConnectionLost(account_id=self._account_id, reason=reason, retryable=True))

    # ------------------------------------------------------------------------------- sync results

    async def _after_sync(self, reply: Any, *, history: bool, since: str | None) -> None:
        client = self._client
        gaps: dict[str, list[Any]] = {}
        if not history:
            for room_id, info in reply.rooms.join.items():
                if info.timeline.limited and info.timeline.prev_batch:
                    gaps[room_id] = await self._fill_gap(room_id, info, since)
        for event in reply.account_data_events:
            if getattr(event, "type", None) == "m.direct":
                self._m_direct = mapping.direct_rooms(getattr(event, "content", None))
        for room_id, info in reply.rooms.invite.items():
            self._guard(self._on_invite, room_id, info)
        for room_id, info in reply.rooms.join.items():
            self._guard(self._on_joined_room, room_id, info, history, gaps.get(room_id, []))
        for room_id, left in reply.rooms.leave.items():
            self._guard(self._on_left_room, room_id, left)
        for event in reply.presence_events:
            if getattr(event, "user_id", None) != self._user_id:
                self._emit_or_skip(mapping.presence(event, self._account_id))
        if reply.rooms.join:
            self._room_seen.set()
            self._room_seen = asyncio.Event()
        if client.olm is not None:
            # nio follows device list changes only of members of encrypted rooms; direct-chat peers too.
            changed = {user for user in getattr(reply.device_list, "changed", []) if user in self._roster}
            if changed:
                client.olm.add_changed_users(changed)
            self._retry_undecrypted(client)
            if self._undecrypted_dirty:  # before anything awaits (a disconnect may cancel us there)
                self._save_undecrypted()
        self._reach(reply.next_batch)  # after every event of this sync, before anything awaits
        await asyncio.sleep(0)  # let the core take the new messages before the key upkeep and the next sync
        if client.olm is not None:
            await self._crypto_housekeeping(client)
            if self._connected:  # the first sync reports after its roster snapshot
                self._report_trust()

    async def _crypto_housekeeping(self, client: Any) -> None:
        """What nio's ``sync_forever`` does between syncs: send to-device messages, upload and query keys."""
        try:
            if client.outgoing_to_device_messages:
                await client.send_to_device_messages()
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            requests, self._key_requests = self._key_requests, []
            for event in requests:
                with contextlib.suppress(nio.LocalProtocolError):  # already requested for this session
                    await client.request_room_key(event)
                    log.info("%s: requested the room key of session %s", self._account_id, event.session_id)
        except _TRANSPORT_ERRORS:
            raise
        except Exception as exc:
            log.exception("%s: encryption key housekeeping failed", self._account_id)
            self._warn(f"encryption key exchange failed: {exc!r}")

    def _guard(self, handler: Any, *args: Any) -> None:
        try:
            handler(*args)
        except Exception as exc:  # whatever the server sends, the adapter keeps running
            log.exception("%s: could not handle a sync update for %s", self._account_id, args[0])
            self._warn(f"could not handle an update for {args[0]}: {exc!r}")

    def _on_invite(self, room_id: str, info: Any) -> None:
        if room_id in self._announced_invites:
            return
        self._announced_invites.add(room_id)
        inviter, is_direct = None, False
        for event in info.invite_state:
            source = mapping.source_of(event)
            if source.get("type") == "m.room.member" and source.get("state_key") == self._user_id:
                content = source.get("content")
                inviter = source.get("sender")
                is_direct = isinstance(content, dict) and content.get("is_direct") is True
        try:
            handle = mapping.user_handle(inviter)
        except mapping.MalformedEvent:
            self._warn(f"an invitation to {room_id} from an unknown sender")
            return
        room = self._client.rooms.get(room_id) or self._client.invited_rooms.get(room_id)
        if is_direct or (room is not None and room.is_group and room.member_count <= 2):
            log.info("%s: %s invited you to the direct chat %s", self._account_id, handle, room_id)
            self._invites.setdefault(handle, set()).add(room_id)
            self._emit(
                SubscriptionRequested(
                    account_id=self._account_id,
                    handle=handle,
                    message=f"{handle} wants to chat with you (a Matrix direct chat invitation)",
                )
            )
        else:
            name = room.display_name if room is not None else room_id
            self._warn(f"{handle} invited you to the room {name} ({room_id}); join it to take part")

    async def _fill_gap(self, room_id: str, info: Any, since: str | None) -> list[Any]:
        """The events of ``room_id`` that a ``limited`` sync timeline left out, oldest first: paged back
        through ``/messages`` from the timeline's ``prev_batch`` to the newest event seen before, the
        previous sync's position or ``MAX_BACKFILL`` events. A failure is a warning (the gap stays)."""
        client = self._client
        known = {mapping.source_of(event).get("event_id") for event in info.timeline.events}
        last_seen = self._last_seen.get(room_id)
        if last_seen is not None and last_seen in known:
            return []
        events: list[Any] = []
        token = info.timeline.prev_batch
        try:
            while True:
                reply = await self._call(
                    client.room_messages(
                        room_id, start=token, end=since, direction=nio.MessageDirection.back, limit=BACKFILL_PAGE
                    )
                )
                if not isinstance(reply, nio.RoomMessagesResponse):
                    self._warn(f"could not fetch the missed history of {room_id}: {self._describe(reply)}")
                    break
                for event in reply.chunk:
                    if mapping.source_of(event).get("event_id") == last_seen:
                        return events[::-1]
                    events.append(event)
                if len(events) > MAX_BACKFILL:
                    self._warn(f"more than {MAX_BACKFILL} events were missed in {room_id}; the older ones are left out")
                    return events[:MAX_BACKFILL][::-1]
                if not reply.chunk or not reply.end or reply.end == token:
                    break
                token = reply.end
        except AccountError as exc:
            self._warn(f"could not fetch the missed history of {room_id}: {exc}")
        return events[::-1]

    def _on_joined_room(self, room_id: str, info: Any, history: bool, gap: list[Any]) -> None:
        room = self._client.rooms.get(room_id)
        if room is None:
            return
        for invited in self._invites.values():
            invited.discard(room_id)
        context = self._room_context(room)
        conversation = context.conversation
        if conversation.kind is ConversationKind.ROOM:
            self._announced_rooms.add(room_id)
            for change in self._room_facts.changes(room, conversation, [*info.state, *info.timeline.events]):
                self._emit(change)
        for event in gap:
            if isinstance(event, nio.MegolmEvent):
                self._remember_undecrypted(room_id, event, True)
            self._emit_or_skip(mapping.room_event(event, context, is_backfill=True))
        for event in info.timeline.events:
            if isinstance(event, nio.MegolmEvent):
                self._remember_undecrypted(room_id, event, history)
            self._emit_or_skip(mapping.room_event(event, context, is_backfill=history))
        newest = mapping.source_of(info.timeline.events[-1]).get("event_id") if info.timeline.events else None
        if isinstance(newest, str):
            self._last_seen[room_id] = newest
            self._seen_changed.add(room_id)
        for event in info.ephemeral:
            if isinstance(event, nio.TypingNoticeEvent):
                now, changes = mapping.typing(event, context, self._typing.get(room_id, frozenset()))
                self._typing[room_id] = now
                for change in changes:
                    self._emit(change)
            elif isinstance(event, nio.ReceiptEvent):
                for change in mapping.read_receipts(event, context):
                    self._emit(change)

    def _room_context(self, room: Any) -> mapping.RoomContext:
        return mapping.RoomContext(
            account_id=self._account_id,
            own_user_id=self._user_id,
            conversation=self._conversation_for(room),
            display_name=lambda user_id: _display_name(room, user_id),
        )

    # ------------------------------------------------------------------- undecryptable events

    def _remember_undecrypted(self, room_id: str, event: Any, is_backfill: bool) -> None:
        """Keeps an event nio could not decrypt for a retry, and asks our other devices for its key."""
        event_id = mapping.source_of(event).get("event_id")
        if not isinstance(event_id, str) or event_id in self._undecrypted:
            return
        log.info("%s: cannot decrypt %s in %s yet (session %s)", self._account_id, event_id, room_id, event.session_id)
        self._undecrypted[event_id] = (room_id, event, is_backfill)
        self._undecrypted_dirty = True
        self._key_requests.append(event)
        while len(self._undecrypted) > MAX_UNDECRYPTED:
            oldest = next(iter(self._undecrypted))
            del self._undecrypted[oldest]
            log.warning("%s: gave up waiting for the key of %s", self._account_id, oldest)

    def _retry_undecrypted(self, client: Any) -> None:
        """Decrypts the kept events whose room key has arrived since; each one completes its placeholder
        (a ``MessageReceived`` with ``replaces_server_id == server_id``)."""
        for event_id, (room_id, event, is_backfill) in list(self._undecrypted.items()):
            room = client.rooms.get(room_id)
            if room is None:
                continue  # not joined (any more): keep it for when we are
            try:
                decrypted = client.olm.decrypt_megolm_event(event, room_id)
            except nio.EncryptionError:
                continue  # still no key
            except Exception as exc:  # a corrupt event: nio may raise anything
                log.warning("%s: giving up decrypting %s: %r", self._account_id, event_id, exc)
                decrypted = None
            del self._undecrypted[event_id]
            self._undecrypted_dirty = True
            log.info("%s: decrypted %s now that its key has arrived", self._account_id, event_id)
            if decrypted is not None:
                self._emit_or_skip(mapping.decrypted_later(decrypted, self._room_context(room), is_backfill))

    def _undecrypted_path(self) -> Path | None:
        return self._data_dir / UNDECRYPTED_FILE if self._data_dir is not None and self._encryption else None

    def _load_undecrypted(self) -> None:
        path = self._undecrypted_path()
        if path is None or self._undecrypted:
            return
        try:
            entries = json.loads(path.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("%s: cannot read %s: %s", self._account_id, path, exc)
            return
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("room_id"), str):
                continue
            source = entry.get("source")
            try:
                event = nio.MegolmEvent.from_dict(source)
            except Exception as exc:  # a damaged file: skip the entry
                log.warning("%s: skipping a damaged entry of %s: %r", self._account_id, path, exc)
                continue
            event_id = mapping.source_of(event).get("event_id")
            if isinstance(event, nio.MegolmEvent) and isinstance(event_id, str):
                self._undecrypted[event_id] = (entry["room_id"], event, entry.get("backfill") is True)

    def _save_undecrypted(self) -> None:
        path = self._undecrypted_path()
        self._undecrypted_dirty = False
        if path is None:
            return
        entries = [
            {"room_id": room_id, "source": mapping.source_of(event), "backfill": backfill}
            for room_id, event, backfill in self._undecrypted.values()
        ]
        _write_private(path, entries, self._account_id)

    # ---------------------------------------------------------------------------------- rooms

    def _on_left_room(self, room_id: str, info: Any) -> None:
        peer = self._direct.pop(room_id, None)
        if peer is not None and self._dm_by_peer.get(peer) == room_id:
            del self._dm_by_peer[peer]
        self._room_facts.forget(room_id)
        if room_id in self._announced_rooms:
            self._announced_rooms.discard(room_id)
            events = [*getattr(info, "state", []), *getattr(getattr(info, "timeline", None), "events", [])]
            self._emit(
                RoomLeft(
                    account_id=self._account_id,
                    conversation=ConversationKey.room(self._account_id, room_id),
                    reason=room_state.leave_reason(events, self._user_id),
                )
            )

    def _conversation_for(self, room: Any) -> ConversationKey:
        room_id: str = room.room_id
        peer = self._direct.get(room_id) or self._m_direct.get(room_id)
        if peer is None and room.is_group:
            others = [user for user in room.users if user != self._user_id]
            if len(others) == 1:
                with contextlib.suppress(mapping.MalformedEvent):
                    peer = mapping.user_handle(others[0])
        if peer is None:
            return ConversationKey.room(self._account_id, room_id)
        self._remember_direct(room_id, peer)
        return ConversationKey.direct(self._account_id, peer)

    def _remember_direct(self, room_id: str, peer: str) -> None:
        self._direct[room_id] = peer
        self._dm_by_peer.setdefault(peer, room_id)
        if peer not in self._roster:
            self._roster.add(peer)
            self._track_devices(peer)
            if self._connected:  # after the first sync's snapshot
                self._emit(RosterItemChanged(account_id=self._account_id, item=self._roster_item(peer)))

    def _roster_item(self, peer: str) -> RosterItem:
        name = None
        room = self._client.rooms.get(self._dm_by_peer.get(peer, "")) if self._client is not None else None
        if room is not None:
            name = _display_name(room, peer)
        return RosterItem(handle=peer, name=name)

    # ------------------------------------------------------------------------------ device trust

    def _track_devices(self, peer: str) -> None:
        """Has nio query the devices of a direct-chat peer (it tracks only members of encrypted rooms)."""
        olm = self._client.olm if self._client is not None else None
        if olm is not None and peer not in olm.tracked_users:
            olm.add_changed_users({peer})

    def _report_trust(self) -> None:
        """``DeviceTrustChanged`` for each direct-chat peer whose devices or their trust changed since the
        last report (of this connection: after a connect every peer is reported again)."""
        client = self._client
        if client is None or client.olm is None:
            return
        store = client.device_store
        for peer in sorted(self._roster):
            now = mapping.device_trust(list(store.active_user_devices(peer)) if peer in store.users else [])
            if self._trust.get(peer) == now:
                continue
            self._trust[peer] = now
            trust, devices, verified = now
            self._emit(
                DeviceTrustChanged(
                    account_id=self._account_id, handle=peer, trust=trust, devices=devices, verified=verified
                )
            )

    def device_ids(self, handle: str) -> list[str]:
        """The ids of the known (not deleted) encryption devices of ``handle``."""
        client = self._require_client()
        if client.olm is None:
            return []
        peer = normalize_address(handle)
        store = client.device_store
        return sorted(d.id for d in store.active_user_devices(peer)) if peer in store.users else []

    def set_device_trust(self, handle: str, device_id: str, trust: TrustLevel) -> None:
        """Marks one device of ``handle`` ``VERIFIED``, ``UNVERIFIED`` (neither verified nor blocked) or
        ``BLOCKED`` (kept in the crypto store), then reports the contact's trust if it changed."""
        client = self._require_client()
        if client.olm is None:
            raise ConfigurationError(f"{self._account_id} has no end-to-end encryption")
        peer = normalize_address(handle)
        device = client.device_store[peer].get(device_id) if peer in client.device_store.users else None
        if device is None:
            raise ConfigurationError(f"{handle} has no known device {device_id!r}")
        if trust is TrustLevel.VERIFIED:
            client.unblacklist_device(device)
            client.verify_device(device)
        elif trust is TrustLevel.BLOCKED:
            client.unverify_device(device)
            client.blacklist_device(device)
        elif trust is TrustLevel.UNVERIFIED:
            client.unverify_device(device)
            client.unblacklist_device(device)
        else:
            raise ConfigurationError(f"a device is verified, unverified or blocked, not {trust.value}")
        self._report_trust()

    # ----------------------------------------------------------------------------------- actions

    async def set_presence(self, presence: Presence) -> None:
        client = self._require_client()
        state = mapping.PRESENCE_OUT[presence.kind]
        self._presence_state = state
        reply = await self._call(client.set_presence(state, presence.status or None))
        if not isinstance(reply, nio.PresenceSetResponse):
            raise self._error_reply("set the presence", reply)

    async def set_typing(self, conversation: ConversationKey, typing: bool) -> None:
        client = self._require_client()
        room_id = self._known_room(conversation)
        if room_id is None:
            return  # no direct chat yet: nothing to show the peer
        await self._call(client.room_typing(room_id, typing_state=typing, timeout=30_000))

    async def send_message(self, conversation: ConversationKey, message: OutgoingMessage) -> SendReceipt:
        client = self._require_client()
        room_id = await self._room_for(conversation)
        content = mapping.message_content(message.body, message.kind)
        try:
            reply = await self._call(
                client.room_send(
                    room_id,
                    "m.room.message",
                    content,
                    tx_id=message.idempotency_key,
                    ignore_unverified_devices=True,
                )
            )
        except (nio.LocalProtocolError, nio.SendRetryError) as exc:
            raise ProtocolError(f"cannot send to {conversation.handle}: {exc}") from None
        if not isinstance(reply, nio.RoomSendResponse):
            raise self._error_reply(f"accept a message to {conversation.handle}", reply)
        return SendReceipt(remote_id=reply.event_id)

    async def fetch_history(self, conversation: ConversationKey, after: datetime | None, limit: int) -> int:
        """Emits up to ``limit`` messages of ``conversation`` (``is_backfill``), oldest first: the newest ones,
        paged back through ``/messages`` from the room's current end down to ``after`` (exclusive) when
        given. Returns how many were emitted. A direct chat without a room has no history (0)."""
        client = self._require_client()
        if limit <= 0:
            return 0
        room_id = self._known_room(conversation)
        if room_id is None:
            return 0
        room = client.rooms.get(room_id)
        if room is None:
            raise ConfigurationError(f"{self._account_id} is not in {conversation.handle}; join it first")
        context = self._room_context(room)
        after_ms = after.timestamp() * 1000 if after is not None else None
        found: list[tuple[Any, AdapterEvent]] = []
        count = 0
        token = client.next_batch
        while count < limit:
            reply = await self._call(
                client.room_messages(room_id, start=token, direction=nio.MessageDirection.back, limit=BACKFILL_PAGE)
            )
            if not isinstance(reply, nio.RoomMessagesResponse):
                raise self._error_reply(f"give the history of {conversation.handle}", reply)
            for event in reply.chunk:
                stamp = mapping.source_of(event).get("origin_server_ts")
                if after_ms is not None and isinstance(stamp, int) and stamp <= after_ms:
                    count = limit  # reached ``after``: stop paging
                    break
                mapped = mapping.room_event(event, context, is_backfill=True)
                if mapped is None:
                    continue
                found.append((event, mapped))
                if isinstance(mapped, MessageReceived):
                    count += 1
                    if count >= limit:
                        break
            if not reply.chunk or not reply.end or reply.end == token:
                break
            token = reply.end
        emitted = 0
        for event, mapped in reversed(found):
            if isinstance(event, nio.MegolmEvent):
                self._remember_undecrypted(room_id, event, True)
            self._emit_or_skip(mapped)
            emitted += isinstance(mapped, MessageReceived)
        return emitted

    # Group chat (SupportsGroupChat)

    async def join_room(self, room: str, nick: str | None = None) -> ConversationKey:
        client = self._require_client()
        reply = await self._call(client.join(normalize_handle(room)))
        if not isinstance(reply, nio.JoinResponse):
            raise self._error_reply(f"let you join {room}", reply)
        return ConversationKey.room(self._account_id, reply.room_id)

    async def leave_room(self, room: ConversationKey) -> None:
        client = self._require_client()
        reply = await self._call(client.room_leave(await self._room_id(room.handle)))
        if not isinstance(reply, nio.RoomLeaveResponse):
            raise self._error_reply(f"let you leave {room.handle}", reply)

    async def set_topic(self, room: ConversationKey, topic: str) -> None:
        client = self._require_client()
        room_id = await self._room_id(room.handle)
        reply = await self._call(client.room_put_state(room_id, "m.room.topic", {"topic": topic}))
        if not isinstance(reply, nio.RoomPutStateResponse):
            raise self._error_reply(f"set the topic of {room.handle}", reply)

    async def _room_id(self, handle: str) -> str:
        """The room id of a room id or alias (``#name:server``, asked of the homeserver)."""
        address = normalize_handle(handle)
        if not address.startswith("#"):
            if not is_room_id(address):
                raise ConfigurationError(f"{handle!r} is not a room id or alias")
            return address
        reply = await self._call(self._require_client().room_resolve_alias(address))
        if not isinstance(reply, nio.RoomResolveAliasResponse):
            raise self._error_reply(f"find the room {address}", reply)
        room_id: str = reply.room_id
        return room_id

    # Contacts (SupportsRosterEdit): a Matrix "contact" is a direct chat.

    async def add_contact(self, handle: str, name: str | None = None, groups: tuple[str, ...] = ()) -> None:
        await self._direct_room(normalize_address(handle))

    async def remove_contact(self, handle: str) -> None:
        client = self._require_client()
        peer = normalize_address(handle)
        for room_id in [room_id for room_id, other in self._direct.items() if other == peer]:
            await self._call(client.room_leave(room_id))

    async def answer_subscription(self, handle: str, accept: bool) -> None:
        """Joins (``accept``) or rejects the pending direct-chat invitations from ``handle``."""
        client = self._require_client()
        peer = normalize_address(handle)
        if accept:
            await self._accept_invites(peer)
            return
        for room_id in sorted(self._invites.pop(peer, set())):
            await self._call(client.room_leave(room_id))

    async def _accept_invites(self, peer: str) -> str | None:
        """Joins the pending direct-chat invitations from ``peer``; the room messages then go to, if any."""
        client = self._require_client()
        joined: str | None = None
        for room_id in sorted(self._invites.pop(peer, set())):
            reply = await self._call(client.join(room_id))
            if not isinstance(reply, nio.JoinResponse):
                raise self._error_reply(f"let you join the direct chat with {peer}", reply)
            log.info("%s: joined the direct chat %s with %s", self._account_id, room_id, peer)
            self._remember_direct(room_id, peer)
            self._dm_by_peer[peer] = room_id
            await self._record_direct(room_id, peer)
            joined = room_id
        return joined

    # ------------------------------------------------------------------------------------ rooms

    def _known_room(self, conversation: ConversationKey) -> str | None:
        if conversation.kind is ConversationKind.ROOM:
            return conversation.handle
        return self._dm_by_peer.get(normalize_address(conversation.handle))

    async def _room_for(self, conversation: ConversationKey) -> str:
        if conversation.kind is ConversationKind.ROOM:
            if not is_room_id(conversation.handle):
                raise ConfigurationError(f"{conversation.handle!r} is not a room id")
            return conversation.handle
        return await self._direct_room(normalize_address(conversation.handle))

    async def _direct_room(self, peer: str) -> str:
        """The room of the direct chat with ``peer``: a known one, one in ``m.direct``, or a new one."""
        async with self._dm_lock:
            client = self._require_client()
            room_id = self._dm_by_peer.get(peer)
            if room_id is not None:
                return room_id
            # Writing to someone who invited us to a direct chat accepts that invitation (as other
            # clients do) rather than starting a second chat next to it.
            room_id = await self._accept_invites(peer)
            if room_id is None:
                room_id = await self._direct_room_from_server(peer)
            if room_id is None:
                room_id = await self._create_direct_room(peer)
            self._remember_direct(room_id, peer)
            self._dm_by_peer[peer] = room_id
            if client.olm is not None and room_id not in client.rooms:
                await self._wait_for_room(room_id)
            return room_id

    async def _direct_room_from_server(self, peer: str) -> str | None:
        """A room ``m.direct`` names for ``peer`` (another client of ours may have made it) that we are in."""
        client = self._require_client()
        reply = await self._call(client.list_direct_rooms())
        rooms = getattr(reply, "rooms", None)
        if not isinstance(rooms, dict):
            return None
        for room_id, other in mapping.direct_rooms(rooms).items():
            if other != peer:
                continue
            members = await self._call(client.joined_members(room_id))
            if isinstance(members, nio.JoinedMembersResponse):
                ids = {member.user_id for member in members.members}
                if self._user_id in ids and ids <= {self._user_id, peer}:
                    return room_id
        return None

    async def _create_direct_room(self, peer: str) -> str:
        client = self._require_client()
        initial_state = []
        if client.olm is not None and self._settings.options.get("encrypt_new_chats", "false") == "true":
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        reply = await self._call(
            client.room_create(
                is_direct=True,
                invite=[peer],
                preset=nio.RoomPreset.trusted_private_chat,
                initial_state=initial_state,
            )
        )
        if not isinstance(reply, nio.RoomCreateResponse):
            raise self._error_reply(f"start a direct chat with {peer}", reply)
        room_id: str = reply.room_id
        log.info("%s: created the direct chat %s with %s", self._account_id, room_id, peer)
        await self._record_direct(room_id, peer)
        return room_id

    async def _record_direct(self, room_id: str, peer: str) -> None:
        """Adds ``room_id`` to our ``m.direct`` account data (as other clients do), best effort."""
        client = self._require_client()
        try:
            reply = await self._call(client.list_direct_rooms())
            current = reply.rooms if isinstance(getattr(reply, "rooms", None), dict) else {}
            rooms = [r for r in current.get(peer, []) if isinstance(r, str) and r != room_id]
            content = dict(current) | {peer: [room_id, *rooms]}
            path = f"/_matrix/client/v3/user/{quote(self._user_id, safe='')}/account_data/m.direct"
            headers = {"Authorization": f"Bearer {client.access_token}", "Content-Type": "application/json"}
            response = await self._call(client.send("PUT", path, json.dumps(content), headers))
            status = response.status
            response.release()
            if status != 200:
                self._warn(f"could not record the direct chat with {peer} in m.direct (HTTP {status})")
        except AccountError as exc:
            self._warn(f"could not record the direct chat with {peer} in m.direct: {exc}")

    async def _wait_for_room(self, room_id: str) -> None:
        client = self._require_client()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ROOM_SEEN_TIMEOUT):
                while room_id not in client.rooms:
                    await self._room_seen.wait()

    # ------------------------------------------------------------------------------------ helpers

    def _require_client(self) -> Any:
        if not self._connected or self._client is None:
            raise NotConnectedError(f"{self._account_id} is not connected")
        return self._client

    async def _call(self, request: Any) -> Any:
        """Awaits a nio request, turning transport failures into ``NetworkError``."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT + 5):
                return await request
        except _TRANSPORT_ERRORS as exc:
            raise self._transport_error(exc) from None

    def _transport_error(self, exc: BaseException) -> AccountError:
        pin = self._settings.pinned_certificate
        if isinstance(exc, PinMismatch) and pin is not None:
            return changed_error(self._homeserver, pin, exc.presented.hex(), None)
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            problem = _certificate_problem(exc)
            return CertificateError(f"the certificate of {self._homeserver} is not trusted: {problem}", None, problem)
        if isinstance(exc, aiohttp.ClientConnectorSSLError):
            return NetworkError(f"TLS with {self._homeserver} failed: {exc.os_error}")
        if isinstance(exc, TimeoutError):
            return NetworkError(f"{self._homeserver} did not answer in time")
        if isinstance(exc, aiohttp.ClientConnectorError):
            return NetworkError(f"cannot reach {self._homeserver}: {exc.os_error.strerror or exc.os_error}")
        return NetworkError(f"connection to {self._homeserver} failed: {exc}")

    async def _with_presented(self, error: AccountError) -> AccountError:
        """A certificate error with the certificate the homeserver presents (read without verifying)."""
        if not isinstance(error, CertificateError) or error.certificate is not None:
            return error
        parts = urlsplit(self._homeserver)
        if parts.scheme != "https" or not parts.hostname:
            return error
        presented = await presented_certificate(parts.hostname, parts.port or 443, problem=error.problem)
        return CertificateError(str(error), presented, error.problem)

    @staticmethod
    def _describe(reply: Any) -> str:
        message = getattr(reply, "message", None) or "no reason given"
        code = getattr(reply, "status_code", None)
        return f"{message} ({code})" if code else str(message)

    def _error_reply(self, what: str, reply: Any) -> AccountError:
        code = getattr(reply, "status_code", None)
        text = f"{self._homeserver} did not {what}: {self._describe(reply)}"
        if code == "M_LIMIT_EXCEEDED" or (isinstance(code, str) and code.startswith("5")):
            return NetworkError(text)
        if code is None:
            return ProtocolError(f"{text}; is it a Matrix homeserver?")
        return ProtocolError(text)

    def resume_from(self, stored: Mapping[str, str]) -> None:
        """``SupportsResume``: the sync token and rooms' newest events the core stored after their events.
        Without a stored token, what an earlier version left in the data dir (removed once the core has one)."""
        legacy = positions.read_legacy(self._data_dir)
        if positions.SYNC_STREAM in stored:
            self._positions = dict(stored)
            if legacy:
                positions.remove_legacy(self._data_dir)
        else:
            self._positions = {**legacy, **stored}

    def _load_sync_token(self) -> str | None:
        if self._client is None:
            return None
        self._last_seen = positions.last_seen(self._positions)
        self._seen_changed.clear()
        return positions.sync_token(self._positions, self._user_id, self._client.device_id)

    def _reach(self, token: str) -> None:
        """Reports the positions this sync reached: the rooms' newest events, then the token (in this
        order, each after the events it covers, so that the core never stores a token ahead of them)."""
        if self._client is None:
            return
        reached = [
            ResumePosition(positions.room_stream(room_id), self._last_seen[room_id])
            for room_id in sorted(self._seen_changed)
            if room_id in self._last_seen
        ]
        self._seen_changed.clear()
        reached.append(
            ResumePosition(positions.SYNC_STREAM, positions.encode_sync(self._user_id, self._client.device_id, token))
        )
        for position in reached:
            self._positions[position.stream] = position.value
            self._emit(PositionReached(account_id=self._account_id, position=position))

    def _warn(self, message: str) -> None:
        log.warning("%s: %s", self._account_id, message)
        self._emit(AdapterWarning(account_id=self._account_id, message=message))

    def _emit_or_skip(self, event: AdapterEvent | None) -> None:
        if event is not None:
            if isinstance(event, AdapterWarning):
                log.warning("%s: %s", self._account_id, event.message)
            self._emit(event)

    def _emit(self, event: AdapterEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken sink must not stop the connection
            log.exception("%s: the event sink failed on %s", self._account_id, type(event).__name__)


def _write_private(path: Path, data: object, account_id: str) -> None:
    """Writes ``data`` as JSON to ``path`` (mode 0600) atomically; a failure is logged, not raised."""
    temporary = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(data, file)
        temporary.replace(path)
    except OSError as exc:
        log.warning("%s: cannot save %s: %s", account_id, path, exc)


def _display_name(room: Any, user_id: str) -> str | None:
    user = room.users.get(user_id)
    name = getattr(user, "display_name", None)
    return name if isinstance(name, str) and name and name != user_id else None
