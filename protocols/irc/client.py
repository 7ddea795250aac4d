"""``IrcClient``: the IRC client protocol as a sans-I/O state machine.

``start()`` gives the first lines to send; ``feed(bytes)`` takes what the server sent and returns
typed events (``events.Send`` for each line to write, in order). Command methods (``privmsg``,
``join``...) return the lines to write. Nothing here touches a socket or a clock.

Every command method checks what a person typed before it becomes a parameter (``params``): a target
that no line can carry (a space, a comma, CR, LF, NUL, a leading ``:``...) raises ``InvalidTarget`` and
nothing is sent; free text loses its line breaks; a body goes out as one PRIVMSG per line.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from protocols.irc import events as ev
from protocols.irc.casemap import DEFAULT_CASEMAPPING, casefold
from protocols.irc.decoding import DEFAULT_FALLBACK, decode
from protocols.irc.message import IrcMessage, IrcParseError, parse
from protocols.irc.params import InvalidTarget, check_nick, check_target, clean_body_line, clean_text
from protocols.irc.scram import MECHANISM as SCRAM
from protocols.irc.scram import ScramClient, ScramError
from protocols.irc.split import body_budget, split_message

#: Capabilities we ask for when the server offers them.
WANTED_CAPS = frozenset(
    {
        "server-time", "message-tags", "msgid", "echo-message", "batch", "labeled-response", "away-notify",
        "account-tag", "extended-join", "multi-prefix", "sasl", "cap-notify", "userhost-in-names",
        "draft/chathistory", "chathistory",
    }
)  # fmt: skip
#: The names of the IRCv3 CHATHISTORY capability (the draft one is what servers offer today).
CHATHISTORY_CAPS = ("chathistory", "draft/chathistory")
#: A line longer than this (tags included) without a line break is cut off and reported.
MAX_LINE = 8191 + 512
_SASL_CHUNK = 400
#: A command is a word of letters or a three-digit numeric (anything else: the peer is not IRC).
_COMMAND = re.compile(r"[A-Z]+|[0-9]{3}", re.ASCII)
_SASL_FAILURES = {"902", "904", "905", "906", "908"}


def format_time(value: datetime) -> str:
    """``value`` as a ``server-time`` / CHATHISTORY timestamp (UTC, milliseconds, ``Z``)."""
    utc = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_time(value: str | None) -> datetime | None:
    """A ``server-time`` tag (``2024-01-02T03:04:05.678Z``) as an aware UTC datetime, or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(slots=True)
class _Batch:
    type: str
    label: str | None
    parent: str | None
    target: str = ""
    count: int = 0


#: How many characters of targets one MONITOR or ISON line carries (well within 512 bytes).
TARGETS_PER_LINE = 400


def _joined(nicks: Iterable[str], separator: str) -> list[str]:
    """``nicks`` (each checked as a target) joined by ``separator`` into pieces of at most ``TARGETS_PER_LINE``."""
    chunks: list[str] = []
    current = ""
    for nick in nicks:
        check_target(nick)
        if current and len(current) + 1 + len(nick) > TARGETS_PER_LINE:
            chunks.append(current)
            current = ""
        current = f"{current}{separator}{nick}" if current else nick
    if current:
        chunks.append(current)
    return chunks


