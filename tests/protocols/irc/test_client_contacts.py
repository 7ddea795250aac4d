"""The sans-I/O ``IrcClient`` on MONITOR, ISON and INVITE lines (no sockets)."""

from __future__ import annotations

from protocols.irc import events as ev
from protocols.irc.client import TARGETS_PER_LINE
from tests.protocols.irc.test_client import others, registered


def test_monitor_is_seen_in_isupport() -> None:
    client = registered()
    assert not client.supports_monitor
    client.feed(b":irc.test 005 alice MONITOR=30 :are supported\r\n")
    assert client.supports_monitor


def test_monitor_and_ison_lines_split_to_fit() -> None:
    client = registered()
    nicks = [f"nick{i:04d}" for i in range(100)]
    monitor = client.monitor(True, nicks)
    assert len(monitor) > 1 and all(len(line.to_line()) < 512 for line in monitor)
    assert [n for line in monitor for n in line.params[1].split(",")] == nicks
    assert all(line.params[0] == "+" and len(line.params[1]) <= TARGETS_PER_LINE for line in monitor)
    assert client.monitor(False, ["bob"])[0].to_line() == "MONITOR - bob"
    ison = client.ison(nicks)
    assert [n for line in ison for n in line.params] == nicks


def test_monitor_replies_name_the_nicks() -> None:
    client = registered()
    events = others(client.feed(b":irc.test 730 alice :Bob!b@host,carol!c@host\r\n:irc.test 731 alice :dave\r\n"))
    assert events == [ev.Online(("Bob", "carol")), ev.Offline(("dave",))]
    full = others(client.feed(b":irc.test 734 alice 30 erin,frank :Monitor list is full\r\n"))
    assert full == [ev.MonitorListFull(30, ("erin", "frank"))]


def test_an_ison_reply_is_complete() -> None:
    client = registered()
    assert others(client.feed(b":irc.test 303 alice :bob carol\r\n")) == [ev.Online(("bob", "carol"), complete=True)]
    assert others(client.feed(b":irc.test 303 alice :\r\n")) == [ev.Online((), complete=True)]


def test_an_invite_to_us_and_one_to_someone_else() -> None:
    client = registered()
    assert others(client.feed(b":bob!b@host INVITE alice :#team\r\n")) == [ev.Invited("#team", "bob")]
    assert others(client.feed(b":bob!b@host INVITE carol :#team\r\n")) == []  # invite-notify
    assert isinstance(others(client.feed(b":bob!b@host INVITE alice\r\n"))[0], ev.Malformed)
