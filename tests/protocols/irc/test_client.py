"""The sans-I/O ``IrcClient`` driven by scripted server lines (no sockets)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from protocols.irc import events as ev
from protocols.irc.client import IrcClient, parse_time
from protocols.irc.message import IrcMessage

CAPS = "account-tag away-notify batch echo-message extended-join labeled-response message-tags multi-prefix"
LS = f":irc.test CAP * LS :{CAPS} sasl=PLAIN,EXTERNAL server-time tls\r\n"


def sent(events: list[ev.Event]) -> list[str]:
    return [e.message.to_line() for e in events if isinstance(e, ev.Send)]


def others(events: list[ev.Event]) -> list[ev.Event]:
    return [e for e in events if not isinstance(e, ev.Send)]


def registered(nick: str = "alice", password: str | None = "pw") -> IrcClient:
    client = IrcClient(nick, password=password)
    client.start()
    client.feed(LS.encode())
    client.feed(f":irc.test CAP {nick} ACK :{CAPS} sasl server-time\r\n".encode())
    client.feed(b"AUTHENTICATE +\r\n:irc.test 903 * :ok\r\n")
    client.feed(f":irc.test 001 {nick} :hi\r\n:irc.test 005 {nick} CASEMAPPING=rfc1459 CHANTYPES=# :ok\r\n".encode())
    client.feed(f":irc.test 376 {nick} :end\r\n".encode())
    assert client.registered
    return client


def test_registration_with_sasl_plain() -> None:
    client = IrcClient("alice", password="secret", realname="Alice A")
    assert [m.to_line() for m in client.start()] == ["CAP LS 302", "NICK alice", "USER alice 0 * :Alice A"]
    # CAP LS 302 may come in several lines
    assert client.feed(b":irc.test CAP * LS * :away-notify batch\r\n") == []
    out = client.feed(b":irc.test CAP * LS :sasl=PLAIN server-time echo-message unknown-cap\r\n")
    assert sent(out) == ["CAP REQ :away-notify batch echo-message sasl server-time"]
    out = client.feed(b":irc.test CAP alice ACK :away-notify batch echo-message sasl server-time\r\n")
    assert sent(out) == ["AUTHENTICATE PLAIN"]
    out = client.feed(b"AUTHENTICATE :+\r\n")
    assert sent(out) == ["AUTHENTICATE " + base64.b64encode(b"alice\0alice\0secret").decode()]
    out = client.feed(b":irc.test 900 alice alice!a@h alice :logged in\r\n:irc.test 903 alice :SASL ok\r\n")
    assert sent(out) == ["CAP END"]
    assert client.feed(b":irc.test 001 alice :Welcome\r\n") == []
    assert client.feed(b":irc.test 422 alice :No MOTD\r\n") == [ev.Registered("alice")]


def test_sasl_failure_and_missing_sasl() -> None:
    client = IrcClient("alice", password="bad")
    client.start()
    client.feed(LS.encode())
    client.feed(b":irc.test CAP alice ACK :sasl\r\nAUTHENTICATE +\r\n")
    assert others(client.feed(b":irc.test 904 alice :SASL authentication failed\r\n")) == [
        ev.SaslFailed("SASL authentication failed")
    ]
    client = IrcClient("alice", password="pw")
    client.start()
    assert others(client.feed(b":irc.test CAP * LS :server-time\r\n")) == [
        ev.SaslFailed("the server offers no SASL authentication")
    ]
    client = IrcClient("alice")  # no password: no SASL asked for
    client.start()
    assert sent(client.feed(b":irc.test CAP * LS :sasl server-time\r\n")) == ["CAP REQ server-time"]


def test_long_sasl_payload_is_chunked() -> None:
    client = IrcClient("alice", password="x" * 600)
    client.start()
    client.feed(LS.encode())
    client.feed(b":irc.test CAP alice ACK :sasl\r\n")
    lines = sent(client.feed(b"AUTHENTICATE +\r\n"))
    assert len(lines) == 3 and all(len(line) <= len("AUTHENTICATE ") + 400 for line in lines)


def test_nick_collision_takes_an_alternate_and_reclaims_later() -> None:
    client = IrcClient("alice")
    client.start()
    assert sent(client.feed(b":irc.test 433 * alice :Nickname is already in use\r\n")) == ["NICK alice_"]
    client.feed(b":irc.test 001 alice_ :hi\r\n:irc.test 376 alice_ :end\r\n")
    assert client.nick == "alice_"
    assert sent(client.feed(b":alice!x@h QUIT :bye\r\n")) == ["NICK alice"]
    out = client.feed(b":alice_!a@h NICK alice\r\n")
    assert others(out) == [ev.NickChanged("alice_", "alice", True)]
    assert client.nick == "alice" and client.reclaim_nick() == []


def test_ping_is_answered() -> None:
    assert sent(registered().feed(b"PING :token 1\r\n")) == ["PONG :token 1"]


def test_channel_message_with_tags_and_echo_with_label() -> None:
    client = registered()
    out = client.feed(b"@time=2024-01-02T03:04:05.678Z;msgid=m1;account=bob :Bob!b@h PRIVMSG #Team :hi all\r\n")
    [message] = others(out)
    assert isinstance(message, ev.Message)
    assert (message.source, message.target, message.text, message.msgid) == ("Bob", "#Team", "hi all", "m1")
    assert message.time == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert message.account == "bob" and not message.is_echo and not message.action
    [echo] = others(client.feed(b"@label=k1;msgid=m2 :ALICE!a@h PRIVMSG bob :\x01ACTION waves\x01\r\n"))
    assert isinstance(echo, ev.Message)
    assert echo.is_echo and echo.action and echo.text == "waves" and echo.label == "k1"
    assert others(client.feed(b":bob!b@h PRIVMSG alice :\x01VERSION\x01\r\n")) == []


def test_batches_chathistory_and_labelled() -> None:
    client = registered()
    lines = (
        b"@label=L1 :irc.test BATCH +1 :labeled-response\r\n"
        b"@batch=1 :alice!a@h JOIN #h * :Alice\r\n"
        b"@batch=1 :irc.test 353 alice = #h :@bob +carol alice\r\n"
        b"@batch=1 :irc.test 366 alice #h :End\r\n"
        b"@batch=1 :irc.test BATCH +2 chathistory :#h\r\n"
        b"@time=2024-01-01T00:00:00.000Z;msgid=old;batch=2 :bob!b@h PRIVMSG #h :earlier\r\n"
        b"@batch=1 :irc.test BATCH :-2\r\n"
        b":irc.test BATCH :-1\r\n"
        b"@msgid=new :bob!b@h PRIVMSG #h :now\r\n"
    )
    events = others(client.feed(lines))
    assert events[0] == ev.Joined("#h", "alice", True, None)
    assert events[1] == ev.Names("#h", ("bob", "carol", "alice"))
    old, end, new = events[2], events[3], events[4]
    assert end == ev.HistoryEnd("#h", 1, "L1")
    assert isinstance(old, ev.Message) and isinstance(new, ev.Message)
    assert (old.batch_type, old.label, old.msgid) == ("chathistory", "L1", "old")
    assert (new.batch_type, new.label) == (None, None)
    assert "#h" in client.channels


def test_errors_with_labels_and_acks() -> None:
    client = registered()
    assert others(client.feed(b"@label=x :irc.test 401 alice nobody :No such nick\r\n")) == [
        ev.ErrorReply("401", "nobody No such nick", "x")
    ]
    assert others(client.feed(b"@label=y :irc.test ACK\r\n")) == [ev.Acknowledged("y")]


def test_membership_presence_and_topic_events() -> None:
    client = registered()
    script = (
        b":bob!b@h JOIN #c bobacct :Bob\r\n:bob!b@h AWAY :lunch\r\n:bob!b@h AWAY\r\n"
        b":irc.test 352 alice #c b h irc.test bob G@ :0 Bob\r\n:irc.test 301 alice bob :gone\r\n"
        b":bob!b@h TOPIC #c :new topic\r\n:irc.test 332 alice #c :old topic\r\n"
        b":irc.test 333 alice #c carol!c@h 1700000000\r\n:irc.test 333 alice #d dave 1700000000\r\n"
        b":bob!b@h MODE #c +o alice\r\n:bob!b@h KICK #c alice :out\r\n:bob!b@h QUIT :bye\r\n"
    )
    assert others(client.feed(script)) == [
        ev.Joined("#c", "bob", False, "bobacct"),
        ev.Away("bob", "lunch"),
        ev.Away("bob", None),
        ev.WhoReply("#c", "bob", True),
        ev.Away("bob", "gone"),
        ev.Topic("#c", "new topic", "bob"),
        ev.Topic("#c", "old topic"),
        ev.Topic("#c", "old topic", "carol"),  # RPL_TOPICWHOTIME names who set it; #d had no RPL_TOPIC
        ev.Mode("#c", ("+o", "alice"), "bob"),
        ev.Kicked("#c", "alice", "bob", True, "out"),
        ev.Quit("bob", "bye"),
    ]


def test_privmsg_is_split_and_labelled() -> None:
    client = registered()
    lines = client.privmsg("#c", "word " * 300, label="key")
    assert len(lines) > 1
    assert [line.tags["label"] for line in lines] == ["key"] + [f"key.{i}" for i in range(1, len(lines))]
    assert "".join(line.params[1] for line in lines) == "word " * 300
    assert all(len(line.to_bytes()) - len("@label=key.0 ") <= 512 for line in lines)
    assert client.privmsg("#c", "\n\n") == []


def test_partial_lines_long_lines_bad_bytes_and_garbage() -> None:
    client = registered()
    assert client.feed(b":bob!b@h PRIVMSG alice :par") == []
    [message] = others(client.feed(b"tial\r\n"))
    assert isinstance(message, ev.Message) and message.text == "partial"
    [message] = others(client.feed(b":bob!b@h PRIVMSG alice :caf\xe9 \x00nul\r\n"))
    assert isinstance(message, ev.Message) and message.text == "café nul"
    out = others(client.feed(b":bob!b@h PRIVMSG alice :" + b"x" * 20000 + b"\r\n"))
    assert isinstance(out[0], ev.Malformed) and isinstance(out[-1], ev.Message)
    assert others(client.feed(b"@only-tags\r\n")) == [ev.Malformed("no command in '@only-tags'")]
    assert others(client.feed(b":bob!b@h PRIVMSG\r\n")) == [ev.Malformed("PRIVMSG without target, text or source")]


def test_casemapping() -> None:
    client = registered()
    assert client.casefold("Nick[]\\~") == "nick{}|^"
    client.feed(b":irc.test 005 alice CASEMAPPING=ascii :ok\r\n")
    assert client.casefold("Nick[]") == "nick[]"


def test_parse_time() -> None:
    assert parse_time("2024-01-02T03:04:05Z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("garbage") is None
    assert parse_time(None) is None


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_feeding_arbitrary_bytes_never_raises(chunks: list[bytes]) -> None:
    client = registered()
    for chunk in chunks:
        for event in client.feed(chunk):
            assert not isinstance(event, ev.Send) or isinstance(event.message, IrcMessage)


def test_a_line_whose_command_is_not_irc_is_malformed() -> None:
    client = IrcClient("alice")
    events = client.feed(b"\x16\x03\x01\x00junk\r\nHTTP/1.1 400 Bad Request\r\n:srv 001 alice :hi\r\nping :x\r\n")
    malformed = [e for e in events if isinstance(e, ev.Malformed)]
    assert len(malformed) == 2 and all("not an IRC command" in e.reason for e in malformed)
    assert client.welcomed  # the numeric went through
    assert [e.message.command for e in events if isinstance(e, ev.Send)] == ["PONG"]  # commands are case-blind
