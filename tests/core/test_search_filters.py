"""Filters chosen with controls (person, account, sphere, days) narrow a typed query; all must hold."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, timedelta

import pytest

from aggregator.api import ContactRef, ConversationKey, MessageState, Sphere
from aggregator.archive import Archive, Direction
from aggregator.search import SearchError, SearchService
from aggregator.search.filters import SearchFilters, filtered_query, narrow
from aggregator.search.query import parse
from tests.core.test_search import HOME, T0, WORK, World, _world

NOW = T0 + timedelta(days=1)


@pytest.fixture
def world(open_archive: Callable[[], Archive]) -> Iterator[World]:
    yield from _world(open_archive())


def bodies(world: World, text: str, filters: SearchFilters) -> list[str]:
    query = filtered_query(text, filters, now=NOW, tz=UTC)
    return [h.message.body for h in world.search.search(query)]


def test_a_person_is_their_direct_conversations_and_what_they_said_in_rooms(world: World) -> None:
    world.add(world.team, "bob says hi in the room", T0 + timedelta(minutes=6), sender="bob")
    bob = SearchFilters(contacts=(ContactRef(WORK, "bob@corp.example"), ContactRef(HOME, "bob")))
    assert bodies(world, "", bob) == [
        "bob says hi in the room",
        "ok, meeting notes sent",
        "tomorrow I will see you",
        "see you tomorrow at the meeting",
    ]
    assert bodies(world, "meeting", bob) == ["ok, meeting notes sent", "see you tomorrow at the meeting"]
    # Exact: a contact "bob" on the work account has no conversation; nothing by name or substring.
    assert bodies(world, "", SearchFilters(contacts=(ContactRef(WORK, "bob"),))) == []
    # With a typed filter too, both hold.
    assert bodies(world, "is:sent", bob) == ["ok, meeting notes sent"]
    assert bodies(world, "with:carol", bob) == []


def test_account_and_sphere_narrow_and_disagreeing_ones_match_nothing(world: World) -> None:
    assert bodies(world, "meeting", SearchFilters(account_id=HOME)) == [
        "<b>bold</b> & <script>alert(1)</script> meeting"
    ]
    assert bodies(world, "meeting", SearchFilters(sphere=Sphere.WORK)) == world.bodies("meeting sphere:work")
    assert bodies(world, "meeting sphere:personal", SearchFilters(sphere=Sphere.WORK)) == []
    assert bodies(world, f"meeting account:{WORK}", SearchFilters(account_id=HOME)) == []
    assert bodies(world, "meeting", SearchFilters(account_id="no:such")) == []


def test_days_are_inclusive_and_combine_with_typed_dates(world: World) -> None:
    june_1 = SearchFilters(first_day=date(2024, 6, 1), last_day=date(2024, 6, 1))
    assert bodies(world, "meeting", june_1) == world.bodies("meeting after:2024-06-01 before:2024-06-02")
    assert bodies(world, "meeting", SearchFilters(last_day=date(2024, 5, 31))) == ["lunch meeting tomorrow"]
    with pytest.raises(SearchError, match="after the last day"):
        filtered_query("x", SearchFilters(first_day=date(2024, 6, 2), last_day=date(2024, 6, 1)))
    with pytest.raises(SearchError, match="leave no day"):
        narrow(parse("x before:2024-06-01", now=NOW, tz=UTC), SearchFilters(first_day=date(2024, 6, 1)), tz=UTC)


def test_text_or_a_filter_is_needed_and_bad_text_still_fails(world: World) -> None:
    with pytest.raises(SearchError, match="nothing to search for"):
        filtered_query("  ", SearchFilters())
    with pytest.raises(SearchError, match="besides the excluded words"):
        filtered_query("-lunch", SearchFilters())
    # With a filter, excluded words alone are a search: that person, without those words.
    bob = SearchFilters(contacts=(ContactRef(WORK, "bob@corp.example"),))
    assert bodies(world, "-tomorrow", bob) == ["ok, meeting notes sent"]
    with pytest.raises(SearchError, match="sphere"):
        filtered_query("sphere:moon", SearchFilters(account_id=WORK))
    assert bodies(world, "", SearchFilters(sphere=Sphere.PERSONAL)) == world.bodies("in:#team")


def test_stored_state_is_untouched_by_filters(open_archive: Callable[[], Archive]) -> None:
    archive = open_archive()
    try:
        archive.upsert_account(WORK, "xmpp", "alice@corp.example", "Work", Sphere.WORK)
        conv = archive.conversation_id(ConversationKey.direct(WORK, "bob@corp.example"))
        assert conv
        archive.insert_message(
            conversation_id=conv,
            account_id=WORK,
            direction=Direction.IN,
            sender="bob@corp.example",
            body="only one",
            sent_at=T0,
            state=MessageState.RECEIVED,
        )
        query = filtered_query("", SearchFilters(contacts=(ContactRef(WORK, "bob@corp.example"),)))
        assert [h.message.body for h in SearchService(archive).search(query)] == ["only one"]
    finally:
        archive.close()
