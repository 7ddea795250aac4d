"""A small scripted IRC server (asyncio, 127.0.0.1, plain TCP or TLS) that behaves as the specifications
allow rather than as InspIRCd does: no ``echo-message`` unless asked, capabilities and SASL mechanisms as
the test says, and faults on demand (``freeze()``/``thaw()`` stop and restart reading without closing, ``crash()``
closes every connection and loses what was not read yet;
``close_after`` drops a connection when it receives one more PRIVMSG than that, unprocessed).

It records what it processed: ``privmsgs`` (connection number, target, text) and every line read
(``lines``), so a test asserts what reached the server, exactly once, and that nothing was injected.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from protocols.irc.message import IrcMessage, IrcParseError, parse

HOST = "127.0.0.1"
SERVER = "scripted.test"

#: What the SASL exchange of one connection answers: called with (mechanism, decoded client payloads so
#: far, the connection) and returns the lines to send (AUTHENTICATE challenges, 900/903 or 904).
SaslScript = Callable[[str, list[bytes], "ScriptedConnection"], list[str]]


@dataclass(frozen=True, slots=True)
class Received:
    connection: int
    target: str
    text: str


@dataclass(slots=True)
class ScriptedConnection:
    number: int
    writer: asyncio.StreamWriter
    tls: bool
    nick: str = "*"
    registered: bool = False
    user_seen: bool = False
    negotiating: bool = False
    sasl_mechanism: str | None = None
    sasl_payloads: list[bytes] = field(default_factory=list)
    sasl_chunks: str = ""
    privmsgs: int = 0
    quit_reason: str | None = None
    dead: bool = False
    enabled: set[str] = field(default_factory=set)

    def send(self, line: str) -> None:
        self.writer.write(line.encode() + b"\r\n")


class ScriptedIrcServer:
    def __init__(
        self,
        *,
        caps: str = "",
        tls_caps: str | None = None,
        close_after: int | None = None,
        sasl: SaslScript | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.caps = caps
        self.tls_caps = caps if tls_caps is None else tls_caps
        self.close_after = close_after
        #: While True, PINGs are not answered (everything else is): ``release_pongs()`` answers them.
        self.hold_pongs = False
        self._held: list[tuple[ScriptedConnection, str]] = []
        self.sasl = sasl
        self.privmsgs: list[Received] = []
        self.lines: list[tuple[int, str]] = []
        self.connections: list[ScriptedConnection] = []
        self.closed: list[int] = []  # connections that ended (either side)
        self._tls_context = tls_context
        self._servers: list[asyncio.Server] = []
        self._running = asyncio.Event()
        self._running.set()
        self._changed = asyncio.Event()
        self.port = 0
        self.tls_port = 0

    async def __aenter__(self) -> ScriptedIrcServer:
        plain = await asyncio.start_server(lambda r, w: self._serve(r, w, tls=False), HOST, 0)
        self._servers.append(plain)
        self.port = plain.sockets[0].getsockname()[1]
        if self._tls_context is not None:
            secure = await asyncio.start_server(
                lambda r, w: self._serve(r, w, tls=True), HOST, 0, ssl=self._tls_context
            )
            self._servers.append(secure)
            self.tls_port = secure.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._running.set()
        for server in self._servers:
            server.close()
        for connection in self.connections:
            connection.writer.close()

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def tls_address(self) -> str:
        return f"{HOST}:{self.tls_port}"

    # -------------------------------------------------------------------------------------- faults

    def freeze(self) -> None:
        """Stop reading from every connection (they stay open; the kernel buffers what clients send)."""
        self._running.clear()

    def thaw(self) -> None:
        self._running.set()

    def announce(self, line: str) -> None:
        """Sends ``line`` (``{nick}`` is each client's nick) to every open connection."""
        for connection in self.connections:
            if not connection.dead and not connection.writer.is_closing():
                connection.send(line.replace("{nick}", connection.nick))

    def release_pongs(self) -> None:
        self.hold_pongs = False
        held, self._held = self._held, []
        for connection, pong in held:
            if not connection.dead:
                connection.send(pong)

    def crash(self) -> None:
        """Close every connection at once; whatever the clients sent and was not yet read is lost."""
        for connection in self.connections:
            connection.dead = True
            connection.writer.close()

    def texts(self) -> list[str]:
        return [r.text for r in self.privmsgs]

    async def wait_for(self, check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                self._changed.clear()
                await self._changed.wait()

    def _note(self) -> None:
        self._changed.set()

    # ------------------------------------------------------------------------------------ protocol

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, tls: bool) -> None:
        connection = ScriptedConnection(len(self.connections) + 1, writer, tls)
        self.connections.append(connection)
        self._note()
        try:
            while True:
                await self._running.wait()
                raw = await reader.readline()
                await self._running.wait()
                if not raw or _is_dead(connection):
                    break
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                self.lines.append((connection.number, text))
                self._note()
                try:
                    message = parse(text)
                except IrcParseError:
                    continue
                if not self._handle(connection, message):
                    break
                await writer.drain()
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.closed.append(connection.number)
            self._note()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _handle(self, c: ScriptedConnection, m: IrcMessage) -> bool:
        """Answers one line; False to close the connection (without handling the line)."""
        command = m.command
        if command == "CAP":
            return self._cap(c, m)
        if command == "AUTHENTICATE":
            self._authenticate(c, m)
        elif command == "NICK":
            c.nick = m.param(0)
            self._maybe_welcome(c)
        elif command == "USER":
            c.user_seen = True
            self._maybe_welcome(c)
        elif command == "PING":
            pong = f":{SERVER} PONG {SERVER} :{m.param(-1)}"
            if self.hold_pongs:
                self._held.append((c, pong))
            else:
                c.send(pong)
        elif command in ("PRIVMSG", "NOTICE"):
            if self.close_after is not None and c.privmsgs >= self.close_after:
                return False
            c.privmsgs += 1
            self.privmsgs.append(Received(c.number, m.param(0), m.param(1)))
            if "echo-message" in c.enabled:  # no labels, no msgid: as a server may do it
                c.send(f":{c.nick}!u@h {command} {m.param(0)} :{m.param(1)}")
        elif command == "QUIT":
            c.quit_reason = m.param(0)
            return False
        elif command == "JOIN":
            c.send(f":{c.nick}!u@h JOIN {m.param(0)}")
            c.send(f":{SERVER} 366 {c.nick} {m.param(0)} :End of /NAMES list.")
        return True

    def _cap(self, c: ScriptedConnection, m: IrcMessage) -> bool:
        sub = m.param(0).upper()
        caps = self.tls_caps if c.tls else self.caps
        if sub == "LS":
            c.negotiating = True
            c.send(f":{SERVER} CAP {c.nick} LS :{caps}")
        elif sub == "REQ":
            offered = {item.partition("=")[0] for item in caps.split()}
            wanted = m.param(1).split()
            verdict = "ACK" if all(w.lstrip("-") in offered for w in wanted) else "NAK"
            if verdict == "ACK":
                c.enabled.update(w for w in wanted if not w.startswith("-"))
            c.send(f":{SERVER} CAP {c.nick} {verdict} :{m.param(1)}")
        elif sub == "END":
            c.negotiating = False
            self._maybe_welcome(c)
        return True

    def _authenticate(self, c: ScriptedConnection, m: IrcMessage) -> None:
        if self.sasl is None:
            c.send(f":{SERVER} 904 {c.nick} :SASL authentication failed")
            return
        if c.sasl_mechanism is None:
            c.sasl_mechanism = m.param(0).upper()
            c.sasl_payloads = []
            for line in self.sasl(c.sasl_mechanism, c.sasl_payloads, c):
                c.send(line)
            return
        chunk = m.param(0)
        if chunk == "*":
            c.sasl_mechanism = None
            c.send(f":{SERVER} 906 {c.nick} :SASL authentication aborted")
            return
        if chunk != "+":
            c.sasl_chunks += chunk
        if len(chunk) == 400:
            return  # more follows
        payload = base64.b64decode(c.sasl_chunks) if c.sasl_chunks else b""
        c.sasl_chunks = ""
        c.sasl_payloads.append(payload)
        for line in self.sasl(c.sasl_mechanism, c.sasl_payloads, c):
            c.send(line)
            if " 903 " in line or " 904 " in line:
                c.sasl_mechanism = None

    def _maybe_welcome(self, c: ScriptedConnection) -> None:
        if c.registered or c.negotiating or c.nick == "*" or not c.user_seen:
            return
        c.registered = True
        c.send(f":{SERVER} 001 {c.nick} :Welcome to the scripted network {c.nick}")
        c.send(f":{SERVER} 005 {c.nick} CASEMAPPING=rfc1459 CHANTYPES=# :are supported by this server")
        c.send(f":{SERVER} 422 {c.nick} :MOTD File is missing")


def _is_dead(connection: ScriptedConnection) -> bool:
    """Whether ``crash()`` ended the connection (what it had buffered is then lost, not processed)."""
    return connection.dead
