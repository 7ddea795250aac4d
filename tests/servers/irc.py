"""An InspIRCd 3 + Atheme (Debian packages) pair for tests: loopback only, free ports, own directory.

The configs are the verified ones from ``facts/servers.md`` section 2, plus SASL EXTERNAL: InspIRCd
asks for client certificates (``requestclientcert="yes"``; a client without one still connects) and
``sslinfo`` passes their fingerprints to Atheme, which has ``nickserv/cert`` (``CERT ADD``). Both run as direct children of
the test process. Gotchas handled here: InspIRCd needs ``--runasroot`` as root and ``--nofork``; it
raises its own core-size limit to the hard limit and SIGTERM crashes it while ``ssl_gnutls`` is
loaded, so it starts with a hard core limit of 0 and is stopped with SIGKILL (it keeps no state).
Atheme has no environment expansion, so its config is written with the port in it; SIGTERM makes it
save ``services.db``, so registered accounts survive ``stop()``/``start()`` (same ports).
Ready means: ``CAP LS`` on the plain port lists ``sasl`` (Atheme has linked).
"""

# ruff: noqa: E501 (the server configs are kept as verified, one directive a line)
from __future__ import annotations

import asyncio
import contextlib
import resource
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers.certs import TestCerts

HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
#: Seconds for one NickServ registration (InspIRCd finishes a client's registration on a 1 s tick).
REGISTER_TIMEOUT = 20.0

_INSPIRCD_CONF = """\
<config format="xml">
# Written by tests/servers/irc.py. IRC_DIR, IRC_PORT, IRC_TLS_PORT, IRC_LINK_PORT, IRC_CERTS come from the environment.
<server name="irc.localhost" description="IM test ircd" network="TestNet" id="0AA">
<admin name="test" nick="test" email="test@localhost">
<bind address="127.0.0.1" port="&env.IRC_PORT;" type="clients">
<bind address="127.0.0.1" port="&env.IRC_TLS_PORT;" type="clients" sslprofile="tls">
<bind address="127.0.0.1" port="&env.IRC_LINK_PORT;" type="servers">
<pid file="&env.IRC_DIR;/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="&env.IRC_DIR;/inspircd.log">
<files motd="/dev/null">
<dns server="127.0.0.1" timeout="1">
<connect name="main" allow="*" timeout="20" pingfreq="120" hardsendq="1048576" softsendq="1048576"
         recvq="65536" threshold="100000" commandrate="100000" fakelag="no" localmax="1000" globalmax="1000"
         maxchans="100" limit="5000" useident="no" resolvehostnames="no" modes="">
<channels users="100" opers="100">
<options defaultmodes="notH 50:1d" prefixquit="Quit: " syntaxhints="no" announcets="yes" hostintopic="yes" pingwarning="15" splitwhois="no" exemptchanops="">
<performance netbuffersize="10240" somaxconn="128" softlimit="12800" clonesonconnect="no" timeskipwarn="2s" quietbursts="yes">
<security announceinvites="dynamic" hideserver="" userstats="Pu" customversion="" flatlinks="no" hidesplits="no" hideulines="yes" hidebans="no" maxtargets="20">
<limits maxnick="30" maxchan="64" maxmodes="20" maxident="10" maxhost="64" maxquit="255" maxtopic="307" maxkick="255" maxreal="128" maxgecos="128" maxaway="200">
<oper name="root" password="rootpw" host="*@*" type="NetAdmin">
<class name="All" commands="*" privs="*" usermodes="*" chanmodes="*" snomasks="*">
<type name="NetAdmin" classes="All" host="admin.localhost">

<module name="ssl_gnutls">
<sslprofile name="tls" provider="gnutls" certfile="&env.IRC_CERTS;/localhost.crt" keyfile="&env.IRC_CERTS;/localhost.key"
            dhfile="" hash="sha256" requestclientcert="yes" mindhbits="2048" priority="NORMAL">
<module name="starttls">
<module name="sslinfo">

<module name="cap">
<module name="ircv3">
<module name="ircv3_accounttag">
<module name="ircv3_batch">
<module name="ircv3_capnotify">
<module name="ircv3_chghost">
<module name="ircv3_ctctags">
<module name="ircv3_echomessage">
<module name="ircv3_invitenotify">
<module name="ircv3_labeledresponse">
<module name="ircv3_msgid">
<module name="ircv3_servertime">
<module name="namesx">
<module name="uhnames">
<module name="setname">
<module name="monitor">
<module name="chanhistory">
<chanhistory maxlines="50" notice="no" bots="yes" prefixmsg="no">

<module name="spanningtree">
<module name="services_account">
<module name="svshold">
<module name="hidechans">
<module name="sasl">
<sasl target="services.localhost" requiressl="no">
<link name="services.localhost" ipaddr="127.0.0.1" port="&env.IRC_LINK_PORT;" allowmask="127.0.0.1/32"
      sendpass="linkpw" recvpass="linkpw" hidden="no">
<uline server="services.localhost" silent="yes">
<module name="sha256">
"""

