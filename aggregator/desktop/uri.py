"""Parse the links a desktop hands us (``xmpp:``, ``matrix:``, ``irc:``/``ircs:``, ``aggregator:``).

A link comes from a web page or another program: untrusted. Each parser accepts only the shapes it
knows, checks every part against the protocol's rules, and raises ``BadLinkError`` otherwise; nothing
is resolved or contacted here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from aggregator.accounts.config import AccountConfig
from aggregator.api import ConfigurationError, ConversationKey, ConversationKind

MAX_LINK = 2048
MAX_BODY = 4096
SCHEMES = ("aggregator", "xmpp", "matrix", "irc", "ircs")


class BadLinkError(ConfigurationError):
    """The link is not one we can open (wrong scheme, malformed, or a part breaks the protocol's rules)."""


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """Where a link points: a person (DIRECT) or a room on one protocol, maybe on one named account."""

    protocol: str
    kind: ConversationKind
    handle: str
    host: str | None = None  # IRC: the network's server; others: None
    account: str | None = None  # aggregator: links name the account
    body: str | None = None  # xmpp:...?message;body=... pre-fills the composer

    def to_json(self) -> dict[str, str | None]:
        return {
            "protocol": self.protocol,
            "kind": "room" if self.kind is ConversationKind.ROOM else "direct",
            "handle": self.handle,
            "host": self.host,
            "account": self.account,
            "body": self.body,
        }


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PORT = re.compile(r"^[0-9]{1,5}$")
_XMPP_LOCAL_FORBIDDEN = set("\"&'/:<>@") | {" "}
_MATRIX_LOCAL = re.compile(r"^[A-Za-z0-9._=+/-]{1,255}$")  # user localparts (any case: historical ids)
_MATRIX_ROOMID_LOCAL = re.compile(r"^[A-Za-z0-9._~+/=-]{1,255}$")
_IRC_CHANNEL_FORBIDDEN = set(" ,:\x07")
_IRC_NICK = re.compile(r"^[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,63}$")


def _no_controls(text: str, what: str, *, allow_newlines: bool = False) -> str:
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn") and not (allow_newlines and ch in "\n\t"):
            raise BadLinkError(f"the {what} contains a control or invisible character")
    return text


def _hostname(text: str, what: str = "server name") -> str:
    host = text.rstrip(".").lower()
    if not host or len(host) > 253:
        raise BadLinkError(f"the {what} {text!r} is empty or too long")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadLinkError(f"the {what} {text!r} is not a valid host name") from None
    if not all(_LABEL.match(label) for label in ascii_host.split(".")):
        raise BadLinkError(f"the {what} {text!r} is not a valid host name")
    return host


def _server_name(text: str) -> str:
    """A Matrix server name: host name, IPv4 or [IPv6], with an optional port."""
    host, sep, port = text.rpartition(":") if not text.endswith("]") else (text, "", "")
    if not sep:
        host = text
    elif not _PORT.match(port) or not 0 < int(port) < 65536:
        raise BadLinkError(f"the server name {text!r} has a bad port")
    if host.startswith("[") and host.endswith("]"):
        if not re.fullmatch(r"\[[0-9A-Fa-f:.]{2,45}\]", host):
            raise BadLinkError(f"the server name {text!r} is not a valid address")
        return text
    return _hostname(host) + (f":{port}" if sep else "")


def parse_link(link: str) -> LinkTarget:
    if len(link) > MAX_LINK:
        raise BadLinkError(f"the link is longer than {MAX_LINK} characters")
    _no_controls(link, "link")
    if any(ch.isspace() for ch in link):
        raise BadLinkError("the link contains white space")
    scheme, colon, _rest = link.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in SCHEMES:
        raise BadLinkError(f"not a link Aggregator opens (it opens {', '.join(s + ':' for s in SCHEMES)})")
    parser = {"xmpp": _xmpp, "matrix": _matrix, "irc": _irc, "ircs": _irc}.get(scheme, _aggregator)
    try:
        return parser(link)
    except BadLinkError:
        raise
    except ValueError as exc:  # percent-escapes that are not UTF-8, a bad port, a malformed query...
        raise BadLinkError(f"the link is malformed ({exc.__class__.__name__})") from None


def _xmpp(link: str) -> LinkTarget:
    """RFC 5122: ``xmpp:local@domain[/resource][?action[;key=value...]]``; no authority part."""
    parts = urlsplit(link)
    if parts.netloc or link[len("xmpp:") :].startswith("//"):
        raise BadLinkError("xmpp: links with an account part (xmpp://...) are not supported")
    if parts.fragment:
        raise BadLinkError("xmpp: links carry no fragment")
    jid = unquote(parts.path, errors="strict")
    bare = jid.split("/", 1)[0]
    local, at, domain = bare.rpartition("@")
    if not at or not local:
        raise BadLinkError("an xmpp: link must name a person or room (name@server)")
    if len(local) > 1023 or _XMPP_LOCAL_FORBIDDEN & set(local):
        raise BadLinkError(f"{local!r} is not a valid XMPP user name")
    _no_controls(local, "XMPP address")
    handle = f"{local}@{_hostname(domain)}"
    kind = ConversationKind.DIRECT
    body: str | None = None
    if parts.query:
        action, _, params = parts.query.partition(";")
        if action not in ("message", "join", "roster", "subscribe"):
            raise BadLinkError(f"the xmpp: action {action!r} is not supported")
        if action == "join":
            kind = ConversationKind.ROOM
        for param in filter(None, params.split(";")):
            key, eq, value = param.partition("=")
            if not eq:
                raise BadLinkError(f"the xmpp: parameter {param!r} has no value")
            if action == "message" and key == "body":
                body = _no_controls(unquote(value, errors="strict"), "message", allow_newlines=True)
                if len(body) > MAX_BODY:
                    raise BadLinkError(f"the message in the link is longer than {MAX_BODY} characters")
    return LinkTarget("xmpp", kind, handle.lower() if kind is ConversationKind.ROOM else handle, body=body)


_MATRIX_SIGILS = {"u": ("@", ConversationKind.DIRECT), "r": ("#", ConversationKind.ROOM),
                  "roomid": ("!", ConversationKind.ROOM)}


def _matrix(link: str) -> LinkTarget:
    """The Matrix URI scheme (spec, appendices): ``matrix:u/user:server``, ``matrix:r/alias:server``,
    ``matrix:roomid/id:server``, maybe followed by ``/e/event`` and ``?action=join|chat&via=...``."""
    parts = urlsplit(link)
    if parts.netloc or link[len("matrix:") :].startswith("//"):
        raise BadLinkError("matrix: links with an authority (matrix://...) are not supported")
    segments = parts.path.split("/")
    if len(segments) not in (2, 4) or segments[0] not in _MATRIX_SIGILS:
        raise BadLinkError("a matrix: link is matrix:u/user:server, matrix:r/room:server or matrix:roomid/id:server")
    sigil, kind = _MATRIX_SIGILS[segments[0]]
    if len(segments) == 4 and (segments[0] == "u" or segments[2] != "e" or not segments[3]):
        raise BadLinkError("only a room link may point at an event (/e/...)")
    ident = unquote(segments[1], errors="strict")
    local, colon, server = ident.partition(":")
    if not colon or not local:
        raise BadLinkError(f"{ident!r} is not a Matrix identifier (name:server)")
    pattern = _MATRIX_ROOMID_LOCAL if sigil == "!" else _MATRIX_LOCAL
    if not pattern.match(local):
        raise BadLinkError(f"{local!r} is not a valid Matrix name")
    handle = f"{sigil}{local}:{_server_name(server)}"
    if len(handle) > 255:
        raise BadLinkError("the Matrix identifier is longer than 255 characters")
    for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query)):
        if key == "action" and value not in ("join", "chat"):
            raise BadLinkError(f"the matrix: action {value!r} is not supported")
        if key == "via":
            _server_name(value)
    return LinkTarget("matrix", kind, handle)


