"""The search service on a real archive file: order, every filter, phrases, prefixes, exclusion,
diacritics, untrusted markup, pagination, context, bulk import."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, MessageState, Sphere
from aggregator.archive import Archive, Direction, NewMessage
from aggregator.search import SearchError, SearchService, Segment
from aggregator.search.snippet import CLOSE, OPEN
from aggregator.search.stats import archive_stats

WORK, HOME = "xmpp:alice@corp.example", "irc:alice"
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    archive: Archive
    search: SearchService
    bob: int
    carol: int
    team: int

    def add(self, conv: int, body: str, at: datetime, *, out: bool = False, sender: str | None = None) -> int:
        account = HOME if conv == self.team else WORK
        own = "alice" if account == HOME else "alice@corp.example"
        peer = {self.bob: "bob@corp.example", self.carol: "carol@corp.example"}.get(conv, "dave")
        stored = self.archive.insert_message(
            conversation_id=conv,
            account_id=account,
            direction=Direction.OUT if out else Direction.IN,
            sender=own if out else (sender or peer),
            body=body,
            sent_at=at,
            state=MessageState.SENT if out else MessageState.RECEIVED,
            sender_name="Jürgen Weiß" if sender == "juergen" else None,
        )
        assert stored is not None
        return stored.id

    def bodies(self, query: str, **kw: object) -> list[str]:
        return [h.message.body for h in self.search.search(query, now=T0 + timedelta(days=1), tz=UTC, **kw)]  # type: ignore[arg-type]


@pytest.fixture
def world(open_archive: Callable[[], Archive]) -> Iterator[World]:
    """On both backends (``archive_backend``)."""
    yield from _world(open_archive())


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    """SQLite only: what FTS5 does that PostgreSQL's 'simple' configuration does not (see v006)."""
    yield from _world(Archive.open(path=tmp_path / "archive.sqlite3"))


def _world(archive: Archive) -> Iterator[World]:
    archive.upsert_account(WORK, "xmpp", "alice@corp.example", "Work", Sphere.WORK)
    archive.upsert_account(HOME, "irc", "alice", "Libera", Sphere.PERSONAL)
    bob = archive.conversation_id(ConversationKey.direct(WORK, "bob@corp.example"))
    carol = archive.conversation_id(ConversationKey.direct(WORK, "carol@corp.example"))
    team = archive.conversation_id(ConversationKey.room(HOME, "#team"))
    assert bob and carol and team
    w = World(archive, SearchService(archive), bob, carol, team)
    w.add(bob, "see you tomorrow at the meeting", T0)
    w.add(bob, "tomorrow I will see you", T0 + timedelta(minutes=1))
    w.add(carol, "the meetup is cancelled", T0 + timedelta(minutes=2))
    w.add(team, "Café at noon? crème brûlée", T0 + timedelta(minutes=3), sender="juergen")
    w.add(team, "<b>bold</b> & <script>alert(1)</script> meeting", T0 + timedelta(minutes=4))
    w.add(bob, "ok, meeting notes sent", T0 + timedelta(minutes=5), out=True)
    w.add(carol, "lunch meeting tomorrow", T0 + timedelta(days=-30))  # stored late: backfill
    yield w
    archive.close()


def test_newest_first_even_after_backfill(world: World) -> None:
    world.add(world.bob, "an old meeting from last year", T0 - timedelta(days=365))
    assert world.bodies("meeting") == [
        "ok, meeting notes sent",
        "<b>bold</b> & <script>alert(1)</script> meeting",
        "see you tomorrow at the meeting",
        "lunch meeting tomorrow",
        "an old meeting from last year",
    ]


def test_words_all_match_in_any_order_and_a_phrase_in_order(world: World) -> None:
    assert world.bodies("you see") == ["tomorrow I will see you", "see you tomorrow at the meeting"]
    assert world.bodies('"see you"') == ["tomorrow I will see you", "see you tomorrow at the meeting"]
    assert world.bodies('"see you tomorrow"') == ["see you tomorrow at the meeting"]
    assert world.bodies("see nothing") == []


def test_prefix_and_exclusion(world: World) -> None:
    assert world.bodies("meet*") == [
        "ok, meeting notes sent",
        "<b>bold</b> & <script>alert(1)</script> meeting",
        "the meetup is cancelled",
        "see you tomorrow at the meeting",
        "lunch meeting tomorrow",
    ]
    assert world.bodies("meet* -tomorrow -cancelled") == [
        "ok, meeting notes sent",
        "<b>bold</b> & <script>alert(1)</script> meeting",
    ]
    assert world.bodies('tomorrow -"see you tomorrow"') == ["tomorrow I will see you", "lunch meeting tomorrow"]