_ATHEME_CONF = """\
/* Written by tests/servers/irc.py (Atheme has no environment expansion). */
loadmodule "modules/protocol/inspircd";
loadmodule "modules/backend/opensex";
loadmodule "modules/crypto/pbkdf2v2";
loadmodule "modules/nickserv/main";   loadmodule "modules/nickserv/register";
loadmodule "modules/nickserv/identify"; loadmodule "modules/nickserv/info";
loadmodule "modules/nickserv/logout"; loadmodule "modules/nickserv/ghost";
loadmodule "modules/nickserv/drop";   loadmodule "modules/nickserv/set_core";
loadmodule "modules/nickserv/set_password"; loadmodule "modules/nickserv/help";
loadmodule "modules/nickserv/cert";
loadmodule "modules/saslserv/main";   loadmodule "modules/saslserv/plain";
loadmodule "modules/saslserv/external";

serverinfo {
	name = "services.localhost"; desc = "Atheme test services"; numeric = "00B";
	recontime = 1; netname = "TestNet"; hidehostsuffix = "users.testnet";
	adminname = "test"; adminemail = "test@localhost"; registeremail = "noreply@localhost";
	mta = "/bin/true"; loglevel = { error; info; admin; network; register; };
	maxlogins = 50; maxusers = 50; mdlimit = 30; emaillimit = 1000; emailtime = 1;
	auth = none;
	casemapping = rfc1459;
};
uplink "irc.localhost" { host = "127.0.0.1"; port = @LINK_PORT@; send_password = "linkpw"; receive_password = "linkpw"; };
pbkdf2v2 { digest = "SHA256"; rounds = 10000; };
nickserv { nick = "NickServ"; user = "NickServ"; host = "services.localhost"; real = "Nickname Services"; maxnicks = 5; expire = 0; };
saslserv { nick = "SaslServ"; user = "SaslServ"; host = "services.localhost"; real = "SASL Authentication Agent"; };
general {
	join_chans; leave_chans; uflags = { hidemail; }; cflags = { verbose; guard; };
	flood_msgs = 0; flood_time = 10;
	ratelimit_uses = 1000; ratelimit_period = 1;
	kline_time = 7; clone_time = 0; commit_interval = 1;
	default_clone_allowed = 1000; default_clone_warn = 1000;
	uplink_sendq_limit = 1048576; language = "en"; immune_level = immune; show_entity_id;
};
logfile "#services" { };
"""


class IrcServerError(RuntimeError):
    """InspIRCd or Atheme is missing, did not start, or a registration failed. The message says why."""


