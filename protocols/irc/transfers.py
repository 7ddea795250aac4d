"""Files on IRC: DCC SEND offers in and out (``dcc``), and links to files posted in channels or queries.

IRC has no server storage, so a file only moves while both clients are online, straight between them.
An incoming offer becomes a message naming the file with a ``FileOffer`` that is fetched only when the
user asks (connecting to an address a stranger sent is never automatic). A link to a file (a URL whose
path ends in a known file extension) is shown as a file the same way. Sending a file to a channel is
refused with a sentence: only a person can be offered a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from aggregator.api import (
    AccountId,
    AdapterEvent,
    ConversationKey,
    ConversationKind,
    FileOffer,
    MessageReceived,
    MessageState,
    MessageStateChanged,
    NetworkError,
    OutgoingFile,
    ProtocolError,
    UnsupportedError,
)
from protocols import http_files
from protocols.irc import dcc
from protocols.irc import events as ev

log = logging.getLogger(__name__)

#: Extensions that make a link "a file" rather than a page.
FILE_EXTENSIONS = frozenset(
    {
        *("png", "jpg", "jpeg", "gif", "webp", "bmp", "svg", "pdf", "txt", "log", "csv", "json", "xml"),
        *("zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "tar", "iso", "deb", "rpm", "apk", "dmg", "exe", "msi"),
        *("mp3", "ogg", "opus", "flac", "wav", "m4a", "mp4", "mkv", "webm", "mov", "avi"),
        *("doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "epub"),
    }
)
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def file_links(text: str) -> tuple[FileOffer, ...]:
    """Links in ``text`` that point to a file (by the path's extension), fetched only on request."""
    offers: list[FileOffer] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)]}")
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension in FILE_EXTENSIONS:
            offers.append(FileOffer(url=url, name=name, fetch_on_request=True))
    return tuple(offers)


class Transfers:
    """The DCC side of one IRC account."""

    def __init__(
        self,
        account_id: AccountId,
        emit: Callable[[AdapterEvent], None],
        send_ctcp: Callable[[str, str], None],
        local_address: Callable[[], str | None],
        fold: Callable[[str], str],
    ) -> None:
        self._account_id = account_id
        self._emit = emit
        self._send_ctcp = send_ctcp
        self._local_address = local_address
        self._fold = fold
        self._sending: dict[str, dcc.Sending] = {}  # token of our reverse offers -> the file waiting for an answer
        self._tasks: set[asyncio.Task[None]] = set()

    # -- incoming ------------------------------------------------------------------------------------------

    def on_request(self, event: ev.DccRequest, now: datetime | None = None) -> None:
        """A DCC request from ``event.source``: an offer to us, or the answer to one of our reverse offers."""
        try:
            offer = dcc.parse_offer(event.text)
        except ProtocolError as exc:
            log.info("%s: ignored a DCC request from %s: %s", self._account_id, event.source, exc)
            return
        waiting = self._sending.pop(offer.token, None) if offer.token and not offer.reverse else None
        if waiting is not None:  # the peer answered our reverse offer with where to connect
            self._spawn(waiting.connect_to(offer), f"DCC send to {event.source}")
            return
        at = now or datetime.now(UTC)
        stamp = hashlib.sha256(f"{event.source}\0{event.text}\0{at.isoformat()}".encode()).hexdigest()[:32]
        self._emit(
            MessageReceived(
                account_id=self._account_id,
                conversation=ConversationKey.direct(self._account_id, self._fold(event.source)),
                sender=self._fold(event.source),
                sender_name=event.source,
                body=offer.name,
                server_id=f"dcc:{stamp}",
                timestamp=at,
                files=(
                    FileOffer(url=offer.url(event.source), name=offer.name, size=offer.size, fetch_on_request=True),
                ),
            )
        )

    def download(self, file: FileOffer, tls: http_files.Tls) -> AsyncIterator[bytes]:
        if urlsplit(file.url).scheme in ("http", "https"):
            return http_files.download(file.url, tls)
        offer, nick = dcc.offer_from_url(file.url)
        if not offer.reverse:
            return dcc.receive(offer)
        host = self._local_address()
        if host is None:
            raise NetworkError("not connected: cannot answer a reverse DCC offer")

        async def answer(ours: dcc.DccOffer) -> None:
            self._send_ctcp(nick, ours.ctcp())

        return dcc.receive_reverse(offer, answer, host)

    # -- outgoing ------------------------------------------------------------------------------------------

    async def send(self, conversation: ConversationKey, file: OutgoingFile, key: str, *, passive: bool) -> None:
        """Offer ``file`` to the peer; returns once the offer went out. The transfer goes on in the
        background; a failure marks the message failed (``MessageStateChanged``) with the reason."""
        if conversation.kind is not ConversationKind.DIRECT:
            raise UnsupportedError("IRC has no server storage: a file can only be offered to a person, not a channel")
        host = self._local_address()
        if host is None:
            raise NetworkError("not connected")
        nick = conversation.handle
        sending = dcc.Sending(file.path, file.name, file.size, host)
        if passive:  # behind NAT: the peer listens, we connect
            token = secrets.token_hex(4)
            self._sending[token] = sending
            self._send_ctcp(nick, dcc.DccOffer(file.name, host, 0, file.size, token).ctcp())
            return
        announced = asyncio.get_running_loop().create_future()

        async def announce(offer: dcc.DccOffer) -> None:
            self._send_ctcp(nick, offer.ctcp())
            announced.set_result(None)

        async def run() -> None:
            try:
                await sending.run(announce)
            except NetworkError as exc:
                if not announced.done():
                    announced.set_exception(exc)
                    return
                self._emit(
                    MessageStateChanged(
                        account_id=self._account_id,
                        conversation=conversation,
                        state=MessageState.FAILED,
                        idempotency_key=key,
                        reason=str(exc),
                    )
                )

        self._spawn(run(), f"DCC send to {nick}")
        await announced

    def _spawn(self, coroutine: object, what: str) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine, name=what)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        self._sending.clear()
