"""History catch-up from message archives (XEP-0313 MAM, paged with XEP-0059 RSM).

``connect()`` sends presence, then pages (forward, ``after`` = the previous page's ``<last/>``) through
the account's archive from its catch-up position until the server answers ``complete``; each result
goes to the inbound side as an archived message, in archive order. A page with fewer results than asked
is NOT the end: servers cap pages (Prosody at 50). With no position, the newest ``FIRST_SYNC_LIMIT``
messages of the last ``FIRST_SYNC_WINDOW`` are fetched. Rooms with a stored position are caught up
from their own archive (muc_mam) the same way.

Positions (``positions.py``): every message of a catch-up carries the position it completes, and a
page that ends on a result that is no message ends with ``PositionReached``. An archive is "caught up"
on this connection once its catch-up reached ``complete``; only then do its live messages carry
positions (``live_position``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aggregator.api import PositionReached, ResumePosition
from protocols.xmpp import mapping
from protocols.xmpp.lib import Client, iq_error_condition
from protocols.xmpp.positions import Position, decode_all, read_legacy, remove_legacy
from protocols.xmpp.session import Session

log = logging.getLogger(__name__)

#: Results asked per page (the server may send fewer: only ``complete`` ends a catch-up); the first sync
#: ever (no position) fetches at most ``FIRST_SYNC_LIMIT`` messages of the last ``FIRST_SYNC_WINDOW``.
#: ``connect()`` waits ``BACKFILL_BUDGET`` seconds for the catch-up, which then goes on in the
#: background. An archive found empty at the first sync is caught up next time from its query time less
#: ``EMPTY_ARCHIVE_MARGIN`` (the server's clock may differ from ours).
MAM_PAGE = 100
MAM_TIMEOUT = 20.0
FIRST_SYNC_WINDOW = timedelta(days=7)
FIRST_SYNC_LIMIT = 500
EMPTY_ARCHIVE_MARGIN = timedelta(days=1)
BACKFILL_BUDGET = 10.0

#: Emits one archived message of an archive with the position it completes (None: not tracked);
#: False when the result is no message of ours.
EmitArchived = Callable[[str, mapping.MamResult, ResumePosition | None], bool]


@dataclass
class _Query:
    archive: str  # the bare JID that must send the results
    results: list[mapping.MamResult] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Page:
    results: list[mapping.MamResult]
    complete: bool  # the server said so (``<fin complete='true'/>``)
    last: str | None  # RSM ``<last/>``: where the next page starts


def query_element(
    query_id: str,
    *,
    with_jid: str | None = None,
    start: datetime | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: int = MAM_PAGE,
) -> ET.Element:
    """The ``<query/>`` of one MAM page: ``before=""`` asks for the last page, ``after`` pages forward."""
    query = ET.Element(f"{{{mapping.NS_MAM}}}query", queryid=query_id)
    form = ET.SubElement(query, f"{{{mapping.NS_DATA}}}x", type="submit")
    fields = {"FORM_TYPE": mapping.NS_MAM}
    if with_jid is not None:
        fields["with"] = with_jid
    if start is not None:
        fields["start"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for var, value in fields.items():
        element = ET.SubElement(form, f"{{{mapping.NS_DATA}}}field", var=var)
        if var == "FORM_TYPE":
            element.set("type", "hidden")
        ET.SubElement(element, f"{{{mapping.NS_DATA}}}value").text = value
    rsm = ET.SubElement(query, f"{{{mapping.NS_RSM}}}set")
    ET.SubElement(rsm, f"{{{mapping.NS_RSM}}}max").text = str(limit)
    if after is not None:
        ET.SubElement(rsm, f"{{{mapping.NS_RSM}}}after").text = after
    if before is not None:
        ET.SubElement(rsm, f"{{{mapping.NS_RSM}}}before").text = before or None
    return query


def page_end(answer: ET.Element, results: list[mapping.MamResult]) -> tuple[bool, str | None]:
    """(complete, where the next page starts) of a MAM answer's ``<fin/>``."""
    fin = answer.find(f"{{{mapping.NS_MAM}}}fin")
    fallback = results[-1].archived.result_id if results else None
    if fin is None:  # no paging information at all: nothing more to ask for
        return True, fallback
    last = fin.findtext(f"{{{mapping.NS_RSM}}}set/{{{mapping.NS_RSM}}}last")
    return fin.get("complete") in ("true", "1"), last or fallback


