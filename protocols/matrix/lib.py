"""The typed edge of matrix-nio: the one module of the adapter that calls nio and reads its replies.

nio ships no type information, so everything it returns is ``Any``. ``Client`` wraps one
``nio.AsyncClient``: each request returns a small typed result or a ``Failure`` (the error reply's code
and message), and the objects nio keeps (rooms, sync replies, devices) are described by the
``Protocol`` classes below, so the feature modules never hold an ``Any``. Events stay opaque
(``object``): ``mapping`` reads them through their ``source`` dict.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import nio

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- nio's shapes


class RoomUser(Protocol):
    @property
    def display_name(self) -> str | None: ...


class Room(Protocol):
    """A room nio keeps up to date from the sync (``nio.MatrixRoom``)."""

    @property
    def room_id(self) -> str: ...
    @property
    def is_group(self) -> bool: ...
    @property
    def member_count(self) -> int: ...
    @property
    def display_name(self) -> str: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def users(self) -> Mapping[str, object]: ...
    @property
    def encrypted(self) -> bool: ...


class Timeline(Protocol):
    @property
    def events(self) -> Sequence[object]: ...
    @property
    def limited(self) -> bool: ...
    @property
    def prev_batch(self) -> str | None: ...


class JoinedRoom(Protocol):
    @property
    def state(self) -> Sequence[object]: ...
    @property
    def timeline(self) -> Timeline: ...
    @property
    def ephemeral(self) -> Sequence[object]: ...


class InvitedRoom(Protocol):
    @property
    def invite_state(self) -> Sequence[object]: ...


class SyncRooms(Protocol):
    @property
    def join(self) -> Mapping[str, JoinedRoom]: ...
    @property
    def invite(self) -> Mapping[str, InvitedRoom]: ...
    @property
    def leave(self) -> Mapping[str, object]: ...


class Sync(Protocol):
    """A successful ``/sync`` (``nio.SyncResponse``)."""

    @property
    def rooms(self) -> SyncRooms: ...
    @property
    def next_batch(self) -> str: ...
    @property
    def account_data_events(self) -> Sequence[object]: ...
    @property
    def presence_events(self) -> Sequence[object]: ...


@dataclass(frozen=True, slots=True)
class Failure:
    """An error reply (or a reply of an unexpected kind): its Matrix error code or HTTP status, and text."""

    code: str | None
    message: str | None

    @classmethod
    def of(cls, reply: object) -> Failure:
        code, message = getattr(reply, "status_code", None), getattr(reply, "message", None)
        return cls(None if code is None else str(code), None if message is None else str(message))

    def describe(self) -> str:
        message = self.message or "no reason given"
        return f"{message} ({self.code})" if self.code else message


@dataclass(frozen=True, slots=True)
class Login:
    user_id: str
    device_id: str
    access_token: str


@dataclass(frozen=True, slots=True)
class Page:
    """One page of ``/messages``: its events (newest first when paging back) and where the next starts."""

    chunk: Sequence[object]
    end: str | None


class CannotSend(Exception):
    """nio refused to send locally (e.g. an encrypted room whose devices are not known yet)."""


class NoKeyYet(Exception):
    """The room key of an encrypted event has not arrived."""


def is_undecrypted(event: object) -> bool:
    """An encrypted event nio could not decrypt (``nio.MegolmEvent``)."""
    return isinstance(event, nio.MegolmEvent)


def undecrypted_from(source: object) -> object | None:
    """The encrypted event stored as ``source`` (None if it is not one); raises on damaged input."""
    event: object = nio.MegolmEvent.from_dict(source)
    return event if isinstance(event, nio.MegolmEvent) else None


def session_of(event: object) -> str:
    return str(getattr(event, "session_id", ""))


def is_typing_notice(event: object) -> bool:
    return isinstance(event, nio.TypingNoticeEvent)


def is_receipts(event: object) -> bool:
    return isinstance(event, nio.ReceiptEvent)


def device_id_of(device: object) -> str:
    return str(getattr(device, "id", ""))


def changed_devices(sync: Sync) -> list[str]:
    """The users whose device lists changed, as the sync says."""
    changed = getattr(getattr(sync, "device_list", None), "changed", [])
    return [user for user in changed if isinstance(user, str)]


class Client:
    """One ``nio.AsyncClient``. Requests return their typed result or a ``Failure``; transport errors
    (aiohttp, OS, timeouts) are raised as they come (the caller maps them)."""

    def __init__(self, homeserver: str, user_id: str, *, store_path: str, config: object, ssl: object) -> None:
        self._nio: Any = nio.AsyncClient(homeserver, user_id, store_path=store_path, config=config, ssl=ssl)

    # ------------------------------------------------------------------------------- login, sync

    def restore_login(self, user_id: str, device_id: str, access_token: str) -> None:
        self._nio.restore_login(user_id, device_id, access_token)

    async def whoami(self) -> str | Failure | None:
        """The device id the server has for our access token (None if it names none)."""
        reply = await self._nio.whoami()
        if not isinstance(reply, nio.WhoamiResponse):
            return Failure.of(reply)
        device_id = reply.device_id
        return None if device_id is None else str(device_id)

    async def login(self, password: str, device_name: str) -> Login | Failure:
        reply = await self._nio.login(password, device_name=device_name)
        if not isinstance(reply, nio.LoginResponse):
            return Failure.of(reply)
        return Login(str(reply.user_id), str(reply.device_id), str(reply.access_token))

    async def sync(
        self,
        *,
        timeout: int,
        since: str | None = None,
        full_state: bool = False,
        set_presence: str,
        sync_filter: Mapping[str, object] | None,
    ) -> Sync | Failure:
        reply = await self._nio.sync(
            timeout=timeout,
            since=since,
            full_state=True if full_state else None,
            set_presence=set_presence,
            sync_filter=sync_filter,
        )
        if not isinstance(reply, nio.SyncResponse):
            return Failure.of(reply)
        return cast(Sync, reply)

    async def close(self) -> None:
        await self._nio.close()

    @property
    def next_batch(self) -> str | None:
        token = self._nio.next_batch
        return str(token) if token else None

    @property
    def device_id(self) -> str | None:
        device_id = self._nio.device_id
        return str(device_id) if device_id else None

    @property
    def access_token(self) -> str:
        return str(self._nio.access_token or "")

    # -------------------------------------------------------------------------------------- rooms

    def room(self, room_id: str) -> Room | None:
        return cast("Room | None", self._nio.rooms.get(room_id))

    def invited_room(self, room_id: str) -> Room | None:
        return cast("Room | None", self._nio.invited_rooms.get(room_id))

    def has_room(self, room_id: str) -> bool:
        return room_id in self._nio.rooms

    async def room_messages(self, room_id: str, *, start: str | None, end: str | None, limit: int) -> Page | Failure:
        """A page of the room's timeline, paging back from ``start`` (to ``end`` when given)."""
        if end is None:
            reply = await self._nio.room_messages(
                room_id, start=start, direction=nio.MessageDirection.back, limit=limit
            )
        else:
            reply = await self._nio.room_messages(
                room_id, start=start, end=end, direction=nio.MessageDirection.back, limit=limit
            )
        if not isinstance(reply, nio.RoomMessagesResponse):
            return Failure.of(reply)
        return Page(list(reply.chunk), str(reply.end) if reply.end else None)

    async def set_presence(self, state: str, status: str | None) -> Failure | None:
        reply = await self._nio.set_presence(state, status)
        return None if isinstance(reply, nio.PresenceSetResponse) else Failure.of(reply)

    async def room_typing(self, room_id: str, typing: bool, timeout: int) -> None:
        await self._nio.room_typing(room_id, typing_state=typing, timeout=timeout)

    async def room_send(self, room_id: str, content: Mapping[str, object], tx_id: str) -> str | Failure:
        """Sends an ``m.room.message`` (encrypted in an encrypted room); its event id."""
        try:
            reply = await self._nio.room_send(
                room_id, "m.room.message", content, tx_id=tx_id, ignore_unverified_devices=True
            )
        except (nio.LocalProtocolError, nio.SendRetryError) as exc:
            raise CannotSend(str(exc)) from None
        if not isinstance(reply, nio.RoomSendResponse):
            return Failure.of(reply)
        return str(reply.event_id)

    async def join(self, room: str) -> str | Failure:
        """Joins a room by id or alias; its room id."""
        reply = await self._nio.join(room)
        return str(reply.room_id) if isinstance(reply, nio.JoinResponse) else Failure.of(reply)

    async def room_leave(self, room_id: str) -> Failure | None:
        reply = await self._nio.room_leave(room_id)
        return None if isinstance(reply, nio.RoomLeaveResponse) else Failure.of(reply)

    async def room_put_state(self, room_id: str, event_type: str, content: Mapping[str, object]) -> Failure | None:
        reply = await self._nio.room_put_state(room_id, event_type, content)
        return None if isinstance(reply, nio.RoomPutStateResponse) else Failure.of(reply)

    async def room_resolve_alias(self, alias: str) -> str | Failure:
        reply = await self._nio.room_resolve_alias(alias)
        return str(reply.room_id) if isinstance(reply, nio.RoomResolveAliasResponse) else Failure.of(reply)

    async def list_direct_rooms(self) -> dict[str, object] | None:
        """Our ``m.direct`` account data (user id -> room ids), None when it cannot be read."""
        reply = await self._nio.list_direct_rooms()
        rooms = getattr(reply, "rooms", None)
        return cast(dict[str, object], rooms) if isinstance(rooms, dict) else None

    async def joined_members(self, room_id: str) -> set[str] | None:
        reply = await self._nio.joined_members(room_id)
        if not isinstance(reply, nio.JoinedMembersResponse):
            return None
        return {str(member.user_id) for member in reply.members}

    async def create_direct_room(self, peer: str, initial_state: list[dict[str, object]]) -> str | Failure:
        reply = await self._nio.room_create(
            is_direct=True, invite=[peer], preset=nio.RoomPreset.trusted_private_chat, initial_state=initial_state
        )
        return str(reply.room_id) if isinstance(reply, nio.RoomCreateResponse) else Failure.of(reply)

    async def room_forget(self, room_id: str) -> Failure | None:
        reply = await self._nio.room_forget(room_id)
        return None if isinstance(reply, nio.RoomForgetResponse) else Failure.of(reply)

    async def get_json(self, path: str) -> tuple[int, object]:
        """A raw authenticated ``GET`` of JSON (what nio has no call for): the HTTP status and the body."""
        headers = {"Authorization": f"Bearer {self._nio.access_token}"}
        response = await self._nio.send("GET", path, None, headers)
        status = int(response.status)
        try:
            body: object = await response.json(content_type=None)
        except ValueError:
            body = None
        finally:
            response.release()
        return status, body

    async def put_json(self, path: str, content: object) -> int:
        """A raw authenticated ``PUT`` of JSON (what nio has no call for); the HTTP status."""
        headers = {"Authorization": f"Bearer {self._nio.access_token}", "Content-Type": "application/json"}
        response = await self._nio.send("PUT", path, json.dumps(content), headers)
        status = int(response.status)
        response.release()
        return status

    # --------------------------------------------------------------------- end-to-end encryption

    @property
    def encrypted(self) -> bool:
        """End-to-end encryption is on (nio has its Olm machine)."""
        return self._nio.olm is not None

    def track_users(self, users: set[str]) -> None:
        """Has nio query the devices of ``users`` (it follows only members of encrypted rooms)."""
        self._nio.olm.add_changed_users(users)

    def tracks(self, user: str) -> bool:
        return user in self._nio.olm.tracked_users

    def decrypt(self, event: object, room_id: str) -> object:
        """The decrypted event; ``NoKeyYet`` while its room key is missing (nio raises anything else)."""
        try:
            decrypted: object = self._nio.olm.decrypt_megolm_event(event, room_id)
        except nio.EncryptionError:
            raise NoKeyYet from None
        return decrypted

    async def key_upkeep(self) -> None:
        """What nio's ``sync_forever`` does between syncs: send to-device messages, upload and query keys."""
        client = self._nio
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    async def request_room_key(self, event: object) -> bool:
        """Asks our other devices for the key of ``event``; False if it was asked for already."""
        with contextlib.suppress(nio.LocalProtocolError):
            await self._nio.request_room_key(event)
            return True
        return False

    def devices(self, user: str) -> list[object]:
        """The active (not deleted) devices nio knows of ``user``."""
        store = self._nio.device_store
        return list(store.active_user_devices(user)) if user in store.users else []

    def device(self, user: str, device_id: str) -> object | None:
        store = self._nio.device_store
        device: object | None = store[user].get(device_id) if user in store.users else None
        return device

    def verify(self, device: object) -> None:
        self._nio.unblacklist_device(device)
        self._nio.verify_device(device)

    def block(self, device: object) -> None:
        self._nio.unverify_device(device)
        self._nio.blacklist_device(device)

    def unverify(self, device: object) -> None:
        self._nio.unverify_device(device)
        self._nio.unblacklist_device(device)