@dataclass(frozen=True, slots=True)
class IrcUser:
    nick: str
    password: str


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def _no_core_dumps() -> None:  # runs in the child before exec: InspIRCd cannot raise a hard limit of 0
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _cap_ls(host: str, port: int, timeout: float = 1.0) -> str:
    """The capabilities line(s) of ``CAP LS 302`` without registering ("" if not reachable)."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(b"CAP LS 302\r\n")
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
            lines = data.decode(errors="replace").split("\r\n")
            ls_lines = [line for line in lines if " CAP * LS " in line]
            if ls_lines and " CAP * LS * " not in ls_lines[-1]:
                return " ".join(ls_lines)
        return ""
    return ""


class IrcServer:
    """InspIRCd + Atheme. ``start()``, ``new_user()`` per test, ``stop()`` at the end."""

    def __init__(self, directory: Path, certs: TestCerts) -> None:
        for tool in ("inspircd", "atheme-services"):
            if shutil.which(tool) is None:
                raise IrcServerError(f"{tool} is not installed (apt-get install inspircd atheme-services)")
        self.directory = directory
        self.certs = certs
        self.host = HOST
        self.port = free_port()
        self.tls_port = free_port()
        self.link_port = free_port()
        self.inspircd_conf = directory / "inspircd.conf"
        self.atheme_conf = directory / "atheme.conf"
        self.inspircd_log = directory / "inspircd.log"
        self.atheme_log = directory / "atheme.log"
        self._ircd: subprocess.Popen[bytes] | None = None
        self._services: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.inspircd_conf.write_text(_INSPIRCD_CONF)
        self.atheme_conf.write_text(_ATHEME_CONF.replace("@LINK_PORT@", str(self.link_port)))

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def tls_address(self) -> str:
        return f"localhost:{self.tls_port}"

    @property
    def running(self) -> bool:
        return all(p is not None and p.poll() is None for p in (self._ircd, self._services))

    def log_tail(self, lines: int = 25) -> str:
        parts = []
        for path in (self.inspircd_log, self.directory / "inspircd.out", self.atheme_log,
                     self.directory / "atheme.out"):  # fmt: skip
            try:
                text = "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(empty)"
            except OSError:
                text = "(missing)"
            parts.append(f"--- tail of {path} ---\n{text}")
        return "\n".join(parts)

    def _spawn(self, args: list[str], output_name: str, *, no_core: bool = False) -> subprocess.Popen[bytes]:
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "IRC_DIR": str(self.directory),
            "IRC_PORT": str(self.port),
            "IRC_TLS_PORT": str(self.tls_port),
            "IRC_LINK_PORT": str(self.link_port),
            "IRC_CERTS": str(self.certs.directory),
        }
        with (self.directory / output_name).open("ab") as output:
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                env=env,
                preexec_fn=_no_core_dumps if no_core else None,
            )

    def start(self) -> None:
        """Spawns InspIRCd, then Atheme; returns once ``CAP LS`` shows ``sasl``. Raises ``IrcServerError``."""
        if self.running:
            return
        self.stop()
        started = time.monotonic()
        deadline = started + START_TIMEOUT
        if self._ircd is None:
            self._ircd = self._spawn(
                ["inspircd", "--runasroot", "--nofork", f"--config={self.inspircd_conf}"], "inspircd.out", no_core=True
            )
        while not _accepts(HOST, self.link_port):
            self._check_alive(deadline, "InspIRCd did not open its ports")
            time.sleep(0.01)
        self._services = self._spawn(
            ["atheme-services", "-n", "-c", str(self.atheme_conf), "-D", str(self.directory),
             "-l", str(self.atheme_log), "-p", str(self.directory / "atheme.pid")],
            "atheme.out",
        )  # fmt: skip
        delay = 0.02
        while "sasl" not in _cap_ls(HOST, self.port).split(" :", 1)[-1].replace("=", " ").split():
            self._check_alive(deadline, "Atheme did not link (no 'sasl' in CAP LS)")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)

    def _check_alive(self, deadline: float, what: str) -> None:
        for name, process in (("inspircd", self._ircd), ("atheme-services", self._services)):
            if process is not None and process.poll() is not None:
                self._fail(f"{name} exited with status {process.returncode} while starting")
        if time.monotonic() > deadline:
            self._fail(f"{what} within {START_TIMEOUT:g} s")

    def _fail(self, message: str) -> None:
        self.stop()
        raise IrcServerError(f"{message} (ports {self.port}/{self.tls_port}/{self.link_port}).\n{self.log_tail()}")

    def stop(self) -> None:
        """Atheme with SIGTERM (it saves its database), InspIRCd with SIGKILL (see the module doc). Idempotent."""
        services, self._services = self._services, None
        ircd, self._ircd = self._ircd, None
        if services is not None:
            if services.poll() is None:
                services.send_signal(signal.SIGTERM)
            try:
                services.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                services.kill()
                services.wait(STOP_TIMEOUT)
        if ircd is not None:
            if ircd.poll() is None:
                ircd.kill()
            ircd.wait(STOP_TIMEOUT)

    def pause(self) -> None:
        """SIGSTOP InspIRCd: connections stay open but nothing is answered (lag tests)."""
        if self._ircd is not None and self._ircd.poll() is None:
            self._ircd.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._ircd is not None and self._ircd.poll() is None:
            self._ircd.send_signal(signal.SIGCONT)

    # ---------------------------------------------------------------------------------------- users

    async def register(self, nick: str, password: str) -> IrcUser:
        """Registers the NickServ account ``nick`` over a raw plain connection (about 1 s)."""
        try:
            async with asyncio.timeout(REGISTER_TIMEOUT):
                reader, writer = await asyncio.open_connection(HOST, self.port)
                try:
                    writer.write(f"NICK {nick}\r\nUSER {nick[:10]} 0 * :{nick}\r\n".encode())
                    registered_sent = False
                    while line := await reader.readline():
                        text = line.decode(errors="replace").rstrip("\r\n")
                        words = text.split(" ")
                        if words[0] == "PING":
                            writer.write(f"PONG {' '.join(words[1:])}\r\n".encode())
                        elif len(words) > 1 and words[1] in ("376", "422") and not registered_sent:
                            writer.write(f"PRIVMSG NickServ :REGISTER {password} {nick}@example.invalid\r\n".encode())
                            registered_sent = True
                        elif words[0].startswith(":NickServ!") and "NOTICE" in words[1:2]:
                            if "registered" in text and "not" not in text.split(" :", 1)[-1].split():
                                writer.write(b"QUIT\r\n")
                                return IrcUser(nick, password)
                            raise IrcServerError(f"NickServ refused to register {nick}: {text}")
                        elif len(words) > 1 and words[1] in ("432", "433"):
                            raise IrcServerError(f"cannot use the nick {nick}: {text}")
                    raise IrcServerError(f"the server closed the connection while registering {nick}")
                finally:
                    writer.close()
                    with contextlib.suppress(Exception):
                        await writer.wait_closed()
        except TimeoutError:
            raise IrcServerError(
                f"registering {nick} took more than {REGISTER_TIMEOUT:g} s\n{self.log_tail(10)}"
            ) from None

    async def new_user(self, prefix: str = "u") -> IrcUser:
        """A fresh NickServ account with a random nick and password."""
        return await self.register(f"{prefix}{secrets.token_hex(5)}", secrets.token_urlsafe(12))

    async def new_users(self, count: int, prefix: str = "u") -> list[IrcUser]:
        """``count`` fresh accounts, registered in parallel (each takes ~1 s because of the tick)."""
        return list(await asyncio.gather(*(self.new_user(prefix) for _ in range(count))))

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certs.ca_file))


def _accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False