class Archives:
    """The catch-up of the own archive and of rooms' archives, and the position of each."""

    def __init__(self, session: Session, emit_archived: EmitArchived) -> None:
        self._s = session
        self._emit_archived = emit_archived
        # Archive -> where its catch-up resumes: from the core (``resume_from``), then what was emitted.
        self.positions: dict[str, Position] = read_legacy(session.settings.data_dir)
        self.caught_up: set[str] = set()  # archives caught up to "complete" on this connection
        self._queries: dict[str, _Query] = {}

    def resume_from(self, positions: Mapping[str, str]) -> None:
        """The positions the core stored with their messages; archives it has none for fall back to what
        an earlier version left in the data dir (removed once the core holds one of our own archive)."""
        settings = self._s.settings
        resumed = decode_all(positions)
        legacy = read_legacy(settings.data_dir)
        self.positions = {**legacy, **resumed}
        if self._s.own.bare in resumed and legacy:
            remove_legacy(settings.data_dir)

    def advance(self, archive: str, position: Position) -> ResumePosition:
        self.positions[archive] = position
        return position.resume(archive)

    def live_position(self, archive: str, archive_id: str | None, stamp: datetime | None) -> ResumePosition | None:
        """The position a live message with ``archive_id`` completes, once ``archive`` is caught up."""
        if archive_id is None or archive not in self.caught_up:
            return None
        return self.advance(archive, Position(archive_id, stamp or datetime.now(UTC)))

    def on_result(self, stanza: ET.Element) -> None:
        """Collects a result of one of our queries; results of unknown queries or from others are dropped."""
        result = mapping.mam_result(stanza)
        if result is None:
            return
        query = self._queries.get(result.query_id)
        source = mapping.sender_of(stanza).bare if stanza.get("from") else self._s.own.bare
        if query is None or source != query.archive:
            self._s.warn(f"ignored an archive result from {source} that answers no query of ours")
            return
        query.results.append(result)

    async def _page(
        self,
        client: Client,
        archive: str,
        *,
        with_jid: str | None = None,
        start: datetime | None = None,
        after: str | None = None,
        before: str | None = None,
        limit: int = MAM_PAGE,
    ) -> _Page:
        """One page of ``archive`` (our own bare JID or a room), results oldest first. Only the server's
        ``complete`` ends a query: a page may hold fewer results than asked and still not be the last."""
        query_id = secrets.token_hex(8)
        query = query_element(query_id, with_jid=with_jid, start=start, after=after, before=before, limit=limit)
        self._queries[query_id] = _Query(archive)
        try:
            to = None if archive == self._s.own.bare else archive
            answer = await client.send_iq(query, to=to, timeout=MAM_TIMEOUT)
        finally:
            collected = self._queries.pop(query_id)
        complete, last = page_end(answer, collected.results)
        return _Page(collected.results, complete, last)

    async def _forward(
        self,
        client: Client,
        archive: str,
        *,
        after: str | None,
        start: datetime | None,
        limit: int | None = None,
        with_jid: str | None = None,
        track: bool = False,
    ) -> int:
        """Pages forward from ``after`` / ``start`` until ``complete`` (or ``limit`` messages), emitting
        each page as it comes; returns the count. ``track``: the catch-up, whose messages carry their
        positions (and a page ending on a result that is no message ends with ``PositionReached``)."""
        count = 0
        while limit is None or count < limit:
            page_size = MAM_PAGE if limit is None else min(MAM_PAGE, limit - count)
            page = await self._page(client, archive, with_jid=with_jid, start=start, after=after, limit=page_size)
            self._emit_results(archive, page.results, track=track)
            count += len(page.results)
            if page.complete or not page.results:
                break
            if page.last is None or page.last == after:
                self._s.warn(f"the archive of {archive} did not say where its next page starts; stopped paging")
                break
            after = page.last
        return count

    async def _latest(
        self, client: Client, archive: str, *, start: datetime | None, limit: int, with_jid: str | None = None
    ) -> list[mapping.MamResult]:
        """The newest ``limit`` messages since ``start``, oldest first (pages backwards with RSM ``before``)."""
        pages: list[list[mapping.MamResult]] = []
        before = ""
        total = 0
        while total < limit:
            page = await self._page(
                client, archive, with_jid=with_jid, start=start, before=before, limit=min(MAM_PAGE, limit - total)
            )
            pages.insert(0, page.results)
            total += len(page.results)
            if page.complete or not page.results:
                break
            first = page.results[0].archived.result_id
            if first == before:
                break
            before = first
        results = [result for page in pages for result in page]
        return results[-limit:] if len(results) > limit else results

    def _emit_results(self, archive: str, results: list[mapping.MamResult], *, track: bool) -> None:
        """Emits archived ``results`` in order; with ``track`` each message carries its position, and the
        position of a last result that is no message comes alone."""
        for result in results:
            position = (
                self.advance(archive, Position(result.archived.result_id, result.archived.stamp)) if track else None
            )
            emitted = self._emit_archived(archive, result, position)
            if position is not None and not emitted and result is results[-1]:
                self._s.emit(PositionReached(account_id=self._s.account_id, position=position))

    async def sync(self, client: Client, archive: str) -> int:
        """Emits what ``archive`` holds after its position (or the first-sync window), to ``complete``;
        then live messages of that archive carry their positions too."""
        self.caught_up.discard(archive)
        position = self.positions.get(archive)
        if position is not None:
            if position.archive_id is not None:
                try:
                    count = await self._forward(client, archive, after=position.archive_id, start=None, track=True)
                except Exception as exc:
                    if iq_error_condition(exc) != "item-not-found":
                        raise
                    # The stored id is gone (archive expired or reset): go by time instead (or, without a
                    # time, from the first-sync window).
                    self._s.warn(f"the archive of {archive} no longer has the last message seen; catching up by time")
                    if position.stamp is None:
                        self.positions.pop(archive, None)
                        return await self.sync(client, archive)
                    count = await self._forward(client, archive, after=None, start=position.stamp, track=True)
            else:
                count = await self._forward(client, archive, after=None, start=position.stamp, track=True)
        else:
            queried = datetime.now(UTC)
            results = await self._latest(client, archive, start=queried - FIRST_SYNC_WINDOW, limit=FIRST_SYNC_LIMIT)
            self._emit_results(archive, results, track=True)
            if not results:  # nothing yet: the next catch-up starts at this query's time (less a margin)
                empty = self.advance(archive, Position(None, queried - EMPTY_ARCHIVE_MARGIN))
                self._s.emit(PositionReached(account_id=self._s.account_id, position=empty))
            count = len(results)
        self.caught_up.add(archive)
        return count

    async def catch_up(self, client: Client) -> None:
        """The own archive since the last message stored, through the same events as live messages."""
        started = asyncio.get_running_loop().time()
        try:
            count = await self.sync(client, self._s.own.bare)
        except Exception as exc:
            # Not caught up: live messages carry no position until the next connect catches up again.
            self._s.warn(f"could not fetch the message archive: {exc!r}")
            return
        elapsed = asyncio.get_running_loop().time() - started
        log.info("%s: %d archived message(s) fetched in %.2f s", self._s.account_id, count, elapsed)

    async def fetch(
        self, client: Client, archive: str, with_jid: str | None, after: datetime | None, limit: int
    ) -> int:
        """Emits up to ``limit`` archived messages (oldest first): those after ``after``, or the newest
        ones without it. The catch-up position is not touched."""
        if after is not None:
            return await self._forward(client, archive, after=None, start=after, limit=limit, with_jid=with_jid)
        results = await self._latest(client, archive, start=None, limit=limit, with_jid=with_jid)
        self._emit_results(archive, results, track=False)
        return len(results)