def test_case_and_diacritics_do_not_matter(sqlite_world: World) -> None:
    world = sqlite_world
    assert world.bodies("cafe creme brulee") == ["Café at noon? crème brûlée"]
    assert world.bodies("CAFÉ") == ["Café at noon? crème brûlée"]
    assert world.bodies("from:jurgen") == ["Café at noon? crème brûlée"]  # display name, folded
    assert world.bodies("from:WEISS") == ["Café at noon? crème brûlée"]  # ß casefolds to ss
    assert world.bodies("from:weiß") == ["Café at noon? crème brûlée"]


def test_markup_in_bodies_stays_literal_and_the_snippet_marks_only_matches(sqlite_world: World) -> None:
    world = sqlite_world
    (hit,) = world.search.search("script alert")
    assert hit.message.body == "<b>bold</b> & <script>alert(1)</script> meeting"
    assert "".join(s.text for s in hit.snippet) == hit.message.body
    assert [s.text for s in hit.snippet if s.is_match] == ["script", "alert", "script"]
    assert world.bodies("b") == ["<b>bold</b> & <script>alert(1)</script> meeting"]


def test_postgresql_ignores_case_but_not_accents_and_skips_markup_tags(archive_backend: str, world: World) -> None:
    """The documented differences of PostgreSQL ('simple' configuration, ``lower()`` for names)."""
    assert world.bodies("CAFÉ crème") == ["Café at noon? crème brûlée"]
    assert world.bodies("from:JÜRGEN") == ["Café at noon? crème brûlée"]
    (hit,) = world.search.search("bold meeting")
    assert hit.message.body == "<b>bold</b> & <script>alert(1)</script> meeting"
    assert "".join(s.text for s in hit.snippet) == hit.message.body
    assert [s.text for s in hit.snippet if s.is_match] == ["bold", "meeting"]
    if archive_backend == "postgresql":
        assert world.bodies("cafe") == []  # accents count
        assert world.bodies("from:jurgen") == []
        assert world.bodies("script") == []  # PostgreSQL's parser skips HTML-like tags
    else:
        assert world.bodies("cafe") == ["Café at noon? crème brûlée"]


def test_a_body_containing_the_marker_characters_cannot_fake_a_match(world: World) -> None:
    world.add(world.bob, f"{OPEN}fake{CLOSE} hello", T0 + timedelta(hours=1))
    (hit,) = world.search.search("hello")
    assert hit.snippet == (Segment(f"{OPEN}fake{CLOSE} ", False), Segment("hello", True))


def test_filters(world: World) -> None:
    assert world.bodies("from:bob") == ["tomorrow I will see you", "see you tomorrow at the meeting"]
    assert world.bodies("with:bob") == [
        "ok, meeting notes sent",
        "tomorrow I will see you",
        "see you tomorrow at the meeting",
    ]
    assert world.bodies("with:carol@corp.example meet*") == ["the meetup is cancelled", "lunch meeting tomorrow"]
    assert world.bodies("in:#team") == [
        "<b>bold</b> & <script>alert(1)</script> meeting",
        "Café at noon? crème brûlée",
    ]
    assert world.bodies("in:team") == world.bodies("in:#team")
    assert world.bodies("in:nowhere meeting") == []
    assert world.bodies("account:libera") == world.bodies("in:#team")
    assert world.bodies(f"account:{WORK} meeting") == world.bodies("sphere:work meeting")
    assert world.bodies("sphere:personal") == world.bodies("in:#team")
    assert world.bodies("is:sent") == ["ok, meeting notes sent"]
    assert world.bodies("is:received meeting") == [
        "<b>bold</b> & <script>alert(1)</script> meeting",
        "see you tomorrow at the meeting",
        "lunch meeting tomorrow",
    ]
    assert world.bodies("meeting before:2024-06-01") == ["lunch meeting tomorrow"]
    assert world.bodies("meeting after:2024-06-01 before:2024-06-02") == [
        "ok, meeting notes sent",
        "<b>bold</b> & <script>alert(1)</script> meeting",
        "see you tomorrow at the meeting",
    ]
    assert world.bodies("after:yesterday") == world.bodies("after:2024-06-01")
    assert world.bodies("from:bob from:carol tomorrow") == [
        "tomorrow I will see you",
        "see you tomorrow at the meeting",
        "lunch meeting tomorrow",
    ]
    assert world.bodies("-meeting -tomorrow with:carol") == ["the meetup is cancelled"]


