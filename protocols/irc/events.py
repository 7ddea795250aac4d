"""What the sans-I/O ``IrcClient`` reports: typed, frozen events (``Send`` carries a line to write)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from protocols.irc.message import IrcMessage


@dataclass(frozen=True, slots=True)
class Send:
    """A line the transport must write (through the flood queue)."""

    message: IrcMessage


@dataclass(frozen=True, slots=True)
class Registered:
    """Registration finished (welcome and MOTD end); ``nick`` is the nick we got."""

    nick: str


@dataclass(frozen=True, slots=True)
class SaslFailed:
    reason: str


@dataclass(frozen=True, slots=True)
class RegistrationFailed:
    reason: str


@dataclass(frozen=True, slots=True)
class Message:
    """A PRIVMSG or NOTICE (CTCP ACTION as ``action``)."""

    source: str
    target: str
    text: str
    command: str  # PRIVMSG or NOTICE
    action: bool
    is_echo: bool
    msgid: str | None
    time: datetime | None
    label: str | None
    batch_type: str | None
    account: str | None
    raw: IrcMessage


@dataclass(frozen=True, slots=True)
class DccRequest:
    """A CTCP ``DCC ...`` request in a PRIVMSG to us (``text``: the CTCP body, e.g. ``DCC SEND f 1 2 3``)."""

    source: str
    target: str
    text: str


@dataclass(frozen=True, slots=True)
class Joined:
    channel: str
    nick: str
    is_self: bool
    account: str | None = None


@dataclass(frozen=True, slots=True)
class Parted:
    channel: str
    nick: str
    is_self: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Kicked:
    channel: str
    nick: str
    by: str
    is_self: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Quit:
    nick: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NickChanged:
    old: str
    new: str
    is_self: bool


@dataclass(frozen=True, slots=True)
class Topic:
    channel: str
    topic: str
    set_by: str | None = None


@dataclass(frozen=True, slots=True)
class Names:
    """The full member list of ``channel`` (at the end of a NAMES reply), prefixes stripped."""

    channel: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Away:
    """``message`` None: ``nick`` is back."""

    nick: str
    message: str | None


@dataclass(frozen=True, slots=True)
class WhoReply:
    channel: str
    nick: str
    away: bool


@dataclass(frozen=True, slots=True)
class Mode:
    target: str
    modes: tuple[str, ...]
    by: str | None


@dataclass(frozen=True, slots=True)
class Pong:
    token: str


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error numeric (4xx/5xx, or FAIL); ``label`` when it answers a labelled command."""

    code: str
    text: str
    label: str | None


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """labeled-response ``ACK``: the labelled command had no other reply."""

    label: str


@dataclass(frozen=True, slots=True)
class ServerError:
    """The server's ``ERROR`` line: it is about to close the connection."""

    text: str


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """``900 RPL_LOGGEDIN``: we are logged in to ``account`` (through SASL ``mechanism``, if known)."""

    account: str
    mechanism: str | None


@dataclass(frozen=True, slots=True)
class HistoryEnd:
    """A ``chathistory`` batch for ``target`` ended after ``count`` messages (``label``: of the request)."""

    target: str
    count: int
    label: str | None


@dataclass(frozen=True, slots=True)
class StsUpgrade:
    """IRCv3 STS on an insecure connection: close it and connect again with TLS to ``port``."""

    port: int


@dataclass(frozen=True, slots=True)
class StsPolicy:
    """IRCv3 STS on a secure connection: use only TLS with this host for ``duration`` s (0: forget it)."""

    duration: int
    preload: bool = False


@dataclass(frozen=True, slots=True)
class Online:
    """``730 RPL_MONONLINE`` (or an ``ISON`` reply, ``complete``): these monitored nicks are online; with
    ``complete``, every other nick asked about is offline."""

    nicks: tuple[str, ...]
    complete: bool = False


@dataclass(frozen=True, slots=True)
class Offline:
    """``731 RPL_MONOFFLINE``: these monitored nicks are offline."""

    nicks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MonitorListFull:
    """``734 ERR_MONLISTFULL``: the server monitors at most ``limit`` nicks; ``nicks`` were not added."""

    limit: int
    nicks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Invited:
    """``INVITE``: ``by`` invites us to ``channel``."""

    channel: str
    by: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line that could not be parsed; the client goes on."""

    reason: str


Event = (
    Send | Registered | SaslFailed | RegistrationFailed | Message | Joined | Parted | Kicked | Quit | NickChanged
    | Topic | Names | Away | WhoReply | Mode | Pong | ErrorReply | Acknowledged | ServerError | LoggedIn
    | HistoryEnd | StsUpgrade | StsPolicy | Online | Offline | MonitorListFull | Invited | DccRequest | Malformed
)  # fmt: skip
