"""The pure parts of the XMPP feature modules (what goes on the wire, how answers are read), without a
server: archive queries and page ends (XEP-0313 with XEP-0059 paging), the MUC join element, the merge
of a contact's resources."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from aggregator.api import Presence, PresenceKind
from protocols.xmpp import mapping
from protocols.xmpp.catchup import page_end, query_element
from protocols.xmpp.mapping import Archived, MamResult
from protocols.xmpp.muc import JOIN_HISTORY, join_element, removal_reason
from protocols.xmpp.presence import best_presence

RSM = f"{{{mapping.NS_RSM}}}"
DATA = f"{{{mapping.NS_DATA}}}"


def fields(query: ET.Element) -> dict[str, str | None]:
    return {f.get("var") or "": f.findtext(f"{DATA}value") for f in query.iter(f"{DATA}field")}


def test_a_forward_page_query_names_the_archive_form_the_start_and_where_to_go_on() -> None:
    query = query_element("q1", with_jid="bob@example.org", start=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), after="A7")
    assert query.tag == f"{{{mapping.NS_MAM}}}query" and query.get("queryid") == "q1"
    assert fields(query) == {"FORM_TYPE": mapping.NS_MAM, "with": "bob@example.org", "start": "2026-01-02T03:04:05Z"}
    assert query.findtext(f"{RSM}set/{RSM}max") == "100"
    assert query.findtext(f"{RSM}set/{RSM}after") == "A7"
    assert query.find(f"{RSM}set/{RSM}before") is None


def test_an_empty_before_asks_for_the_last_page() -> None:
    before = query_element("q2", before="", limit=5).find(f"{RSM}set/{RSM}before")
    assert before is not None and not before.text  # XEP-0059: <before/> without an id = the last page
    assert query_element("q2", before="", limit=5).findtext(f"{RSM}set/{RSM}max") == "5"


def result(result_id: str) -> MamResult:
    return MamResult("q", Archived(result_id, None), ET.Element("m"))


def fin(attributes: str, last: str | None) -> ET.Element:
    inner = f"<set xmlns='{mapping.NS_RSM}'><last>{last}</last></set>" if last else ""
    return ET.fromstring(
        f"<iq xmlns='jabber:client' type='result'><fin xmlns='{mapping.NS_MAM}' {attributes}>{inner}</fin></iq>"
    )


def test_only_complete_ends_the_paging() -> None:
    results = [result("r1"), result("r2")]
    assert page_end(fin("complete='true'", "r2"), results) == (True, "r2")
    assert page_end(fin("", "r2"), results) == (False, "r2")  # fewer than asked is not the end
    assert page_end(fin("", None), results) == (False, "r2")  # no <last/>: the last result's id


def test_an_answer_without_fin_has_nothing_more() -> None:
    answer = ET.fromstring("<iq xmlns='jabber:client' type='result'/>")
    assert page_end(answer, []) == (True, None)


def test_a_join_asks_for_history_only_without_an_archive_position() -> None:
    history = f"{{{mapping.NS_MUC}}}history"
    known, unknown = join_element(position_known=True).find(history), join_element(position_known=False).find(history)
    assert known is not None and known.get("maxstanzas") == "0"  # the room's archive fills the gap
    assert unknown is not None and unknown.get("maxstanzas") == str(JOIN_HISTORY)


def test_removal_reasons_by_status_code() -> None:
    assert removal_reason(frozenset({"301", "110"})) == "banned from the room"
    assert removal_reason(frozenset({"110"})) == "removed from the room"


def test_the_highest_priority_resource_wins_then_the_most_available() -> None:
    away, here = Presence(PresenceKind.AWAY), Presence(PresenceKind.AVAILABLE)
    assert best_presence({"phone": (5, away), "pc": (0, here)}, fallback=here) == away
    assert best_presence({"phone": (0, away), "pc": (0, here)}, fallback=here) == here


def test_no_resource_left_is_offline_keeping_only_an_offline_status() -> None:
    gone = Presence(PresenceKind.OFFLINE, "bye")
    assert best_presence({}, fallback=gone) == Presence(PresenceKind.OFFLINE, "bye")
    assert best_presence({}, fallback=Presence(PresenceKind.AWAY, "lunch")) == Presence(PresenceKind.OFFLINE, "")
