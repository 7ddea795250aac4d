"""The client side of the control socket (used by the CLI)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from aggregator.api import AggregatorError
from aggregator.control.protocol import MAX_REQUEST, decode, encode


class ControlUnavailableError(AggregatorError):
    """No running instance answers on the profile's control socket."""


def request(path: Path, payload: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(str(path))
        except OSError as exc:
            raise ControlUnavailableError(f"the running instance does not answer on {path}: {exc}") from None
        sock.sendall(encode(payload))
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
            if len(buf) > MAX_REQUEST:
                raise AggregatorError("the running instance sent an oversized reply")
        if not buf:
            raise AggregatorError("the running instance closed the control connection without answering")
        return decode(buf)
    except TimeoutError:
        raise AggregatorError(f"the running instance did not answer within {timeout:.0f} s") from None
    finally:
        sock.close()