def _irc(link: str) -> LinkTarget:
    """``irc://host[:port]/channel[,isnick|,needpass...]`` (the IRC URL draft); ircs:// alike."""
    parts = urlsplit(link)
    if not parts.netloc or parts.username or parts.password:
        raise BadLinkError("an irc: link is irc://server/channel (no user name or password in it)")
    try:
        port = parts.port
    except ValueError:
        raise BadLinkError("the irc: link has a bad port") from None
    if port == 0:
        raise BadLinkError("the irc: link has a bad port")
    host = _hostname(parts.hostname or "", "IRC server")
    if parts.query or parts.fragment:
        raise BadLinkError("irc: links take no query; write a channel as irc://server/channel")
    target, *flags = unquote(parts.path.lstrip("/"), errors="strict").split(",")
    if not target or "/" in target:
        raise BadLinkError("an irc: link must name one channel or nick: irc://server/channel")
    for flag in flags:
        if flag not in ("isnick", "ischannel", "needkey", "needpass", "isserver"):
            raise BadLinkError(f"the irc: flag {flag!r} is not supported")
    _no_controls(target, "channel name")
    if "isnick" in flags:
        if not _IRC_NICK.match(target):
            raise BadLinkError(f"{target!r} is not a valid IRC nick")
        return LinkTarget("irc", ConversationKind.DIRECT, target, host=host)
    channel = target if target[0] in "#&+!" else f"#{target}"
    if len(channel) > 200 or _IRC_CHANNEL_FORBIDDEN & set(channel):
        raise BadLinkError(f"{channel!r} is not a valid IRC channel name")
    return LinkTarget("irc", ConversationKind.ROOM, channel, host=host)