class IrcClient:
    def __init__(
        self,
        nick: str,
        *,
        username: str | None = None,
        realname: str = "",
        password: str | None = None,
        sasl_account: str | None = None,
        sasl_external: bool = False,
        encoding_fallback: str = DEFAULT_FALLBACK,
        wanted_caps: Iterable[str] = WANTED_CAPS,
        secure: bool = False,
    ) -> None:
        self.desired_nick = check_nick(nick)
        self.nick = nick
        self._username = username or "".join(c for c in nick if c.isascii() and c.isalnum())[:10] or "user"
        self._realname = clean_text(realname).strip() or nick
        self._password = password
        self._sasl_account = sasl_account or nick
        self._sasl_external = sasl_external
        #: The SASL mechanism in use (``EXTERNAL``, ``SCRAM-SHA-256`` or ``PLAIN``) once chosen.
        self.sasl_mechanism: str | None = None
        self._scram: ScramClient | None = None
        self._scram_step = 0
        self._sasl_in = ""  # base64 of a server SASL message that comes in 400-byte pieces
        self._tried_mechanisms: set[str] = set()
        #: Whether the connection is TLS (STS: an insecure one is upgraded, only a secure one sets a policy).
        self.secure = secure
        #: The services account we are logged in to (``900 RPL_LOGGEDIN``), if any.
        self.account: str | None = None
        self._fallback = encoding_fallback
        self._wanted = frozenset(wanted_caps)
        self.available_caps: dict[str, str] = {}
        self.enabled_caps: set[str] = set()
        self.isupport: dict[str, str] = {}
        self.casemapping = DEFAULT_CASEMAPPING
        self.chantypes = "#&"
        self.prefix_chars = "~&@%+"
        self.registered = False
        self.welcomed = False
        self.channels: set[str] = set()  # casefolded
        self._buffer = b""
        self._ls_done = False
        self._sasl_done = False
        self._batches: dict[str, _Batch] = {}
        self._names: dict[str, list[str]] = {}
        self._join_topics: dict[str, str] = {}  # channel -> the topic of RPL_TOPIC, until RPL_TOPICWHOTIME
        self._reclaiming = False
        self._alt_count = itertools.count(1)

    # ------------------------------------------------------------------------------------ helpers

    def casefold(self, name: str) -> str:
        return casefold(name, self.casemapping)

    def is_channel(self, name: str) -> bool:
        return bool(name) and name[0] in self.chantypes

    def is_me(self, nick: str | None) -> bool:
        return nick is not None and self.casefold(nick) == self.casefold(self.nick)

    @property
    def wants_sasl(self) -> bool:
        return self._password is not None or self._sasl_external

    @property
    def supports_chathistory(self) -> bool:
        """Whether CHATHISTORY may be used: the server acknowledged (draft/)chathistory and batch."""
        return "batch" in self.enabled_caps and any(cap in self.enabled_caps for cap in CHATHISTORY_CAPS)

    @property
    def chathistory_limit(self) -> int | None:
        """The server's most messages per CHATHISTORY request (ISUPPORT ``CHATHISTORY``), None: no limit."""
        value = self.isupport.get("CHATHISTORY", "")
        return int(value) if value.isdigit() and int(value) > 0 else None

    def _sasl_mechanism(self) -> str | None:
        """The best mechanism we can use that the server offers (and we have not tried yet): EXTERNAL with
        a client certificate, SCRAM-SHA-256 with the password, PLAIN with the password. A server that lists
        no mechanisms (``sasl`` without a value) is tried with EXTERNAL or PLAIN."""
        offered = [m.upper() for m in self.available_caps.get("sasl", "").split(",") if m]
        untried = [m for m in ("EXTERNAL", SCRAM, "PLAIN") if m not in self._tried_mechanisms]
        for mechanism in untried:
            if mechanism == "EXTERNAL" and not self._sasl_external:
                continue
            if mechanism != "EXTERNAL" and self._password is None:
                continue
            if mechanism in offered or (not offered and mechanism != SCRAM):
                return mechanism
        return None

    def _start_sasl(self, mechanism: str) -> list[ev.Event]:
        self.sasl_mechanism = mechanism
        self._tried_mechanisms.add(mechanism)
        self._scram, self._scram_step, self._sasl_in = None, 0, ""
        return [ev.Send(IrcMessage("AUTHENTICATE", (mechanism,)))]

    # ----------------------------------------------------------------------------------- commands

    def start(self) -> list[IrcMessage]:
        return [
            IrcMessage("CAP", ("LS", "302")),
            IrcMessage("NICK", (self.nick,)),
            IrcMessage("USER", (self._username, "0", "*", self._realname)),
        ]

    def privmsg(
        self, target: str, text: str, *, label: str | None = None, action: bool = False, notice: bool = False
    ) -> list[IrcMessage]:
        """Lines for ``text`` to ``target``, split to fit and at line breaks; the first line carries ``label``.

        Raises ``InvalidTarget`` for a target no line can carry (nothing is sent then)."""
        check_target(target)
        command = "NOTICE" if notice else "PRIVMSG"
        limit = body_budget(self.nick, command, target, action=action)
        lines: list[IrcMessage] = []
        for index, piece in enumerate(split_message(text, limit)):
            body = f"\x01ACTION {piece}\x01" if action else piece
            tags = {}
            if label is not None and "labeled-response" in self.enabled_caps:
                tags["label"] = label if index == 0 else f"{label}.{index}"
            lines.append(IrcMessage(command, (target, body), tags=tags))
        return lines

    def ctcp(self, target: str, body: str) -> list[IrcMessage]:
        """A CTCP request (``\x01body\x01``) to ``target``; ``body`` loses what could end or split it."""
        check_target(target)
        clean = clean_body_line(body)
        return [IrcMessage("PRIVMSG", (target, f"\x01{clean}\x01"))]

    def join(self, channel: str, key: str | None = None) -> list[IrcMessage]:
        check_target(channel)
        if key is not None and key:
            try:
                check_target(key)
            except InvalidTarget:
                raise InvalidTarget(f"the key of {channel} contains a space, a comma or a control character") from None
        return [IrcMessage("JOIN", (channel, key) if key else (channel,))]

    def part(self, channel: str, reason: str = "") -> list[IrcMessage]:
        check_target(channel)
        reason = clean_text(reason)
        return [IrcMessage("PART", (channel, reason) if reason else (channel,))]

    def set_topic(self, channel: str, topic: str) -> list[IrcMessage]:
        check_target(channel)
        return [IrcMessage("TOPIC", (channel, clean_text(topic)))]

    def away(self, message: str | None) -> list[IrcMessage]:
        text = clean_text(message or "")
        if not text.strip():
            return [IrcMessage("AWAY")]
        return [IrcMessage("AWAY", (text,))]

    def ping(self, token: str) -> list[IrcMessage]:
        return [IrcMessage("PING", (check_target(token),))]

    def who(self, mask: str) -> list[IrcMessage]:
        return [IrcMessage("WHO", (check_target(mask),))]

    def whois(self, nick: str) -> list[IrcMessage]:
        return [IrcMessage("WHOIS", (check_target(nick),))]

    @property
    def supports_monitor(self) -> bool:
        """The server announces ``MONITOR`` (ISUPPORT): presence of nicks is pushed (730/731)."""
        return "MONITOR" in self.isupport

    def monitor(self, add: bool, nicks: Iterable[str]) -> list[IrcMessage]:
        """``MONITOR +`` (``add``) or ``-`` lines for ``nicks``, comma-joined and split to fit a line."""
        return [IrcMessage("MONITOR", ("+" if add else "-", chunk)) for chunk in _joined(nicks, ",")]

    def ison(self, nicks: Iterable[str]) -> list[IrcMessage]:
        """``ISON`` lines asking which of ``nicks`` are online (the fallback where there is no MONITOR)."""
        return [IrcMessage("ISON", tuple(chunk.split(" "))) for chunk in _joined(nicks, " ")]

    def change_nick(self, nick: str) -> list[IrcMessage]:
        return [IrcMessage("NICK", (check_nick(nick),))]

    def quit(self, reason: str = "") -> list[IrcMessage]:
        reason = clean_text(reason)
        return [IrcMessage("QUIT", (reason,) if reason else ())]

    def chathistory_after(
        self, target: str, after: datetime, limit: int, *, label: str | None = None
    ) -> list[IrcMessage]:
        """``CHATHISTORY AFTER``: up to ``limit`` messages of ``target`` after ``after``, oldest first."""
        return self._chathistory("AFTER", target, f"timestamp={format_time(after)}", limit, label)

    def chathistory_latest(self, target: str, limit: int, *, label: str | None = None) -> list[IrcMessage]:
        """``CHATHISTORY LATEST <target> * <limit>``: the newest ``limit`` messages of ``target``."""
        return self._chathistory("LATEST", target, "*", limit, label)

    def _chathistory(self, sub: str, target: str, ref: str, limit: int, label: str | None) -> list[IrcMessage]:
        check_target(target)
        if not self.supports_chathistory:
            return []
        server_limit = self.chathistory_limit
        count = max(1, min(limit, server_limit) if server_limit else limit)
        tags = {"label": label} if label is not None and "labeled-response" in self.enabled_caps else {}
        return [IrcMessage("CHATHISTORY", (sub, target, ref, str(count)), tags=tags)]

    def reclaim_nick(self) -> list[IrcMessage]:
        """Tries to get the desired nick back (after a collision at registration)."""
        if not self.registered or self.casefold(self.nick) == self.casefold(self.desired_nick):
            return []
        self._reclaiming = True
        return [IrcMessage("NICK", (self.desired_nick,))]

    # -------------------------------------------------------------------------------------- input

    def feed(self, data: bytes) -> list[ev.Event]:
        """Events for the complete lines in ``data`` (a partial line waits for the next call)."""
        out: list[ev.Event] = []
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        if len(self._buffer) > MAX_LINE:
            out.append(ev.Malformed(f"a line longer than {MAX_LINE} bytes was cut off"))
            lines.append(self._buffer[:MAX_LINE])
            self._buffer = b""
        for raw in lines:
            if len(raw) > MAX_LINE:
                out.append(ev.Malformed(f"a line longer than {MAX_LINE} bytes was cut off"))
                raw = raw[:MAX_LINE]
            text = decode(raw, self._fallback).rstrip("\r")
            if not text.strip():
                continue
            try:
                message = parse(text)
            except IrcParseError as exc:
                out.append(ev.Malformed(str(exc)))
                continue
            if not _COMMAND.fullmatch(message.command):
                out.append(ev.Malformed(f"not an IRC command: {text[:60]!r}"))
                continue
            out.extend(self.handle(message))
        return out

    def handle(self, msg: IrcMessage) -> list[ev.Event]:
        """Events for one parsed message."""
        handler = getattr(self, f"_on_{msg.command.lower()}", None)
        if handler is not None:
            result: list[ev.Event] = handler(msg)
            return result
        if msg.command.isdigit() and msg.command[0] in "45":
            return self._on_error_numeric(msg)
        return []

    # ---------------------------------------------------------------------------- capability / SASL

    def _on_cap(self, msg: IrcMessage) -> list[ev.Event]:
        sub = msg.param(1).upper()
        more = len(msg.params) > 3 and msg.param(2) == "*"
        caps = msg.param(-1).split()
        if sub in ("LS", "NEW"):
            for item in caps:
                name, _, value = item.partition("=")
                self.available_caps[name] = value
            if sub == "LS" and more:
                return []
            if sub == "LS":
                self._ls_done = True
                sts = self._sts()
                if isinstance(sts, ev.StsUpgrade):
                    return [sts]  # nothing more on this connection: the adapter reconnects with TLS
                return ([sts] if sts is not None else []) + self._request_caps()
            out: list[ev.Event] = []
            if any(c.partition("=")[0] == "sts" for c in caps):
                sts = self._sts()
                if isinstance(sts, ev.StsUpgrade):
                    return [sts]
                out += [sts] if sts is not None else []
            new = sorted(c.partition("=")[0] for c in caps if c.partition("=")[0] in self._wanted - {"sasl"})
            return out + ([ev.Send(IrcMessage("CAP", ("REQ", " ".join(new))))] if new else [])
        return self._on_cap_reply(sub, caps)

    def _sts(self) -> ev.StsUpgrade | ev.StsPolicy | None:
        """IRCv3 STS: on an insecure connection a valid ``port`` means "upgrade now"; on a secure one,
        ``duration`` is the policy to remember (0: forget it). Anything else in the value is ignored."""
        if "sts" not in self.available_caps:
            return None
        keys: dict[str, str] = {}
        for item in self.available_caps["sts"].split(","):
            key, _, value = item.partition("=")
            keys.setdefault(key.strip().lower(), value.strip())
        if not self.secure:
            port = keys.get("port", "")
            if port.isascii() and port.isdigit() and 0 < int(port) < 65536:
                return ev.StsUpgrade(int(port))
            return None  # no (valid) port: the policy is ignored on an insecure connection
        duration = keys.get("duration", "")
        if duration.isascii() and duration.isdigit():
            return ev.StsPolicy(int(duration), bool("preload" in keys))
        return None

    def _request_caps(self) -> list[ev.Event]:
        """After the whole ``CAP LS``: ``CAP REQ`` for what we want, or ``CAP END`` when nothing is."""
        want = sorted(c for c in self._wanted if c in self.available_caps)
        if not self.wants_sasl:
            want = [c for c in want if c != "sasl"]
        elif "sasl" not in want:
            return [ev.SaslFailed("the server offers no SASL authentication")]
        return [ev.Send(IrcMessage("CAP", ("REQ", " ".join(want))))] if want else [self._cap_end()]

    def _on_cap_reply(self, sub: str, caps: list[str]) -> list[ev.Event]:
        if sub == "DEL":
            for item in caps:
                self.available_caps.pop(item, None)
                self.enabled_caps.discard(item)
            return []
        if sub == "ACK":
            for item in caps:
                if item.startswith("-"):
                    self.enabled_caps.discard(item[1:])
                else:
                    self.enabled_caps.add(item)
            if self.registered or self._sasl_done:
                return []
            if "sasl" in self.enabled_caps and self.wants_sasl:
                mechanism = self._sasl_mechanism()
                if mechanism is None:
                    self._sasl_done = True
                    offered = self.available_caps.get("sasl", "") or "none"
                    return [ev.SaslFailed(f"the server offers no usable SASL mechanism (it offers {offered})")]
                return self._start_sasl(mechanism)
            return [self._cap_end()]
        if sub == "NAK":
            if self.registered:
                return []
            if self.wants_sasl and "sasl" in caps:
                return [ev.SaslFailed("the server refused the SASL capability")]
            return [self._cap_end()]
        return []

    def _cap_end(self) -> ev.Send:
        self._sasl_done = True
        return ev.Send(IrcMessage("CAP", ("END",)))

    def _on_authenticate(self, msg: IrcMessage) -> list[ev.Event]:
        data = msg.param(0)
        if self.sasl_mechanism == SCRAM:
            if data != "+":
                self._sasl_in += data
                if len(data) == _SASL_CHUNK:
                    return []  # more of the same server message follows
            received, self._sasl_in = self._sasl_in, ""
            return self._scram_answer(received)
        if data != "+":
            return []
        if self.sasl_mechanism == "EXTERNAL" or self._password is None:
            return [ev.Send(IrcMessage("AUTHENTICATE", ("+",)))]
        account = self._sasl_account
        return self._authenticate(f"{account}\0{account}\0{self._password}".encode())

    @staticmethod
    def _authenticate(payload: bytes) -> list[ev.Event]:
        """``AUTHENTICATE`` lines for ``payload``: base64 in pieces of 400, ``+`` after a full last piece."""
        encoded = base64.b64encode(payload).decode("ascii")
        chunks = [encoded[i : i + _SASL_CHUNK] for i in range(0, len(encoded), _SASL_CHUNK)]
        if not chunks or len(chunks[-1]) == _SASL_CHUNK:
            chunks.append("+")
        return [ev.Send(IrcMessage("AUTHENTICATE", (chunk,))) for chunk in chunks]

    def _scram_answer(self, received: str) -> list[ev.Event]:
        """The next SCRAM step: client-first after ``+``, client-final after server-first, ``+`` once the
        server's signature checks out. A server that cannot prove the password ends the exchange."""
        assert self._password is not None
        try:
            if self._scram_step == 0:
                self._scram = ScramClient(self._sasl_account, self._password)
                self._scram_step = 1
                return self._authenticate(self._scram.first())
            assert self._scram is not None
            payload = base64.b64decode(received, validate=True) if received else b""
            if self._scram_step == 1:
                self._scram_step = 2
                return self._authenticate(self._scram.final(payload))
            self._scram.verify(payload)
            self._scram_step = 3
            return [ev.Send(IrcMessage("AUTHENTICATE", ("+",)))]
        except (ScramError, ValueError) as exc:
            self._sasl_done = True
            self._tried_mechanisms.update(("PLAIN", SCRAM))  # never fall back after a bad server proof
            return [ev.Send(IrcMessage("AUTHENTICATE", ("*",))), ev.SaslFailed(f"SCRAM-SHA-256: {exc}")]

    def _on_903(self, msg: IrcMessage) -> list[ev.Event]:
        return [self._cap_end()]

    def _on_907(self, msg: IrcMessage) -> list[ev.Event]:  # already authenticated
        return [self._cap_end()]

    def _on_900(self, msg: IrcMessage) -> list[ev.Event]:  # RPL_LOGGEDIN
        self.account = msg.param(2) or None
        return [ev.LoggedIn(self.account, self.sasl_mechanism)] if self.account else []

    def _on_901(self, msg: IrcMessage) -> list[ev.Event]:  # RPL_LOGGEDOUT
        self.account = None
        return []

    def _sasl_failed(self, msg: IrcMessage) -> list[ev.Event]:
        if msg.command == "908":  # RPL_SASLMECHS: what the server can do; 904 follows
            mechanisms = msg.param(1)
            if mechanisms:
                self.available_caps["sasl"] = mechanisms
            return []
        if self._sasl_done:
            return []
        if msg.command == "904" and self.sasl_mechanism in ("EXTERNAL", SCRAM):
            # The certificate was not accepted (not registered with the account), or the account has no
            # SCRAM secrets (kept from before the server offered SCRAM): try the next mechanism.
            following = self._sasl_mechanism()
            if following is not None:
                return self._start_sasl(following)
        self._sasl_done = True
        return [ev.SaslFailed(msg.param(-1) or f"SASL failed ({msg.command})")]

    _on_902 = _on_904 = _on_905 = _on_906 = _on_908 = _sasl_failed

    # ----------------------------------------------------------------------------------- registration

    def _on_001(self, msg: IrcMessage) -> list[ev.Event]:
        self.welcomed = True
        self.nick = msg.param(0, self.nick)
        return []

    def _on_005(self, msg: IrcMessage) -> list[ev.Event]:
        for token in msg.params[1:-1]:
            key, _, value = token.partition("=")
            if key.startswith("-"):
                self.isupport.pop(key[1:], None)
                continue
            self.isupport[key] = value
            if key == "CASEMAPPING" and value:
                self.casemapping = value.lower()
            elif key == "CHANTYPES":
                self.chantypes = value
            elif key == "PREFIX" and ")" in value:
                self.prefix_chars = value.split(")", 1)[1]
        return []

    def _end_of_motd(self, msg: IrcMessage) -> list[ev.Event]:
        if self.registered:
            return []
        self.registered = True
        return [ev.Registered(self.nick)]

    _on_376 = _on_422 = _end_of_motd

    def _on_433(self, msg: IrcMessage) -> list[ev.Event]:  # nick in use
        if self.welcomed:
            if self._reclaiming:
                self._reclaiming = False
                return []
            return self._on_error_numeric(msg)
        self.nick = self._alternate(self.nick)  # not the server's text: it goes back on the wire
        return [ev.Send(IrcMessage("NICK", (self.nick,)))]

    _on_436 = _on_433

    def _on_432(self, msg: IrcMessage) -> list[ev.Event]:  # erroneous nick
        if self.welcomed:
            return self._on_error_numeric(msg)
        return [ev.RegistrationFailed(f"the server refused the nick {msg.param(1, self.nick)!r}: {msg.param(-1)}")]

    def _alternate(self, taken: str) -> str:
        limit = int(self.isupport.get("NICKLEN", "") or 30) if self.isupport.get("NICKLEN", "").isdigit() else 30
        candidate = taken + "_"
        if len(candidate) > limit:
            candidate = f"{self.desired_nick[: limit - 3]}_{next(self._alt_count)}"
        return candidate

    def _on_ping(self, msg: IrcMessage) -> list[ev.Event]:
        params = tuple(clean_text(param) for param in msg.params)
        if not params or not all(params[:-1]) or any(" " in p or p.startswith(":") for p in params[:-1]):
            params = (clean_text(msg.param(-1)),)  # whatever the server sent, our answer is one valid line
        return [ev.Send(IrcMessage("PONG", params))]

    def _on_pong(self, msg: IrcMessage) -> list[ev.Event]:
        return [ev.Pong(msg.param(-1))]

    def _on_error(self, msg: IrcMessage) -> list[ev.Event]:
        return [ev.ServerError(msg.param(-1))]

    # ------------------------------------------------------------------------------------ batches

    def _on_batch(self, msg: IrcMessage) -> list[ev.Event]:
        ref = msg.param(0)
        if ref.startswith("+") and len(ref) > 1:
            parent = msg.tags.get("batch")
            label = msg.tags.get("label") or (self._batches[parent].label if parent in self._batches else None)
            self._batches[ref[1:]] = _Batch(msg.param(1), label, parent, msg.param(2))
        elif ref.startswith("-"):
            batch = self._batches.pop(ref[1:], None)
            if batch is not None and batch.type in CHATHISTORY_CAPS:
                return [ev.HistoryEnd(batch.target, batch.count, batch.label)]
        return []

    def _batch_info(self, msg: IrcMessage) -> tuple[str | None, str | None]:
        """(type of the innermost non-label batch, label) for a message."""
        label = msg.tags.get("label")
        batch_type: str | None = None
        ref = msg.tags.get("batch")
        seen = 0
        while ref in self._batches and seen < 10:
            batch = self._batches[ref]
            label = label or batch.label
            if batch_type is None and batch.type != "labeled-response":
                batch_type = batch.type
            ref = batch.parent
            seen += 1
        return batch_type, label

    def _on_ack(self, msg: IrcMessage) -> list[ev.Event]:
        label = msg.tags.get("label")
        return [ev.Acknowledged(label)] if label else []

    # ----------------------------------------------------------------------------------- messages

    def _on_privmsg(self, msg: IrcMessage) -> list[ev.Event]:
        if len(msg.params) < 2 or msg.source is None:
            return [ev.Malformed(f"{msg.command} without target, text or source")]
        text = msg.params[1]
        action = False
        if text.startswith("\x01"):
            ctcp = text.strip("\x01")
            verb, _, rest = ctcp.partition(" ")
            if verb.upper() == "DCC" and msg.command == "PRIVMSG" and self.is_me(msg.params[0]):
                return [ev.DccRequest(source=msg.nick or msg.source, target=msg.params[0], text=ctcp)]
            if verb.upper() != "ACTION":
                return []  # other CTCP (VERSION, PING...) is not shown
            text, action = rest, True
        batch_type, label = self._batch_info(msg)
        batch = self._batches.get(msg.tags.get("batch", ""))
        if batch is not None:
            batch.count += 1
        nick = msg.nick or msg.source
        return [
            ev.Message(
                source=nick,
                target=msg.params[0],
                text=text,
                command=msg.command,
                action=action,
                is_echo=self.is_me(nick),
                msgid=msg.tags.get("msgid") or None,
                time=parse_time(msg.tags.get("time")),
                label=label,
                batch_type=batch_type,
                account=msg.tags.get("account") or None,
                raw=msg,
            )
        ]

    _on_notice = _on_privmsg

    # ----------------------------------------------------------------------------------- channels

    def _on_join(self, msg: IrcMessage) -> list[ev.Event]:
        nick = msg.nick or ""
        channel = msg.param(0)
        is_self = self.is_me(nick)
        if is_self:
            self.channels.add(self.casefold(channel))
        account = msg.param(1) if len(msg.params) > 2 and msg.param(1) != "*" else None
        return [ev.Joined(channel, nick, is_self, account)]

    def _on_part(self, msg: IrcMessage) -> list[ev.Event]:
        nick = msg.nick or ""
        channel = msg.param(0)
        is_self = self.is_me(nick)
        if is_self:
            self.channels.discard(self.casefold(channel))
        return [ev.Parted(channel, nick, is_self, msg.param(1))]

    def _on_kick(self, msg: IrcMessage) -> list[ev.Event]:
        channel, nick = msg.param(0), msg.param(1)
        is_self = self.is_me(nick)
        if is_self:
            self.channels.discard(self.casefold(channel))
        return [ev.Kicked(channel, nick, msg.nick or "", is_self, msg.param(2))]

    def _on_quit(self, msg: IrcMessage) -> list[ev.Event]:
        nick = msg.nick or ""
        out: list[ev.Event] = [ev.Quit(nick, msg.param(0))]
        if self.casefold(nick) == self.casefold(self.desired_nick) and not self.is_me(nick):
            out.extend(ev.Send(line) for line in self.reclaim_nick())
        return out

    def _on_nick(self, msg: IrcMessage) -> list[ev.Event]:
        old, new = msg.nick or "", msg.param(0)
        is_self = self.is_me(old)
        if is_self:
            self.nick = new
            self._reclaiming = False
        out: list[ev.Event] = [ev.NickChanged(old, new, is_self)]
        if not is_self and self.casefold(old) == self.casefold(self.desired_nick):
            out.extend(ev.Send(line) for line in self.reclaim_nick())
        return out

    def _on_topic(self, msg: IrcMessage) -> list[ev.Event]:
        return [ev.Topic(msg.param(0), msg.param(1), msg.nick)]

    def _on_332(self, msg: IrcMessage) -> list[ev.Event]:
        self._join_topics[self.casefold(msg.param(1))] = msg.param(2)
        return [ev.Topic(msg.param(1), msg.param(2))]

    def _on_333(self, msg: IrcMessage) -> list[ev.Event]:
        """RPL_TOPICWHOTIME after the topic of a join: who set it (``nick`` or ``nick!user@host``)."""
        channel = msg.param(1)
        topic = self._join_topics.pop(self.casefold(channel), None)
        setter = msg.param(2).partition("!")[0]
        return [ev.Topic(channel, topic, setter or None)] if topic is not None else []

    def _on_353(self, msg: IrcMessage) -> list[ev.Event]:
        channel = msg.param(-2)
        names = self._names.setdefault(self.casefold(channel), [])
        for item in msg.param(-1).split():
            nick = item.lstrip(self.prefix_chars).split("!", 1)[0]
            if nick:
                names.append(nick)
        return []

    def _on_366(self, msg: IrcMessage) -> list[ev.Event]:
        channel = msg.param(1)
        members = self._names.pop(self.casefold(channel), [])
        return [ev.Names(channel, tuple(members))]

    def _on_mode(self, msg: IrcMessage) -> list[ev.Event]:
        return [ev.Mode(msg.param(0), msg.params[1:], msg.nick)]

    def _on_away(self, msg: IrcMessage) -> list[ev.Event]:
        return [ev.Away(msg.nick or "", msg.param(0) or None)]

    def _on_301(self, msg: IrcMessage) -> list[ev.Event]:  # RPL_AWAY (WHOIS, or a PRIVMSG to someone away)
        return [ev.Away(msg.param(1), msg.param(2) or "away")]

    def _on_352(self, msg: IrcMessage) -> list[ev.Event]:  # RPL_WHOREPLY
        if len(msg.params) < 7:
            return [ev.Malformed("a short WHO reply")]
        return [ev.WhoReply(msg.param(1), msg.param(5), "G" in msg.param(6))]

    def _on_730(self, msg: IrcMessage) -> list[ev.Event]:  # RPL_MONONLINE: nick!user@host,...
        nicks = tuple(item.partition("!")[0] for item in msg.param(-1).split(",") if item)
        return [ev.Online(nicks)] if nicks else []

    def _on_731(self, msg: IrcMessage) -> list[ev.Event]:  # RPL_MONOFFLINE: nick,...
        nicks = tuple(item.partition("!")[0] for item in msg.param(-1).split(",") if item)
        return [ev.Offline(nicks)] if nicks else []

    def _on_734(self, msg: IrcMessage) -> list[ev.Event]:  # ERR_MONLISTFULL: me limit targets :text
        limit = msg.param(1)
        nicks = tuple(item for item in msg.param(2).split(",") if item)
        return [ev.MonitorListFull(int(limit) if limit.isdigit() else 0, nicks)]

    def _on_303(self, msg: IrcMessage) -> list[ev.Event]:  # RPL_ISON: me :nick nick ...
        return [ev.Online(tuple(msg.param(-1).split()) if len(msg.params) > 1 else (), complete=True)]

    def _on_invite(self, msg: IrcMessage) -> list[ev.Event]:
        if len(msg.params) < 2 or not msg.nick:
            return [ev.Malformed("INVITE without a target, a channel or a source")]
        if not self.is_me(msg.param(0)):
            return []  # invite-notify: someone else was invited to a channel we are in
        return [ev.Invited(msg.param(1), msg.nick)]

    def _on_fail(self, msg: IrcMessage) -> list[ev.Event]:
        _, label = self._batch_info(msg)
        return [ev.ErrorReply(f"FAIL {msg.param(0)} {msg.param(1)}", msg.param(-1), label)]

    def _on_error_numeric(self, msg: IrcMessage) -> list[ev.Event]:
        _, label = self._batch_info(msg)
        return [ev.ErrorReply(msg.command, " ".join(msg.params[1:]), label)]
