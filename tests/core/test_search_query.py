"""The search query language: table-driven cases, then properties over arbitrary text."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.api import Sphere
from aggregator.archive import Direction
from aggregator.search import SearchError, SearchQuery, Term, parse
from aggregator.search.match import match_expression, term_expression
from aggregator.search.plan import Scope, build

NOW = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


def p(text: str) -> SearchQuery:
    return parse(text, now=NOW, tz=CET)


def w(*tokens: str, prefix: bool = False) -> tuple[tuple[str, ...], bool]:
    return tokens, prefix


def shape(terms: tuple[Term, ...]) -> list[tuple[tuple[str, ...], bool]]:
    return [(t.tokens, t.prefix) for t in terms]


@pytest.mark.parametrize(
    ("text", "terms", "excluded"),
    [
        ("hello", [w("hello")], []),
        ("hello world", [w("hello"), w("world")], []),
        ("  hello \t world  ", [w("hello"), w("world")], []),
        ("hello hello", [w("hello")], []),
        ('"see you tomorrow"', [w("see", "you", "tomorrow")], []),
        ('"see you tom"*', [w("see", "you", "tom", prefix=True)], []),
        ("meet*", [w("meet", prefix=True)], []),
        ("meet**", [w("meet", prefix=True)], []),
        ("-lunch hello", [w("hello")], [w("lunch")]),
        ('hello -"lunch at noon"', [w("hello")], [w("lunch", "at", "noon")]),
        ('"unbalanced quote', [w("unbalanced", "quote")], []),
        ('say "hi', [w("say"), w("hi")], []),
        ("e-mail", [w("e", "mail")], []),
        ('ab"cd', [w("ab", "cd")], []),
        ("http://x.org/a", [w("http", "x", "org", "a")], []),
        ("foo:bar", [w("foo", "bar")], []),
        ("AND OR NOT NEAR", [w("AND"), w("OR"), w("NOT"), w("NEAR")], []),
        ("a ^ b", [w("a"), w("b")], []),
        ("(x) NEAR(y, 2)", [w("x"), w("NEAR", "y"), w("2")], []),
        ("* hello", [w("hello")], []),
        ("café", [w("café")], []),
        ("日本語", [w("日本語")], []),
        ("x -", [w("x")], []),
    ],
)
def test_words_phrases_prefixes_and_exclusions(text: str, terms: list[object], excluded: list[object]) -> None:
    q = p(text)
    assert shape(q.terms) == terms
    assert shape(q.excluded) == excluded


def test_filters() -> None:
    q = p('from:"Bob Smith" with:carol in:#team account:work sphere:Work is:sent after:2024-03-01 hello')
    assert q.senders == ("Bob Smith",)
    assert q.people == ("carol",)
    assert q.conversations == ("#team",)
    assert q.accounts == ("work",)
    assert q.spheres == (Sphere.WORK,)
    assert q.directions == (Direction.OUT,)
    assert q.after == datetime(2024, 3, 1, tzinfo=CET)
    assert shape(q.terms) == [w("hello")]


def test_keys_are_case_insensitive_and_repeat_as_alternatives() -> None:
    q = p("FROM:bob From:carol is:sent IS:received")
    assert q.senders == ("bob", "carol")
    assert set(q.directions) == {Direction.IN, Direction.OUT}


def test_dates_are_local_days_converted_to_utc_bounds() -> None:
    q = p("after:2024-03-01 before:2024-03-02")
    assert q.after == datetime(2024, 2, 29, 23, tzinfo=UTC)
    assert q.before == datetime(2024, 3, 1, 23, tzinfo=UTC)
    today = p("after:today")
    assert today.after == datetime(2025, 3, 10, tzinfo=CET)
    assert p("after:yesterday").after == datetime(2025, 3, 9, tzinfo=CET)
    assert p("before:2024-1-5").before == datetime(2024, 1, 5, tzinfo=CET)
    # The tightest bound wins when a key is repeated.
    assert p("after:2024-01-01 after:2024-02-01").after == datetime(2024, 2, 1, tzinfo=CET)


def test_filters_alone_are_a_valid_query() -> None:
    q = p("from:bob")
    assert not q.terms and q.has_filters
    assert shape(p("from:bob -spam").excluded) == [w("spam")]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", "nothing to search for"),
        ("   ", "nothing to search for"),
        ('* ^ ( ) : ""', "nothing to search for"),
        ("-spam", "besides the excluded"),
        ("before:2024-13-45", "before:2024-13-45: no such date"),
        ("after:2024-02-30", "no such date"),
        ("after:last-week", "after:last-week: a date is YYYY-MM-DD"),
        ("sphere:moon", "sphere:moon: the sphere is 'work' or 'personal'"),
        ("is:unread", "is:unread: use is:sent or is:received"),
        ("from: hello", "from: needs a value"),
        ('from:"" hello', "from: needs a value"),
        ("-from:bob hello", "cannot be negated"),
        ("after:2024-03-02 before:2024-03-01", "after:"),
    ],
)
def test_malformed_queries_name_the_problem(text: str, names: str) -> None:
    with pytest.raises(SearchError, match=None) as info:
        p(text)
    assert names in str(info.value)


def test_match_expressions_quote_every_term() -> None:
    q = p('meet* "see you" -c -"d e" ab"cd NEAR(x')
    assert [term_expression(t) for t in q.terms] == ['"meet" *', '"see you"', '"ab""cd"', '"NEAR(x"']
    assert match_expression(q.terms[1:2], q.excluded) == '("see you") NOT ("c" OR "d e")'


# -- properties -------------------------------------------------------------------------------------

_SYNTAX = st.sampled_from([*list('"*-^:()+{}[],.\\/ \t\n'), "AND", "OR", "NOT", "NEAR", "from:", "before:", "is:"])
_TEXT = st.lists(st.one_of(st.text(max_size=8), _SYNTAX), max_size=12).map("".join)


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61 remove_diacritics 2')")
    conn.executemany("INSERT INTO t(body) VALUES (?)", [("hello world",), ("café NEAR the AND x",)])
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT)")
    return conn


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_parsing_arbitrary_text_raises_nothing_but_search_error(text: str) -> None:
    with contextlib.suppress(SearchError):
        parse(text, now=NOW, tz=CET)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_any_parsed_query_builds_a_statement_fts5_accepts(fts: sqlite3.Connection, text: str) -> None:
    try:
        q = parse(text, now=NOW, tz=CET)
    except SearchError:
        return
    statement = build(q, Scope(), limit=10, before_id=12345)
    assert statement.sql.count("?") == len(statement.params)
    if q.terms:
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (match_expression(q.terms, q.excluded),)).fetchall()
    if q.excluded:
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (match_expression(q.excluded),)).fetchall()


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=20))
def test_a_word_always_finds_a_body_made_of_it(fts: sqlite3.Connection, word: str) -> None:
    """The parser's idea of a token agrees with the index's: no term is silently unmatchable."""
    try:
        q = parse(f'"{word.replace(chr(34), " ")}"', now=NOW, tz=CET)
    except SearchError:
        return
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t(body) VALUES (?)", (word,))
    assert conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (match_expression(q.terms),)).fetchone() == (1,)