def _aggregator(link: str) -> LinkTarget:
    """Our own: ``aggregator:open?account=xmpp%3Aalice%40example.org&to=HANDLE`` (a person) or ``...&room=HANDLE``."""
    parts = urlsplit(link)
    if parts.netloc or parts.path != "open" or parts.fragment:
        raise BadLinkError("an aggregator: link is aggregator:open?account=ACCOUNT&to=ADDRESS (or &room=ROOM)")
    try:
        query = dict(parse_qsl(parts.query, strict_parsing=True, errors="strict"))
    except ValueError:
        raise BadLinkError("the aggregator: link's query is malformed") from None
    if set(query) - {"account", "to", "room"} or "account" not in query or ("to" in query) == ("room" in query):
        raise BadLinkError("an aggregator: link names account= and exactly one of to= or room=")
    account = query["account"]
    if not re.fullmatch(r"[a-z][a-z0-9]{0,15}:[^\s]{1,255}", account):
        raise BadLinkError(f"{account!r} is not an account id (protocol:address)")
    _no_controls(account, "account id")
    handle = _no_controls(query.get("to") or query["room"], "address")
    if len(handle) > 255:
        raise BadLinkError("the address is longer than 255 characters")
    kind = ConversationKind.ROOM if "room" in query else ConversationKind.DIRECT
    return LinkTarget("", kind, handle, account=account)


def candidates(target: LinkTarget, accounts: Iterable[AccountConfig]) -> list[ConversationKey]:
    """The conversations the link may mean, best first: one per enabled account of its protocol (an IRC
    link only on accounts of that server; an aggregator: link only its own account)."""
    keys = []
    for account in accounts:
        if not account.enabled:
            continue
        if target.account is not None:
            if account.id != target.account:
                continue
        elif account.protocol != target.protocol or (target.host is not None and _host_of(account) != target.host):
            continue
        keys.append(ConversationKey(account.id, target.kind, target.handle))
    return keys


def _host_of(account: AccountConfig) -> str | None:
    if not account.server:
        return None
    server = account.server.split("://", 1)[-1]
    return server.rsplit(":", 1)[0].strip("[]").rstrip(".").lower() if ":" in server else server.rstrip(".").lower()
