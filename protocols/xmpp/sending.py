"""Outbound messages: a send returns once the server has confirmed it (a XEP-0198 ack, else the answer
to a XEP-0199 ping sent after it). The core's idempotency key is the message's ``id`` and its XEP-0359
origin-id, so own echoes (carbons, the room's reflection, the archive) name it."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from aggregator.api import (
    ConfigurationError,
    ConversationKey,
    ConversationKind,
    MessageKind,
    NetworkError,
    OutgoingFile,
    OutgoingMessage,
    SendReceipt,
    UnsupportedError,
)
from protocols import http_files
from protocols.xmpp import files, mapping
from protocols.xmpp.addresses import Jid, normalize_handle, parse_jid
from protocols.xmpp.lib import Client, is_iq_error
from protocols.xmpp.muc import Rooms
from protocols.xmpp.session import Session

SEND_TIMEOUT = 30.0


def peer_of(conversation: ConversationKey) -> Jid:
    """The peer of a one-to-one conversation."""
    if conversation.kind is not ConversationKind.DIRECT:
        raise UnsupportedError("XMPP group chats are not supported yet")
    try:
        return parse_jid(normalize_handle(conversation.handle))
    except ConfigurationError as exc:
        raise ConfigurationError(f"cannot send to {conversation.handle!r}: {exc}") from None


class Sender:
    def __init__(self, session: Session, rooms: Rooms) -> None:
        self._s = session
        self._rooms = rooms
        self._acks: dict[str, asyncio.Future[None]] = {}
        self.uploads = files.Uploads()

    async def send(self, conversation: ConversationKey, message: OutgoingMessage) -> SendReceipt:
        client = self._s.ready_client()
        key = message.idempotency_key
        body = f"/me {message.body}" if message.kind is MessageKind.ACTION else message.body
        extra: ET.Element | None = None
        file_url: str | None = None
        if message.file is not None:
            if message.body.strip():  # the caption goes first, as its own message (as Conversations does)
                await self.send(conversation, OutgoingMessage(body=message.body, idempotency_key=f"{key}.caption"))
            file_url = await self._upload(client, message.file)
            body, extra = file_url, files.oob(file_url)
        if conversation.kind is ConversationKind.ROOM:
            room = self._rooms.joined(conversation)
            self._rooms.own_keys.add(key)
            to, mtype, direct = room.jid, "groupchat", False
        else:
            to, mtype, direct = str(peer_of(conversation)), "chat", True
        if client.stream_management:
            ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._acks[key] = ack
            try:
                self._send(client, to, mtype, body, key, direct, extra)
                client.request_ack()  # queued after the message, so it covers it
                async with asyncio.timeout(SEND_TIMEOUT):
                    await ack
            except TimeoutError:
                raise NetworkError(f"{self._s.where} did not confirm the message within {SEND_TIMEOUT:g} s") from None
            finally:
                self._acks.pop(key, None)
        else:  # no stream management: the answer to a later ping proves the server processed the message
            self._send(client, to, mtype, body, key, direct, extra)
            try:
                await client.ping(self._s.own.domain, timeout=SEND_TIMEOUT)
            except Exception as exc:
                if not is_iq_error(exc):  # an error answer is an answer
                    raise NetworkError(f"{self._s.where} did not confirm the message: {exc!r}") from None
        return SendReceipt(remote_id=None, timestamp=datetime.now(UTC), file_url=file_url)

    async def _upload(self, client: Client, file: OutgoingFile) -> str:
        slot = await self.uploads.slot(client, self._s.own.domain, file)
        headers = {"Content-Length": str(file.size), "Content-Type": file.mime_type, **dict(slot.headers)}
        await http_files.upload(slot.put_url, http_files.read_file(file.path), headers, self._s.file_tls())
        return slot.get_url

    @staticmethod
    def _send(client: Client, to: str, mtype: str, body: str, key: str, direct: bool, extra: ET.Element | None) -> None:
        client.send_message(
            to,
            mtype,
            body=body,
            key=key,
            origin_id=key,
            request_receipt=direct,  # XEP-0184, one-to-one only
            chat_state="active" if direct else None,
            extra=extra,
        )

    def on_stanza_acked(self, stanza: ET.Element) -> None:
        key = mapping.message_id(stanza)
        future = self._acks.get(key) if key else None
        if future is not None and not future.done():
            future.set_result(None)

    def fail_acks(self, error: Exception) -> None:
        for future in self._acks.values():
            if not future.done():
                future.set_exception(error)