def test_pagination_by_before_id(world: World) -> None:
    first = world.search.search("meet*", limit=2)
    rest = world.search.search("meet*", limit=10, before_id=first[-1].message.id)
    everything = world.search.search("meet*")
    assert [h.message.id for h in first + rest] == [h.message.id for h in everything]
    page = world.search.search("in:#team", limit=1)
    assert [h.message.body for h in world.search.search("in:#team", before_id=page[0].message.id)] == [
        "Café at noon? crème brûlée"
    ]


def test_context_around_a_hit(world: World) -> None:
    (hit,) = world.search.search('"I will"')
    context = world.search.context(hit.message.id, 1)
    assert context is not None
    assert [m.body for m in context.before] == ["see you tomorrow at the meeting"]
    assert context.message.id == hit.message.id
    assert [m.body for m in context.after] == ["ok, meeting notes sent"]
    assert world.search.context(12345) is None


@pytest.mark.parametrize("query", ["", "   ", "-x", "sphere:moon", "before:2024-13-45", '"', "* ^ ( )"])
def test_malformed_queries_raise_search_error(world: World, query: str) -> None:
    with pytest.raises(SearchError):
        world.search.search(query)


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "NEAR(a b)",
        "a AND OR NOT b",
        "col:umn",
        "x^y",
        "meet* *",
        "a\x00b",
        "o'brien*",
        "back\\slash*",
        "x:* & y | !z",
        "'quoted' \"it's\"*",
    ],
)
def test_fts_syntax_in_a_query_is_never_an_sql_error(world: World, query: str) -> None:
    world.search.search(query)


def test_edits_and_deletes_keep_the_index_in_step(world: World) -> None:
    target = world.search.search("cancelled")[0].message.id
    archive = world.archive
    archive._execute_write("UPDATE messages SET body = 'the meetup is on' WHERE id = ?", (target,))
    assert world.bodies("cancelled") == []
    assert world.bodies('"is on"') == ["the meetup is on"]
    archive._execute_write("DELETE FROM messages WHERE id = ?", (target,))
    if archive.dialect == "sqlite":
        archive._execute_write("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    assert world.bodies('"is on"') == []


def test_bulk_import_is_indexed_deduplicated_and_ordered(world: World) -> None:
    old = [
        NewMessage(
            conversation_id=world.bob,
            account_id=WORK,
            direction=Direction.IN,
            sender="bob@corp.example",
            body=f"imported zebra {i}",
            sent_at=T0 - timedelta(days=100, seconds=i),
            state=MessageState.RECEIVED,
            server_id=f"imp-{i % 4}",  # 4 distinct server ids: the rest are duplicates
        )
        for i in range(10)
    ]
    result = world.archive.import_messages(old, batch_size=3)
    assert (result.inserted, result.duplicates) == (4, 6)
    assert world.bodies("zebra") == [f"imported zebra {i}" for i in range(4)]
    # Same millisecond, many messages, older than everything: distinct, time-ordered ids.
    same_ms = [
        NewMessage(
            world.carol,
            WORK,
            Direction.IN,
            "carol@corp.example",
            f"giraffe {i}",
            T0 - timedelta(days=200),
            MessageState.RECEIVED,
        )
        for i in range(5)
    ]
    assert world.archive.import_messages(same_ms).inserted == 5
    assert sorted(world.bodies("giraffe")) == [f"giraffe {i}" for i in range(5)]
    assert world.archive.import_messages(old).inserted == 0  # idempotent
    if world.archive.dialect == "sqlite":
        with world.archive._engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
            triggers = conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").scalar()
        assert triggers == 3
    world.add(world.bob, "live zebra after the import", T0 + timedelta(hours=2))
    assert world.bodies("zebra")[0] == "live zebra after the import"


def test_stats(world: World) -> None:
    stats = archive_stats(world.archive, tz=UTC)
    assert stats.total == 7
    assert dict(stats.per_account) == {WORK: 5, HOME: 2}
    assert dict(stats.per_sphere) == {"work": 5, "personal": 2}
    assert dict(stats.per_year) == {2024: 7}
